-- The retry policy's dead-letter view (issue 13): how many tries the execution's last retried step
-- took (a request node's HTTP attempts, a write step that threw in the writer; 0 when no step ever
-- failed) and why the last failed try failed. An execution whose retries ran out ends failed (-1)
-- with these, so executions:list?filter={"status":-1} shows what gave up and why.
ALTER TABLE "executions" ADD COLUMN "attempts" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "executions" ADD COLUMN "lastError" TEXT;
