/// Savepoints of a PostgreSQL session, running its transaction hooks, with the meaning they have on SQLite
/// (`SQLiteConnection+Savepoint.swift`, `TransactionHooks`).
extension PostgresConnection {
    /// Runs `body` inside a savepoint: released when it returns, rolled back to (and released) when
    /// it throws, so only its own changes are undone. Outside a transaction the outermost level is
    /// `BEGIN … COMMIT` (or `ROLLBACK`). The first error is the one rethrown.
    @discardableResult
    func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        let opensTransaction = !isInTransaction
        let name = "tb_sp\(savepointDepth)"
        try execute(opensTransaction ? "BEGIN" : "SAVEPOINT \(name)")
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let mark = hooks.mark
        let value: T
        do {
            value = try body()
            try execute(opensTransaction ? "COMMIT" : "RELEASE \(name)")
        } catch {
            if opensTransaction {
                if isInTransaction { try? execute("ROLLBACK") }
                transactionDidRollBack()
            } else {
                try? execute("ROLLBACK TO \(name); RELEASE \(name)")
                savepointDidRollBack(to: mark)
            }
            throw error
        }
        if opensTransaction { transactionDidCommit() }
        return value
    }
}
