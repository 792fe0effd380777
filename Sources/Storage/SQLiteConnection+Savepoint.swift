import CSQLite

/// The three statements of one savepoint nesting level, prepared once.
struct SavepointStatements {
    let begin: Statement
    let release: Statement
    let rollback: Statement
}

extension SQLiteConnection {
    /// Runs `body` inside a savepoint (sqlite.org/lang_savepoint.html): `RELEASE` when it returns,
    /// `ROLLBACK TO` and `RELEASE` when it throws, so only its own changes are undone. Calls nest;
    /// each level has its own name. Outside a transaction the outermost savepoint acts as
    /// `BEGIN DEFERRED … COMMIT`.
    ///
    /// Rolling back also runs the `onRollback` actions registered inside `body`; when this
    /// savepoint is the whole transaction, its commit runs the `afterCommit` ones.
    ///
    /// The first error is the one rethrown; a failure to roll back is secondary.
    @discardableResult
    public func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        let statements = try savepointStatements(level: savepointDepth)
        let opensTransaction = !isInTransaction
        try stepOnce(statements.begin)
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let mark = hooks.mark
        let value: T
        do {
            value = try body()
            try stepOnce(statements.release)
        } catch {
            undo(statements, opensTransaction: opensTransaction)
            // The whole transaction may be gone (SQLite ended it, or this savepoint was it).
            if isInTransaction { savepointDidRollBack(to: mark) } else { transactionDidRollBack() }
            throw error
        }
        if opensTransaction { transactionDidCommit() }
        return value
    }

    /// Rolls back to the savepoint and releases it; when the savepoint opened the transaction and
    /// it is still open (its `RELEASE`, i.e. its commit, failed), rolls the transaction back.
    /// Nothing to do when SQLite already rolled the whole transaction back.
    private func undo(_ statements: SavepointStatements, opensTransaction: Bool) {
        guard isInTransaction else { return }
        try? stepOnce(statements.rollback)
        try? stepOnce(statements.release)
        if opensTransaction && isInTransaction {
            _ = try? run("ROLLBACK")
        }
    }

    /// The statements for nesting `level`, prepared on first use (`SAVEPOINT tb_sp<level>` …).
    private func savepointStatements(level: Int) throws(StorageError) -> SavepointStatements {
        if level < savepoints.count { return savepoints[level] }
        let name = "tb_sp\(level)"
        let statements = SavepointStatements(
            begin: try prepare("SAVEPOINT \(name)"),
            release: try prepare("RELEASE \(name)"),
            rollback: try prepare("ROLLBACK TO \(name)"))
        savepoints.append(statements)
        return statements
    }
}
