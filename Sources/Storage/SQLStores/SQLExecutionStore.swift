import JSON
import Model

/// `ExecutionStore` over the `executions` and `jobs` tables (migrations 004, 005, 007, 008).
///
/// Statuses are always bound (`ExecutionStatus.rawValue`), queued being NULL. Claims go through
/// the partial index `ix_executions_unclaimed` (`status`, `id`) `WHERE leaseOwner IS NULL`,
/// which holds only what nobody has claimed: a claim reads the lowest ids of its two statuses
/// from it, never the rows other dispatchers (or this one) already hold.
struct SQLExecutionStore<Session: SQLSession>: ExecutionStore {
    let connection: Session

    private var started: SQLiteValue { .integer(ExecutionStatus.started.rawValue) }

    // MARK: Queueing and running

    func enqueue(workflowID: Int64, key: String, context: JSON, businessKey: String?, started isStarted: Bool, lease: ExecutionLease?) throws -> Int64 {
        let now: SQLiteValue = .text(Timestamp.now())
        if lease == nil { try connection.announce(.executionsClaimable) }
        return try connection.insert("""
            INSERT INTO "executions" ("createdAt", "updatedAt", "workflowId", "key", "status", "context", "businessKey", "startedAt",
                "leaseOwner", "leaseExpiresAt")
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [now, now, .integer(workflowID), .text(key), isStarted ? started : .null, .text(context.serialized()),
                  businessKey.map { .text($0) } ?? .null, isStarted ? now : .null,
                  lease.map { .text($0.owner) } ?? .null, lease.map { .integer($0.expiresAt) } ?? .null])
    }

    func insertEnded(workflowID: Int64, key: String, context: JSON, businessKey: String?, status: ExecutionStatus, reason: String?,
                     lease: ExecutionLease) throws -> Int64 {
        let now: SQLiteValue = .text(Timestamp.now())
        return try connection.insert("""
            INSERT INTO "executions" ("createdAt", "updatedAt", "workflowId", "key", "status", "context", "businessKey", "reason",
                "startedAt", "finishedAt", "leaseOwner", "leaseExpiresAt")
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [now, now, .integer(workflowID), .text(key), .integer(status.rawValue), .text(context.serialized()),
                  businessKey.map { .text($0) } ?? .null, reason.map { .text($0) } ?? .null, now, now,
                  .text(lease.owner), .integer(lease.expiresAt)])
    }

    func execution(_ id: Int64) throws -> ExecutionRow? {
        guard let row = try connection.query("""
            SELECT "workflowId", "status", "context", "startedAt" FROM "executions" WHERE "id" = ?
            """, [.integer(id)]).first else { return nil }
        return ExecutionRow(id: id, workflowID: row[0].int64 ?? 0, status: row[1].int64,
                            context: row[2].string.flatMap { try? JSON.parse($0) } ?? .null, startedAt: row[3].string)
    }

    func execution(_ id: Int64, context: JSON) throws -> ExecutionRow? {
        guard let row = try connection.query("""
            SELECT "workflowId", "status", "startedAt" FROM "executions" WHERE "id" = ?
            """, [.integer(id)]).first else { return nil }
        return ExecutionRow(id: id, workflowID: row[0].int64 ?? 0, status: row[1].int64, context: context, startedAt: row[2].string)
    }

    func status(of id: Int64) throws -> Int64?? {
        guard let row = try connection.query("SELECT \"status\" FROM \"executions\" WHERE \"id\" = ?", [.integer(id)]).first else { return nil }
        return .some(row[0].int64)
    }

    func hasExecutions(ofVersion workflowID: Int64) throws -> Bool {
        try !connection.query("SELECT 1 FROM \"executions\" WHERE \"workflowId\" = ? LIMIT 1", [.integer(workflowID)]).isEmpty
    }

    func jobs(of id: Int64) throws -> [JobRow] {
        try connection.query("SELECT \"nodeId\", \"nodeKey\", \"status\", \"result\" FROM \"jobs\" WHERE \"executionId\" = ?",
                             [.integer(id)]).compactMap { row in
            guard let nodeID = row[0].string, let status = row[2].int64 else { return nil }
            return JobRow(nodeID: nodeID, nodeKey: row[1].string, status: status, result: row[3].string.flatMap { try? JSON.parse($0) } ?? .null)
        }
    }

