import Logging
import Model

/// Applies migrations on the writer connection, outside any batch. Several processes may start
/// on one database at once: each migration's transaction first takes the dialect's
/// `migrationLock` (SQLite's `BEGIN IMMEDIATE` already serialises them) and checks again that
/// nobody applied it meanwhile.
struct MigrationRunner<Connection: SQLSession> {
    let connection: Connection
    let logger: Logger?

    func apply(_ migrations: [Migration]) throws(StorageError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        if let first = sorted.first, first.version < 1 {
            throw .misuse("migration versions start at 1 (got \(first.version))")
        }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw .misuse("two migrations have version \(next.version)")
        }
        let binaryVersion = sorted.last?.version ?? 0
        var applied: Set<Int> = []
        try inTransaction { () throws(StorageError) in
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS _migrations(version INTEGER PRIMARY KEY, name TEXT, appliedAt TEXT)")
            applied = Set(try connection.query("SELECT version FROM _migrations").compactMap { $0[0].int })
        }
        if let databaseVersion = applied.max(), databaseVersion > binaryVersion {
            throw StorageError(
                kind: .databaseNewerThanBinary(database: databaseVersion, binary: binaryVersion),
                message: "database schema version \(databaseVersion) is newer than this binary (\(binaryVersion)); upgrade triggerbase")
        }
        for migration in sorted where !applied.contains(migration.version) {
            try inTransaction { () throws(StorageError) in
                // Another process may have applied it since the check above.
                let recorded = try connection.query(
                    "SELECT 1 FROM _migrations WHERE version = ?", [.integer(Int64(migration.version))])
                guard recorded.isEmpty else { return }
                do throws(StorageError) {
                    try connection.execute(migration.sql)
                } catch {
                    throw StorageError(
                        kind: error.kind,
                        message: "migration \(migration.version) (\(migration.name)) failed: \(error.message)",
                        sql: error.sql, duringWrite: true)
                }
                try connection.run(
                    "INSERT INTO _migrations(version, name, appliedAt) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .text(Timestamp.now())])
            }
            logger?.info("applied migration", ["version": .int(migration.version), "name": .string(migration.name)])
        }
    }

    /// Runs `body` in a write transaction holding the migration lock, rolled back if it throws.
    private func inTransaction(_ body: () throws(StorageError) -> Void) throws(StorageError) {
        try connection.run(connection.dialect.beginWrite)
        do {
            if let lock = connection.dialect.migrationLock { _ = try connection.query(lock) }
            try body()
            try connection.run("COMMIT")
        } catch {
            if connection.isInTransaction { _ = try? connection.run("ROLLBACK") }
            throw error
        }
    }
}
