-- Keys held (issue 16): several processes on one database run each execution key in one process at
-- a time, so its FIFO order and `options.concurrency` hold across them. A claim skips an execution
-- whose key has an unfinished execution leased to another owner; this partial index holds just the
-- leased unfinished executions, so that test reads a few rows, never a key's whole history.
CREATE INDEX "ix_executions_held_keys" ON "executions"("key") WHERE "leaseOwner" IS NOT NULL AND ("status" IS NULL OR "status" = 0);
