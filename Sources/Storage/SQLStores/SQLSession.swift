/// What the SQL stores run their statements on: one connection of a backend, inside the
/// transaction of the write or read it serves. `SQLiteConnection` and `PostgresConnection` are
/// the two; the stores' fixed SQL runs on both, and what must differ is built through `dialect`.
///
/// A session is a `Transaction`: its stores are the SQL stores over itself.
protocol SQLSession: Transaction {
    /// How this backend writes the SQL that is built (filters, DDL, record writes).
    var dialect: any SQLDialect { get }

    /// Runs one statement with `parameters` bound to its `?` placeholders and returns every row.
    func query(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> [Row]
    /// Runs one statement, discarding rows; returns the rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> Int
    /// Runs an `INSERT` of one row into a table with an integer `id` and returns that id.
    func insert(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> Int64
    /// Runs `;`-separated statements without parameters (DDL).
    func execute(_ sql: String) throws(StorageError)
    /// SQL texts built from names, by their shape (`text(of:build:)`).
    var builtTexts: [StatementShape: String] { get set }
    /// Whether a transaction is open.
    var isInTransaction: Bool { get }
    /// Actions waiting for the open transaction's outcome; the session's `inSavepoint` runs them.
    var hooks: TransactionHooks { get set }
    /// Closes the connection; later calls throw `.closed`.
    func close()
}

extension SQLSession {
    /// `query` without parameters.
    func query(_ sql: String) throws(StorageError) -> [Row] { try query(sql, []) }

    /// `run` without parameters.
    @discardableResult
    func run(_ sql: String) throws(StorageError) -> Int { try run(sql, []) }

    /// The text of the statement `shape` names, built by `build` on first use. A write builds its
    /// INSERT from the table's and columns' names; hashing those is far cheaper than quoting
    /// and joining them again for every request. At most 256 texts are kept.
    func text(of shape: StatementShape, build: () -> String) -> String {
        if let text = builtTexts[shape] { return text }
        let text = build()
        if builtTexts.count >= 256 { builtTexts.removeAll() }
        builtTexts[shape] = text
        return text
    }

    /// Runs `action` once the open transaction commits (see `TransactionHooks`). Outside a
    /// transaction it runs at once.
    func afterCommit(_ action: @escaping () -> Void) {
        guard isInTransaction else { action(); return }
        hooks.commitActions.append(action)
    }

    /// Runs `action` if the changes made from now on in the open transaction are rolled back
    /// (see `TransactionHooks`). Outside a transaction it is ignored.
    func onRollback(_ action: @escaping () -> Void) {
        guard isInTransaction else { return }
        hooks.rollbackActions.append(action)
    }

    /// The transaction committed: runs the commit actions.
    func transactionDidCommit() {
        for action in hooks.commit() { action() }
    }

    /// The transaction rolled back: undoes everything registered in it.
    func transactionDidRollBack() {
        for action in hooks.rollBack(to: TransactionHooks.Mark(commits: 0, rollbacks: 0)) { action() }
    }

    /// A savepoint begun at `mark` rolled back: undoes what was registered inside it.
    func savepointDidRollBack(to mark: TransactionHooks.Mark) {
        for action in hooks.rollBack(to: mark) { action() }
    }
}

extension SQLiteConnection: SQLSession {
    var dialect: any SQLDialect { SQLiteDialect() }

    /// Nobody else shares a SQLite database (one writer): there is no one to tell.
    func announce(_ change: Announcement) throws {}

    func insert(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> Int64 {
        try run(sql, parameters)
        return lastInsertRowID
    }
}