    func saveJob(execution id: Int64, nodeID: String, nodeKey: String, status: ExecutionStatus, result: JSON) throws {
        let stamp: SQLiteValue = .text(Timestamp.now())
        try connection.run("""
            INSERT INTO "jobs" ("createdAt", "updatedAt", "executionId", "nodeId", "nodeKey", "status", "result")
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT ("executionId", "nodeId") DO UPDATE SET "status" = excluded."status", "result" = excluded."result",
                "updatedAt" = excluded."updatedAt"
            """, [stamp, stamp, .integer(id), .text(nodeID), .text(nodeKey), .integer(status.rawValue), .text(result.serialized())])
    }

    func saveProgress(_ id: Int64, status: ExecutionStatus, reason: String?, startedAt: String?) throws {
        let stamp = Timestamp.now()
        try connection.run("""
            UPDATE "executions" SET "status" = ?, "reason" = ?, "startedAt" = ?, "finishedAt" = ?, "updatedAt" = ? WHERE "id" = ?
            """, [.integer(status.rawValue), reason.map { .text($0) } ?? .null, .text(startedAt ?? stamp),
                  status.isFinal ? .text(stamp) : .null, .text(stamp), .integer(id)])
    }

    func saveAttempts(_ id: Int64, count: Int, lastError: String) throws {
        try connection.run("UPDATE \"executions\" SET \"attempts\" = ?, \"lastError\" = ? WHERE \"id\" = ?",
                           [.integer(Int64(count)), .text(lastError), .integer(id)])
    }

    func delete(_ id: Int64) throws {
        try connection.run("DELETE FROM \"executions\" WHERE \"id\" = ?", [.integer(id)])
    }

    // MARK: Ending and retrying

    func cancelUnfinished(_ ids: [Int64]) throws {
        let stamp: SQLiteValue = .text(Timestamp.now())
        for id in ids {
            try connection.run("""
                UPDATE "executions" SET "status" = ?, "finishedAt" = ?, "updatedAt" = ? WHERE "id" = ? AND ("status" IS NULL OR "status" = ?)
                """, [.integer(ExecutionStatus.canceled.rawValue), stamp, stamp, .integer(id), started])
        }
    }

    func cancel(_ id: Int64) throws {
        let stamp: SQLiteValue = .text(Timestamp.now())
        let canceled: SQLiteValue = .integer(ExecutionStatus.canceled.rawValue)
        try connection.run("UPDATE \"executions\" SET \"status\" = ?, \"finishedAt\" = ?, \"updatedAt\" = ? WHERE \"id\" = ?",
                           [canceled, stamp, stamp, .integer(id)])
        try connection.run("UPDATE \"jobs\" SET \"status\" = ?, \"updatedAt\" = ? WHERE \"executionId\" = ? AND \"status\" = ?",
                           [canceled, stamp, .integer(id), started])
    }

    func ids(matching filter: Filter, statuses: [ExecutionStatus], limit: Int) throws -> [Int64] {
        guard !statuses.isEmpty else { return [] }
        var compiler = FilterCompiler(catalogue: Catalogue.base)
        let (condition, parameters) = try compiler.compile(filter, collection: "executions").sql(connection.dialect, root: "t0")
        let marks = Array(repeating: "?", count: statuses.count).joined(separator: ", ")
        return try connection.query("""
            SELECT t0."id" FROM "executions" t0 WHERE \(condition) AND t0."status" IN (\(marks)) ORDER BY t0."id" LIMIT \(limit)
            """, parameters + statuses.map { .integer($0.rawValue) }).compactMap { $0[0].int64 }
    }

    func restart(_ id: Int64) throws {
        try connection.announce(.executionsClaimable)
        // Below started: the failure statuses (`ExecutionStatus.isFailure`).
        try connection.run("DELETE FROM \"jobs\" WHERE \"executionId\" = ? AND \"status\" < ?", [.integer(id), started])
        try connection.run("""
            UPDATE "executions" SET "status" = ?, "reason" = NULL, "attempts" = 0, "lastError" = NULL, "startedAt" = NULL,
                "finishedAt" = NULL, "updatedAt" = ?, "leaseOwner" = NULL, "leaseExpiresAt" = NULL WHERE "id" = ?
            """, [started, .text(Timestamp.now()), .integer(id)])
    }

