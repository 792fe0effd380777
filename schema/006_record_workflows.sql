-- Record workflows (spec 06): state-machine definitions in the Contensis shape, one row per
-- version ("0.1", "0.2" … while unpublished, "1.0" once published, then "1.1" …), and the history
-- of every transition a record went through. A bound collection's own table gains the columns
-- workflowState, workflowVersion, published and publishedAt.
CREATE TABLE "recordWorkflowDefinitions" (
    "id" TEXT NOT NULL,
    "major" INTEGER NOT NULL,
    "minor" INTEGER NOT NULL,
    "published" INTEGER NOT NULL DEFAULT 0,
    "initialState" TEXT NOT NULL,
    "definition" TEXT NOT NULL,
    "createdAt" TEXT NOT NULL,
    "createdById" INTEGER,
    PRIMARY KEY ("id", "major", "minor")
);
CREATE TABLE "recordWorkflowHistory" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "collection" TEXT NOT NULL,
    "recordId" INTEGER NOT NULL,
    "event" TEXT NOT NULL,
    "from" TEXT,
    "to" TEXT,
    "data" TEXT,
    "userId" INTEGER,
    "at" TEXT NOT NULL
);
CREATE INDEX "ix_recordWorkflowHistory_record" ON "recordWorkflowHistory"("collection", "recordId", "id");
