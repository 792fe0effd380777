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
    /// The text of the statement `shape` names, built by `build` on first use and kept.
    func text(of shape: StatementShape, build: () -> String) -> String
}

extension SQLSession {
    /// `query` without parameters.
    func query(_ sql: String) throws(StorageError) -> [Row] { try query(sql, []) }

    /// `run` without parameters.
    @discardableResult
    func run(_ sql: String) throws(StorageError) -> Int { try run(sql, []) }
}

extension SQLiteConnection: SQLSession {
    var dialect: any SQLDialect { SQLiteDialect() }

    func insert(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> Int64 {
        try run(sql, parameters)
        return lastInsertRowID
    }
}