    // MARK: Claims and leases

    /// Where several processes claim (`SQLDialect.claimLock`), the condition that no owner but
    /// `?1` holds an unfinished execution of the row `e`'s key, read from the partial index
    /// `ix_executions_held_keys` (PostgreSQL's migration 009): a key runs in one process at a time,
    /// so its FIFO order and `options.concurrency` hold across processes. Elsewhere the only other
    /// owners are processes that ended, and nothing is added.
    private var keyFree: String {
        connection.dialect.claimLock == nil ? "" : " AND " + Self.keyFreeCondition
    }

    private static var keyFreeCondition: String { """
        NOT EXISTS (SELECT 1 FROM "executions" AS "held" WHERE "held"."key" = "e"."key" AND "held"."leaseOwner" IS NOT NULL
            AND ("held"."status" IS NULL OR "held"."status" = \(ExecutionStatus.started.rawValue)) AND "held"."leaseOwner" <> ?1)
        """ }

    func claim(limit: Int, owner: String, leaseUntil: Int64) throws -> [ClaimedExecution]? {
        guard limit > 0 else { return [] }
        guard try takeClaimLock() else { return nil }
        // Each branch reads at most `limit` ids from the partial index in id order (queued, then
        // started without a lease); the union keeps the lowest `limit` of both. Where several
        // processes share the database, each branch locks what it read and passes over rows
        // another transaction holds.
        let lock = connection.dialect.skippingLockedRows
        let rows = try connection.query("""
            UPDATE "executions" SET "leaseOwner" = ?1, "leaseExpiresAt" = ?2 WHERE "id" IN (
                SELECT "id" FROM (SELECT "id" FROM "executions" AS "e" WHERE "leaseOwner" IS NULL AND "status" IS NULL\(keyFree)
                    ORDER BY "id" LIMIT ?4\(lock)) AS "queued"
                UNION ALL
                SELECT "id" FROM (SELECT "id" FROM "executions" AS "e" WHERE "leaseOwner" IS NULL AND "status" = ?3\(keyFree)
                    ORDER BY "id" LIMIT ?4\(lock)) AS "unleased"
                ORDER BY "id" LIMIT ?4)
            RETURNING "id", "workflowId", "key"
            """, [.text(owner), .integer(leaseUntil), started, .integer(Int64(limit))])
        return Self.claimed(rows)
    }

    func claim(_ ids: [Int64], owner: String, leaseUntil: Int64) throws -> [ClaimedExecution]? {
        guard !ids.isEmpty else { return [] }
        guard try takeClaimLock() else { return nil }
        var claimed: [ClaimedExecution] = []
        for chunk in ids.chunked(500) where !chunk.isEmpty {
            let marks = (0..<chunk.count).map { "?\(4 + $0)" }.joined(separator: ",")
            claimed += Self.claimed(try connection.query("""
                UPDATE "executions" AS "e" SET "leaseOwner" = ?1, "leaseExpiresAt" = ?2
                WHERE "id" IN (\(marks)) AND ("status" IS NULL OR "status" = ?3) AND ("leaseOwner" IS NULL OR "leaseOwner" = ?1)\(keyFree)
                RETURNING "id", "workflowId", "key"
                """, [.text(owner), .integer(leaseUntil), started] + chunk.map { .integer($0) }))
        }
        return claimed.sorted { $0.id < $1.id }
    }

    /// Claims of several processes take turns, so two never both find a key free; false when
    /// another process is claiming right now (nobody waits: try again shortly).
    private func takeClaimLock() throws -> Bool {
        guard let lock = connection.dialect.claimLock else { return true }
        return try connection.query(lock).first?[0].int == 1
    }

    func holdsLease(_ id: Int64, owner: String) throws -> Bool {
        // An UPDATE, not a SELECT: it locks the row until the step commits, so no other process
        // frees the lease between this check and the step's writes.
        try connection.run("""
            UPDATE "executions" SET "leaseOwner" = "leaseOwner" WHERE "id" = ? AND "leaseOwner" = ?
            """, [.integer(id), .text(owner)]) == 1
    }

