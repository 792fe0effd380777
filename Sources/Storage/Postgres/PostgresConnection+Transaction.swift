/// Savepoints and transaction hooks of a PostgreSQL session, with the meaning they have on SQLite
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
                for action in hooks.rollBack(to: TransactionHooks.Mark(commits: 0, rollbacks: 0)) { action() }
            } else {
                try? execute("ROLLBACK TO \(name); RELEASE \(name)")
                for action in hooks.rollBack(to: mark) { action() }
            }
            throw error
        }
        if opensTransaction { for action in hooks.commit() { action() } }
        return value
    }

    /// Runs `action` once the open transaction commits; outside a transaction, at once.
    func afterCommit(_ action: @escaping () -> Void) {
        guard isInTransaction else { action(); return }
        hooks.commitActions.append(action)
    }

    /// Runs `action` if the changes made from now on are rolled back; ignored outside a transaction.
    func onRollback(_ action: @escaping () -> Void) {
        guard isInTransaction else { return }
        hooks.rollbackActions.append(action)
    }
}
