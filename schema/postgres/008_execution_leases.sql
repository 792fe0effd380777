-- Claims and leases (issue 15): a dispatcher takes executions by claiming them, not by reading ids
-- above a cursor, so that several processes could share one database. `leaseOwner` is the
-- dispatcher (one process) that holds the execution, or last held it; NULL while nobody has
-- claimed it (never, or released, or restarted by executions:retry). `leaseExpiresAt`
-- (milliseconds since 1970) is when the lease lapses unless its owner renews it. Both mean
-- something only while the execution is queued or started. The partial index holds just the
-- unclaimed executions, so a claim reads only those, oldest first.
ALTER TABLE "executions" ADD COLUMN "leaseOwner" TEXT;
ALTER TABLE "executions" ADD COLUMN "leaseExpiresAt" BIGINT;
CREATE INDEX "ix_executions_unclaimed" ON "executions"("status", "id") WHERE "leaseOwner" IS NULL;
