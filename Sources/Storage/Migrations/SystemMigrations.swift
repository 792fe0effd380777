/// The system tables' DDL, numbered. The same text lives in `schema/NNN_name.sql`; a test checks
/// that the two never drift.
package enum SystemMigrations {
    package static let all: [Migration] = [
        Migration(version: 1, name: "001_collections", sql: """
            -- Collection definitions: one row per collection, its JSON definition as accepted by
            -- /api/collections:create (schema/collection.schema.json). The tables themselves are created
            -- from these definitions.
            CREATE TABLE "collections" (
                "name" TEXT PRIMARY KEY,
                "definition" TEXT NOT NULL,
                "createdAt" TEXT NOT NULL
            );

            """),
        Migration(version: 2, name: "002_users", sql: """
            -- Users (spec 03). The auth layer fills and manages them; every collection's createdBy / updatedBy
            -- relation points here. `password` holds only a salted slow hash, never the password.
            CREATE TABLE "users" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                "createdAt" TEXT NOT NULL,
                "updatedAt" TEXT NOT NULL,
                "createdById" INTEGER,
                "updatedById" INTEGER,
                "username" TEXT NOT NULL UNIQUE,
                "email" TEXT UNIQUE,
                "nickname" TEXT,
                "password" TEXT
            );

            """),
        Migration(version: 3, name: "003_auth", sql: """
            -- Roles, the roles users hold, and tokens (spec 03). Permissions are JSON per role:
            -- {"<collection>|*": {"create|view|update|destroy": {"scope": "all|own", "fields": [...]}}}.
            -- Tokens are stored only as SHA-256 digests; a token row outlives its user (NOT_EXIST_USER).
            CREATE TABLE "roles" (
                "name" TEXT PRIMARY KEY,
                "title" TEXT,
                "permissions" TEXT NOT NULL DEFAULT '{}',
                "builtIn" INTEGER NOT NULL DEFAULT 0,
                "createdAt" TEXT NOT NULL,
                "updatedAt" TEXT NOT NULL
            );
            CREATE TABLE "userRoles" (
                "userId" INTEGER NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
                "roleName" TEXT NOT NULL REFERENCES "roles"("name") ON DELETE RESTRICT,
                "isDefault" INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY ("userId", "roleName")
            );
            CREATE TABLE "tokens" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                "digest" TEXT NOT NULL UNIQUE,
                "userId" INTEGER NOT NULL,
                "name" TEXT,
                "role" TEXT,
                "expiresAt" TEXT,
                "revokedAt" TEXT,
                "createdAt" TEXT NOT NULL
            );
            CREATE INDEX "ix_tokens_userId" ON "tokens"("userId");
            INSERT INTO "roles" ("name", "title", "permissions", "builtIn", "createdAt", "updatedAt") VALUES
                ('root', 'Root', '{}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                ('admin', 'Admin', '{"*":{"create":{},"view":{},"update":{},"destroy":{}}}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                ('member', 'Member', '{"*":{"view":{"scope":"own"}}}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                ('anonymous', 'Anonymous', '{}', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

            """),
        Migration(version: 4, name: "004_workflows", sql: """
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

            """),
        Migration(version: 5, name: "005_execution_status_names", sql: """
            -- Executions and jobs also carry their status by name (spec 04: "statusName": "resolved"),
            -- computed by SQLite from the number so the two can never disagree, and filterable like any column.
            ALTER TABLE "executions" ADD COLUMN "statusName" TEXT GENERATED ALWAYS AS (CASE
                WHEN "status" IS NULL THEN 'queued' WHEN "status" = 0 THEN 'started' WHEN "status" = 1 THEN 'resolved'
                WHEN "status" = -1 THEN 'failed' WHEN "status" = -2 THEN 'error' WHEN "status" = -3 THEN 'aborted'
                WHEN "status" = -4 THEN 'canceled' ELSE 'unknown' END) VIRTUAL;
            ALTER TABLE "jobs" ADD COLUMN "statusName" TEXT GENERATED ALWAYS AS (CASE
                WHEN "status" IS NULL THEN 'queued' WHEN "status" = 0 THEN 'started' WHEN "status" = 1 THEN 'resolved'
                WHEN "status" = -1 THEN 'failed' WHEN "status" = -2 THEN 'error' WHEN "status" = -3 THEN 'aborted'
                WHEN "status" = -4 THEN 'canceled' ELSE 'unknown' END) VIRTUAL;

            """),
        Migration(version: 6, name: "006_record_workflows", sql: """
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

            """),
        Migration(version: 7, name: "007_execution_attempts", sql: """
            -- The retry policy's dead-letter view (issue 13): how many tries the execution's last retried step
            -- took (a request node's HTTP attempts, a write step that threw in the writer; 0 when no step ever
            -- failed) and why the last failed try failed. An execution whose retries ran out ends failed (-1)
            -- with these, so executions:list?filter={"status":-1} shows what gave up and why.
            ALTER TABLE "executions" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE "executions" ADD COLUMN "lastError" TEXT;

            """),
        Migration(version: 8, name: "008_execution_leases", sql: """
            -- Claims and leases (issue 15): a dispatcher takes executions by claiming them, not by reading ids
            -- above a cursor, so that several processes could share one database. `leaseOwner` is the
            -- dispatcher (one process) that holds the execution, or last held it; NULL while nobody has
            -- claimed it (never, or released, or restarted by executions:retry). `leaseExpiresAt`
            -- (milliseconds since 1970) is when the lease lapses unless its owner renews it. Both mean
            -- something only while the execution is queued or started. The partial index holds just the
            -- unclaimed executions, so a claim reads only those, oldest first.
            ALTER TABLE "executions" ADD COLUMN "leaseOwner" TEXT;
            ALTER TABLE "executions" ADD COLUMN "leaseExpiresAt" INTEGER;
            CREATE INDEX "ix_executions_unclaimed" ON "executions"("status", "id") WHERE "leaseOwner" IS NULL;

            """),
        Migration(version: 9, name: "009_execution_key_holders", sql: """
            -- Keys held (issue 16): where several processes share one database (PostgreSQL), each execution key
            -- runs in one process at a time, and a claim reads a partial index of the leased unfinished
            -- executions to see which keys are taken (schema/postgres/009_execution_key_holders.sql). A SQLite
            -- database has one process, whose claims need no such rule: nothing changes here; the number keeps
            -- both schemas' histories in step.

            """),
    ]
}
