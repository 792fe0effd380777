import CSQLite
import Foundation

/// The one error type of the storage layer: an SQLite failure with its primary and extended
/// result code, a PostgreSQL failure with its SQLSTATE, with the message and the SQL that failed,
/// or one of the layer's own refusals.
///
/// Statement parameters are deliberately not carried, so user data never reaches logs.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// SQLite returned `code` (primary, `extendedCode & 0xFF`) and `extendedCode`
        /// (sqlite.org/rescode.html).
        case sqlite(code: Int32, extendedCode: Int32)
        /// PostgreSQL answered `sqlState` (postgresql.org/docs/current/errcodes-appendix.html);
        /// `table` and `columns` are those of a failed constraint, when it names them.
        case postgres(sqlState: String, table: String?, columns: [String])
        /// The database records a schema version above every migration this binary knows (spec 07:
        /// "a newer database than the binary refuses to start").
        case databaseNewerThanBinary(database: Int, binary: Int)
        /// The database or connection was closed.
        case closed
        /// The API was used in a way it does not support (wrong parameter count, several
        /// statements where one is expected, a call that would deadlock).
        case misuse
    }

    public let kind: Kind
    public let message: String
    public let sql: String?
    /// Whether the error came from a read-write connection; decides `isReadOnly` for
    /// `SQLITE_CANTOPEN` and `SQLITE_IOERR`, which mean "cannot write here" only on a write.
    let duringWrite: Bool

    /// `duringWrite` marks an error met by a read-write connection (see `isReadOnly`).
    public init(kind: Kind, message: String, sql: String? = nil, duringWrite: Bool = false) {
        self.kind = kind
        self.message = message
        self.sql = sql
        self.duringWrite = duringWrite
    }

    /// The primary result code, or `nil` when the error is not SQLite's.
    public var code: Int32? {
        if case .sqlite(let code, _) = kind { return code }
        return nil
    }

    /// The extended result code, or `nil` when the error is not SQLite's.
    public var extendedCode: Int32? {
        if case .sqlite(_, let extended) = kind { return extended }
        return nil
    }

    /// A `UNIQUE` or `PRIMARY KEY` constraint failed.
    public var isUniqueViolation: Bool {
        extendedCode == ExtendedResultCode.constraintUnique || extendedCode == ExtendedResultCode.constraintPrimaryKey
    }

    /// A `FOREIGN KEY` constraint failed.
    public var isForeignKeyViolation: Bool { extendedCode == ExtendedResultCode.constraintForeignKey }

    /// A `NOT NULL` constraint failed.
    public var isNotNullViolation: Bool { extendedCode == ExtendedResultCode.constraintNotNull }

    /// A constraint that failed, in backend-neutral terms: what code above storage matches on
    /// instead of reading `message`.
    public enum Constraint: Sendable, Equatable {
        /// A unique index or primary key; `columns` as the backend names them (may be empty).
        case unique(table: String?, columns: [String])
        case foreignKey
        case notNull(table: String?, column: String?)
    }

    /// The constraint this error reports, or nil for any other error.
    public var constraint: Constraint? {
        if case .postgres(let state, let table, let columns) = kind {
            switch state {
            case "23505": return .unique(table: table, columns: columns)
            case "23503": return .foreignKey
            case "23502": return .notNull(table: table, column: columns.first)
            default: return nil
            }
        }
        if isUniqueViolation {
            let (table, columns) = Self.constrainedColumns(message)
            return .unique(table: table, columns: columns)
        }
        if isForeignKeyViolation { return .foreignKey }
        if isNotNullViolation {
            let (table, columns) = Self.constrainedColumns(message)
            return .notNull(table: table, column: columns.first)
        }
        return nil
    }

    /// The database is locked by another connection past the busy timeout.
    public var isBusy: Bool {
        // PostgreSQL: serialization failure, deadlock, lock not available.
        if let sqlState { return ["40001", "40P01", "55P03"].contains(sqlState) }
        return code == SQLITE_BUSY || code == SQLITE_LOCKED
    }

    /// PostgreSQL's SQLSTATE, or `nil` when the error is not PostgreSQL's.
    public var sqlState: String? {
        if case .postgres(let state, _, _) = kind { return state }
        return nil
    }

    /// `table` and `columns` of SQLite's "UNIQUE constraint failed: t.a, t.b" (sqlite3.c,
    /// `sqlite3UniqueConstraint`): the one place that reads SQLite's message text.
    private static func constrainedColumns(_ message: String) -> (table: String?, columns: [String]) {
        guard let colon = message.range(of: "failed: ") else { return (nil, []) }
        var table: String?
        var columns: [String] = []
        for item in message[colon.upperBound...].split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ".", maxSplits: 1)
            if parts.count == 2 { table = String(parts[0]); columns.append(String(parts[1])) } else { columns.append(String(item)) }
        }
        return (table, columns)
    }

    /// The disk (or the database's size limit) is full.
    public var isDiskFull: Bool { code == SQLITE_FULL || sqlState == "53100" }

    /// The database cannot be written: opened read-only, or it could not be opened or written
    /// during a write (permissions, read-only mount, I/O failure).
    public var isReadOnly: Bool {
        if sqlState == "25006" { return true }
        guard let code else { return false }
        if code == SQLITE_READONLY { return true }
        return duringWrite && (code == SQLITE_CANTOPEN || code == SQLITE_IOERR)
    }

    public var description: String {
        var text: String
        switch kind {
        case .sqlite(let code, let extended):
            text = "SQLite error \(code) (extended \(extended)): \(message)"
        case .postgres(let state, _, _):
            text = "PostgreSQL error \(state): \(message)"
        case .databaseNewerThanBinary, .closed, .misuse:
            text = message
        }
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }
}

extension StorageError {
    /// The database or connection is closed.
    static let closed = StorageError(kind: .closed, message: "the database is closed")

    /// A misuse of the API, with an explanation.
    static func misuse(_ message: String, sql: String? = nil) -> StorageError {
        StorageError(kind: .misuse, message: message, sql: sql)
    }

    /// An SQLite error from a result code alone (no connection to ask for a message).
    static func sqlite(_ extendedCode: Int32, sql: String? = nil, duringWrite: Bool = false) -> StorageError {
        StorageError(
            kind: .sqlite(code: extendedCode & 0xFF, extendedCode: extendedCode),
            message: String(cString: sqlite3_errstr(extendedCode)), sql: sql, duringWrite: duringWrite)
    }
}

/// Extended result codes that sqlite3.h defines as `(SQLITE_CONSTRAINT | (n<<8))`, a macro shape
/// Swift does not import; restated here from sqlite.org/rescode.html.
enum ExtendedResultCode {
    static let constraintForeignKey: Int32 = SQLITE_CONSTRAINT | (3 << 8)
    static let constraintNotNull: Int32 = SQLITE_CONSTRAINT | (5 << 8)
    static let constraintPrimaryKey: Int32 = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintUnique: Int32 = SQLITE_CONSTRAINT | (8 << 8)
}
