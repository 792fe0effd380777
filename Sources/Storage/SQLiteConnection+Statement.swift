import CSQLite

/// A prepared statement (`sqlite3_stmt*`) in one connection's cache; finalized on deinit. Never
/// leaves the connection's thread.
final class Statement {
    let handle: OpaquePointer
    let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Makes the statement ready for its next use and drops the bound values' copies.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `parameters` to `?1…?n`; the count must match the statement's placeholders.
    func bind(_ parameters: [SQLiteValue], on connection: SQLiteConnection) throws(StorageError) {
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard expected == parameters.count else {
            throw .misuse("the statement has \(expected) parameters but \(parameters.count) were given", sql: sql)
        }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(handle, index)
            case .integer(let integer):
                rc = sqlite3_bind_int64(handle, index, integer)
            case .real(let real):
                rc = sqlite3_bind_double(handle, index, real)
            case .text(var text):
                rc = text.withUTF8 { utf8 in
                    // A NULL pointer would bind SQL NULL, so "" gets a real (empty) C string.
                    guard let base = utf8.baseAddress, utf8.count > 0 else {
                        return sqlite3_bind_text(handle, index, "", 0, Self.transient)
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        sqlite3_bind_text64(handle, index, $0, UInt64(utf8.count), Self.transient, UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { raw in
                    // Likewise a NULL pointer would bind NULL instead of an empty blob.
                    guard let base = raw.baseAddress, raw.count > 0 else {
                        return sqlite3_bind_zeroblob(handle, index, 0)
                    }
                    return sqlite3_bind_blob64(handle, index, base, UInt64(raw.count), Self.transient)
                }
            }
            guard rc == SQLITE_OK else { throw connection.lastError(sql: sql) }
        }
    }

    /// The result columns' names.
    func columnNames() -> [String] {
        let count = sqlite3_column_count(handle)
        return (0..<count).map { String(cString: sqlite3_column_name(handle, $0)) }
    }

    /// The current row's values, read in their storage class.
    func rowValues(count: Int) -> [SQLiteValue] {
        var values: [SQLiteValue] = []
        values.reserveCapacity(count)
        for index in 0..<Int32(count) {
            values.append(value(at: index))
        }
        return values
    }

    private func value(at index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            // sqlite3_column_bytes after sqlite3_column_text, as sqlite.org/c3ref/column_blob.html asks.
            guard let text = sqlite3_column_text(handle, index) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let blob = sqlite3_column_blob(handle, index) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(handle, index))
            return .blob([UInt8](UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the bind call returns. The C macro
    /// is a cast of -1 to a function pointer, which Swift cannot import.
    static var transient: sqlite3_destructor_type {
        unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    }
}

@available(*, unavailable, message: "a statement belongs to its connection's thread")
extension Statement: Sendable {}

/// A statement a store builds from names (see `SQLiteConnection.text(of:build:)`): what it does,
/// to which table, with which columns.
struct StatementShape: Hashable {
    enum Kind: UInt8 { case insert, recordByID, existsByID }
    let kind: Kind
    let table: String
    var columns: [String] = []
}

extension SQLiteConnection {
    /// Statements kept per connection before the cache is emptied; bounds memory when SQL text
    /// varies (e.g. `IN (?, ?, …)` lists of many lengths).
    static let statementCacheLimit = 256

    /// The cached statement for `sql`, prepared on first use.
    func cachedStatement(_ sql: String) throws(StorageError) -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try prepare(sql)
        // Every statement is reset before its call returns, so none is in use here.
        if statements.count >= Self.statementCacheLimit { statements.removeAll() }
        statements[sql] = statement
        return statement
    }

    /// Prepares exactly one statement (`sqlite3_prepare_v3`, `SQLITE_PREPARE_PERSISTENT`); SQL
    /// holding a second statement is a misuse (use `execute`).
    func prepare(_ sql: String) throws(StorageError) -> Statement {
        let handle = try openHandle()
        var prepared: OpaquePointer?
        let outcome: Int32 = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let length = Int32(clamping: sql.utf8.count)
            let rc = sqlite3_prepare_v3(handle, text, length, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, &tail)
            guard rc == SQLITE_OK, let tail, prepared != nil else { return rc }
            // Whatever follows the first statement must compile to nothing (spaces, comments).
            var next: OpaquePointer?
            let rest = Int32(text + Int(length) - tail)
            guard rest > 0, sqlite3_prepare_v3(handle, tail, rest, 0, &next, nil) == SQLITE_OK, next == nil else {
                sqlite3_finalize(next)
                return rest > 0 ? SQLITE_MISUSE : SQLITE_OK
            }
            return SQLITE_OK
        }
        if outcome == SQLITE_MISUSE {
            sqlite3_finalize(prepared)
            throw .misuse("query and run take exactly one statement; use execute for several", sql: sql)
        }
        guard outcome == SQLITE_OK else { throw lastError(sql: sql) }
        guard let prepared else { throw .misuse("the SQL holds no statement", sql: sql) }
        return Statement(handle: prepared, sql: sql)
    }

    /// Steps `statement` to completion, ignoring rows.
    func step(_ statement: Statement) throws(StorageError) {
        while true {
            let rc = sqlite3_step(statement.handle)
            if rc == SQLITE_DONE { return }
            if rc != SQLITE_ROW { throw lastError(sql: statement.sql) }
        }
    }

    /// Steps a parameterless statement to completion and resets it.
    func stepOnce(_ statement: Statement) throws(StorageError) {
        defer { statement.reset() }
        try step(statement)
    }
}
