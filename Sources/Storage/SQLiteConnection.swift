import CSQLite
import Foundation

/// One SQLite connection, owned by one thread at a time.
///
/// Opened in multi-thread mode (`SQLITE_OPEN_NOMUTEX`): SQLite then does no locking of its own and
/// "a single database connection [must not be] used simultaneously in two or more threads"
/// (sqlite.org/threadsafe.html). `SQLiteDatabase` gives each connection to one dedicated thread; the type
/// is not `Sendable` so the compiler keeps it there.
///
/// Every connection has extended result codes, a busy timeout and `PRAGMA foreign_keys = ON`.
/// Statements run through `query` and `run` are prepared once per SQL text, cached and reused;
/// they are finalized when the connection closes (`close()` or deinit).
final class SQLiteConnection {
    /// How the file is opened: read-write (created if missing, with its parent directory) or
    /// read-only.
    public enum Mode: Sendable { case readWrite, readOnly }

    /// The database file.
    public let path: String
    public let mode: Mode
    /// The `sqlite3*`; `nil` once closed.
    var handle: OpaquePointer?
    /// Prepared statements by SQL text (`SQLiteConnection+Statement.swift`).
    var statements: [String: Statement] = [:]
    /// SQL texts built from names, by their shape (`SQLiteConnection+Statement.swift`).
    var builtTexts: [StatementShape: String] = [:]
    /// `SAVEPOINT` / `RELEASE` / `ROLLBACK TO` statements by nesting level
    /// (`SQLiteConnection+Savepoint.swift`).
    var savepoints: [SavepointStatements] = []
    /// How many `inSavepoint` bodies are running.
    var savepointDepth = 0
    /// Actions waiting for the open transaction's outcome (`SQLStores/TransactionHooks.swift`).
    var hooks = TransactionHooks()

    /// Opens `path` (sqlite.org/c3ref/open.html), creating the file and its parent directory in
    /// `.readWrite` mode.
    public init(path: String, mode: Mode, busyTimeoutMilliseconds: Int = 5000) throws(StorageError) {
        self.path = path
        self.mode = mode
        var flags = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readWrite:
            flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
            // A failure here surfaces as SQLITE_CANTOPEN from the open below.
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        case .readOnly:
            flags |= SQLITE_OPEN_READONLY
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let extended = db.map { sqlite3_extended_errcode($0) } ?? rc
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw StorageError(
                kind: .sqlite(code: extended & 0xFF, extendedCode: extended),
                message: "\(message): \(path)", duringWrite: mode == .readWrite)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeoutMilliseconds))
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit { close() }

    /// Finalizes the cached statements and closes the connection (`sqlite3_close_v2`). Later
    /// calls throw `.closed`.
    public func close() {
        guard let handle else { return }
        statements.removeAll()
        savepoints.removeAll()
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// Runs one or more `;`-separated statements without parameters (`sqlite3_exec`), e.g. DDL
    /// or a migration. Rows they return are ignored.
    public func execute(_ sql: String) throws(StorageError) {
        let handle = try openHandle()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            let extended = sqlite3_extended_errcode(handle)
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            throw StorageError(
                kind: .sqlite(code: extended & 0xFF, extendedCode: extended),
                message: message, sql: sql, duringWrite: mode == .readWrite)
        }
    }

    /// Runs one statement with `parameters` bound to its `?` placeholders and returns every row.
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(StorageError) -> [Row] {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(parameters, on: self)
        var rows: [Row] = []
        var columns: [String] = []
        while true {
            let rc = sqlite3_step(statement.handle)
            if rc == SQLITE_ROW {
                // Read at the first row: a schema change can re-prepare the statement and change them.
                if rows.isEmpty { columns = statement.columnNames() }
                rows.append(Row(columns: columns, values: statement.rowValues(count: columns.count)))
            } else if rc == SQLITE_DONE {
                return rows
            } else {
                throw lastError(sql: sql)
            }
        }
    }

    /// Runs one statement with `parameters` bound to its `?` placeholders, discarding any rows,
    /// and returns the number of rows it inserted, updated or deleted (`sqlite3_changes64`).
    @discardableResult
    public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws(StorageError) -> Int {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(parameters, on: self)
        try step(statement)
        return changes
    }

    /// The rowid of the most recent successful `INSERT` on this connection.
    public var lastInsertRowID: Int64 {
        guard let handle else { return 0 }
        return sqlite3_last_insert_rowid(handle)
    }

    /// Rows changed by the most recent `INSERT`, `UPDATE` or `DELETE` on this connection.
    public var changes: Int {
        guard let handle else { return 0 }
        return Int(sqlite3_changes64(handle))
    }

    /// Whether a transaction is open (`sqlite3_get_autocommit` is 0). SQLite may roll one back on
    /// its own after `SQLITE_FULL`, `SQLITE_IOERR`, `SQLITE_BUSY` or `SQLITE_NOMEM`.
    public var isInTransaction: Bool {
        guard let handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }

    /// The handle, or `.closed`.
    func openHandle() throws(StorageError) -> OpaquePointer {
        guard let handle else { throw .closed }
        return handle
    }

    /// The connection's last error, with its extended code and message (sqlite3_errmsg).
    func lastError(sql: String?) -> StorageError {
        guard let handle else { return .closed }
        let extended = sqlite3_extended_errcode(handle)
        return StorageError(
            kind: .sqlite(code: extended & 0xFF, extendedCode: extended),
            message: String(cString: sqlite3_errmsg(handle)), sql: sql, duringWrite: mode == .readWrite)
    }
}

@available(*, unavailable, message: "a connection belongs to one thread; see sqlite.org/threadsafe.html")
extension SQLiteConnection: Sendable {}