    func renewLeases(owner: String, leaseUntil: Int64) throws -> Int {
        try connection.run("""
            UPDATE "executions" SET "leaseExpiresAt" = ? WHERE ("status" IS NULL OR "status" = ?) AND "leaseOwner" = ?
            """, [.integer(leaseUntil), started, .text(owner)])
    }

    func releaseLeases(owner: String) throws -> Int {
        let released = try connection.run("""
            UPDATE "executions" SET "leaseOwner" = NULL, "leaseExpiresAt" = NULL WHERE ("status" IS NULL OR "status" = ?) AND "leaseOwner" = ?
            """, [started, .text(owner)])
        if released > 0 { try connection.announce(.executionsClaimable) }
        return released
    }

    func releaseExpiredLeases(now: Int64, sparing owner: String) throws -> Int {
        // Rows another transaction has locked are passed over: their owner is writing them, so it
        // lives, and waiting for it while holding the rows already freed could deadlock with it.
        let released = try connection.run("""
            UPDATE "executions" SET "leaseOwner" = NULL, "leaseExpiresAt" = NULL WHERE "id" IN (
                SELECT "id" FROM "executions"
                WHERE ("status" IS NULL OR "status" = ?) AND "leaseOwner" <> ? AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= ?)\(connection.dialect.skippingLockedRows))
            """, [started, .text(owner), .integer(now)])
        if released > 0 { try connection.announce(.executionsClaimable) }
        return released
    }

    func lease(of id: Int64) throws -> ExecutionLease? {
        guard let row = try connection.query("SELECT \"leaseOwner\", \"leaseExpiresAt\" FROM \"executions\" WHERE \"id\" = ?",
                                             [.integer(id)]).first,
              let owner = row[0].string else { return nil }
        return ExecutionLease(owner: owner, expiresAt: row[1].int64 ?? 0)
    }

    private static func claimed(_ rows: [Row]) -> [ClaimedExecution] {
        rows.compactMap { row -> ClaimedExecution? in
            guard let id = row[0].int64, let key = row[2].string else { return nil }
            return ClaimedExecution(id: id, workflowID: row[1].int64 ?? 0, key: key)
        }.sorted { $0.id < $1.id }
    }

    // MARK: The start API

    private static var instanceColumns: String { """
        e."id", e."status", e."businessKey", e."startedAt", e."createdAt", e."finishedAt", w."id", w."key", w."versionNumber", w."title", w."options"
        """ }

    func instances(matching conditions: [InstanceCondition], limit: Int) throws -> [InstanceRow] {
        var sql: [String] = []
        var parameters: [SQLiteValue] = []
        for condition in conditions {
            switch condition {
            case .businessKey(let value):
                sql.append("e.\"businessKey\" = ?")
                parameters.append(.text(value))
            case .version(let key, let number, let id):
                sql.append("w.\"id\" = ? AND w.\"key\" = ? AND w.\"versionNumber\" = ?")
                parameters += [.integer(id), .text(key), .integer(number)]
            }
        }
        return try connection.query("""
            SELECT \(Self.instanceColumns)
            FROM "executions" e JOIN "workflows" w ON w."id" = e."workflowId"
            WHERE \(sql.isEmpty ? "1" : sql.joined(separator: " AND ")) ORDER BY e."id" LIMIT \(limit)
            """, parameters).map(Self.instance)
    }

    func instance(_ id: Int64) throws -> InstanceRow? {
        try connection.query("""
            SELECT \(Self.instanceColumns)
            FROM "executions" e JOIN "workflows" w ON w."id" = e."workflowId" WHERE e."id" = ?
            """, [.integer(id)]).first.map(Self.instance)
    }

    func jobRecords(of id: Int64) throws -> [JSONObject] {
        try connection.records(Catalogue.base).select("jobs", where: .column("executionId", equals: id))
    }

    private static func instance(_ row: Row) -> InstanceRow {
        InstanceRow(id: row[0].int64 ?? 0, status: row[1].int64, businessKey: row[2].string, startedAt: row[3].string,
                    createdAt: row[4].string, finishedAt: row[5].string, version: SQLWorkflowStore<Session>.summary(row, at: 6))
    }
}

extension SQLSession {
    /// The executions and jobs of this connection's database.
    package var executions: any ExecutionStore { SQLExecutionStore(connection: self) }
}
