-- Workflows (spec 04): one row per version; versions of one workflow share `key`. At most one
-- version per key is current (`current` is 1 or NULL), and only the current one can be enabled.
-- Executions and jobs: the durable record of runs, with NocoBase's status numbers
-- (queued NULL, started 0, resolved 1, failed -1, error -2, aborted -3, canceled -4).
CREATE TABLE "workflows" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "createdAt" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL,
    "createdById" INTEGER,
    "updatedById" INTEGER,
    "key" TEXT NOT NULL,
    "versionNumber" INTEGER NOT NULL,
    "title" TEXT,
    "type" TEXT NOT NULL,
    "enabled" INTEGER NOT NULL DEFAULT 0,
    "current" INTEGER,
    "sync" INTEGER NOT NULL DEFAULT 0,
    "config" TEXT NOT NULL DEFAULT '{}',
    "options" TEXT NOT NULL DEFAULT '{}',
    "nodes" TEXT NOT NULL DEFAULT '[]',
    UNIQUE ("key", "versionNumber"),
    UNIQUE ("key", "current")
);
CREATE TABLE "executions" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "createdAt" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL,
    "workflowId" INTEGER NOT NULL REFERENCES "workflows"("id") ON DELETE CASCADE,
    "key" TEXT NOT NULL,
    "status" INTEGER,
    "context" TEXT NOT NULL,
    "businessKey" TEXT,
    "reason" TEXT,
    "startedAt" TEXT,
    "finishedAt" TEXT
);
CREATE INDEX "ix_executions_status" ON "executions"("status");
CREATE INDEX "ix_executions_key" ON "executions"("key", "id");
CREATE INDEX "ix_executions_workflowId" ON "executions"("workflowId");
CREATE INDEX "ix_executions_businessKey" ON "executions"("businessKey");
CREATE TABLE "jobs" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "createdAt" TEXT NOT NULL,
    "updatedAt" TEXT NOT NULL,
    "executionId" INTEGER NOT NULL REFERENCES "executions"("id") ON DELETE CASCADE,
    "nodeId" TEXT NOT NULL,
    "nodeKey" TEXT,
    "status" INTEGER NOT NULL,
    "result" TEXT,
    UNIQUE ("executionId", "nodeId")
);
