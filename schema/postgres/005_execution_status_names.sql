-- Executions and jobs also carry their status by name (spec 04: "statusName": "resolved"),
-- computed by PostgreSQL from the number so the two can never disagree, and filterable like any column.
ALTER TABLE "executions" ADD COLUMN "statusName" TEXT GENERATED ALWAYS AS (CASE
    WHEN "status" IS NULL THEN 'queued' WHEN "status" = 0 THEN 'started' WHEN "status" = 1 THEN 'resolved'
    WHEN "status" = -1 THEN 'failed' WHEN "status" = -2 THEN 'error' WHEN "status" = -3 THEN 'aborted'
    WHEN "status" = -4 THEN 'canceled' ELSE 'unknown' END) STORED;
ALTER TABLE "jobs" ADD COLUMN "statusName" TEXT GENERATED ALWAYS AS (CASE
    WHEN "status" IS NULL THEN 'queued' WHEN "status" = 0 THEN 'started' WHEN "status" = 1 THEN 'resolved'
    WHEN "status" = -1 THEN 'failed' WHEN "status" = -2 THEN 'error' WHEN "status" = -3 THEN 'aborted'
    WHEN "status" = -4 THEN 'canceled' ELSE 'unknown' END) STORED;
