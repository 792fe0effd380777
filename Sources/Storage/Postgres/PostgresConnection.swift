import CPostgres
import Foundation

/// One PostgreSQL connection over libpq (postgresql.org/docs/current/libpq.html), owned by one
/// thread at a time: libpq connections "cannot be used concurrently by different threads"
/// (libpq-threading), so the type is not `Sendable`.
///
/// Statements keep the SQLite stores' `?` placeholders: `query` and `run` number them `$1…$n`
/// (outside quoted literals and identifiers) and prepare each text once, by a name of its own,
/// reusing it afterwards. Parameters go as text with no declared type, so PostgreSQL infers each
/// from its context (`"id" = $1` is a bigint), as SQLite's affinity did; results are read in text
/// format and mapped to `SQLiteValue` by the column's type.
final class PostgresConnection {
    /// The `PGconn*`; `nil` once closed.
    private(set) var handle: OpaquePointer?
    /// Prepared statement names by the SQL text as the caller wrote it.
    private var prepared: [String: String] = [:]
    /// Most prepared statements kept; beyond it the session's statements are deallocated.
    private let preparedLimit = 512
    /// Texts built from names, by shape (`SQLSession.text(of:build:)`).
    var builtTexts: [StatementShape: String] = [:]
    /// How many `inSavepoint` bodies are running (`PostgresConnection+Transaction.swift`).
    var savepointDepth = 0
    /// Actions waiting for the open transaction's outcome.
    var hooks = TransactionHooks()

    /// Where `announce` notifies; nil: announcing does nothing (a connection that only reads).
    var announcementChannel: String?
    /// Changes announced in the open transaction.
    private var announced: Set<Announcement> = []
    /// Whether a transaction was open after the last statement.
    private var wasInTransaction = false
    /// Session settings run after connecting, and again after a reconnect.
    private let setup: [String]

    /// Connects to `url` (`postgres://user:password@host:port/database` or a libpq keyword string)
    /// and runs the `setup` statements (session settings).
    init(url: String, setup: [String] = []) throws(StorageError) {
        guard let handle = PQconnectdb(url) else {
            throw StorageError(kind: .misuse, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw StorageError(kind: .postgres(sqlState: "08001", table: nil, columns: []),
                               message: "cannot connect to PostgreSQL: \(message)")
        }
        // Notices (e.g. "relation already exists, skipping") are not errors; keep stderr for logs.
        PQsetNoticeReceiver(handle, { _, _ in }, nil)
        self.handle = handle
        self.setup = setup
        for statement in setup { try execute(statement) }
    }

    deinit { close() }

    /// Closes the connection; later calls throw `.closed`.
    func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
    }

    /// Runs one or more `;`-separated statements without parameters (DDL, a migration,
    /// `BEGIN`/`COMMIT`). Rows they return are ignored.
    func execute(_ sql: String) throws(StorageError) {
        let handle = try openHandle()
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs one statement with `parameters` bound to its `?` placeholders and returns every row.
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(StorageError) -> [Row] {
        let result = try executePrepared(sql, parameters)
        defer { PQclear(result) }
        let rowCount = PQntuples(result), columnCount = PQnfields(result)
        guard rowCount > 0 else { return [] }
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [Row] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLiteValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                values.append(Self.value(result, row: row, column: column, type: types[Int(column)]))
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    /// Runs one statement with `parameters` bound to its `?` placeholders, discarding any rows,
    /// and returns the number of rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws(StorageError) -> Int {
        let result = try executePrepared(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The server process serving this connection (`PQbackendPID`): a notification it sent names it.
    var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// Whether a transaction is open (or failed and not yet rolled back).
    var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    // MARK: Statements

    private func executePrepared(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> OpaquePointer? {
        let handle = try openHandle()
        // A `*` select changes its result columns when its table gains or loses one, which a
        // prepared statement refuses ("cached plan must not change result type"): such texts are
        // planned each time instead.
        let name = sql.contains("*") ? nil : try preparedName(sql, on: handle)
        // Text values as C strings that live until the call returns; blobs go in bytea's hex form.
        var texts: [[CChar]?] = parameters.map { value in
            switch value {
            case .null: nil
            case .integer(let integer): Array(String(integer).utf8CString)
            case .real(let real): Array("\(real)".utf8CString)
            case .text(let text): Array(text.utf8CString)
            case .blob(let bytes): Self.hexLiteral(bytes)
            }
        }
        let result: OpaquePointer? = Self.withPointers(&texts) { pointers in
            if let name { return PQexecPrepared(handle, name, Int32(parameters.count), pointers, nil, nil, 0) }
            return PQexecParams(handle, Self.numberingPlaceholders(sql), Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        do {
            try check(result, sql: sql)
        } catch {
            PQclear(result)
            throw error
        }
        return result
    }

    /// The name `sql` is prepared under on this session, preparing it first if needed.
    private func preparedName(_ sql: String, on handle: OpaquePointer) throws(StorageError) -> String {
        if let name = prepared[sql] { return name }
        if prepared.count >= preparedLimit {
            try execute("DEALLOCATE ALL")
            prepared.removeAll(keepingCapacity: true)
        }
        let name = "tb\(prepared.count)"
        let result = PQprepare(handle, name, Self.numberingPlaceholders(sql), 0, nil)
        defer { PQclear(result) }
        try check(result, sql: sql)
        prepared[sql] = name
        return name
    }

    /// `sql` with each `?` outside quotes replaced by `$1`, `$2`, … in order, and each `?N`
    /// (SQLite's numbered form) by `$N`.
    static func numberingPlaceholders(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        var number = 0, quote: UInt8?, index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if let open = quote {
                if byte == open { quote = nil }
                out.append(byte)
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                quote = byte
                out.append(byte)
            } else if byte == UInt8(ascii: "?") {
                out.append(UInt8(ascii: "$"))
                let digits = bytes[index...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                if digits.isEmpty {
                    number += 1
                    out += Array(String(number).utf8)
                } else {
                    out += digits
                    index += digits.count
                }
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Calls `body` with a C array of pointers into `texts` (NULL for a SQL `NULL`).
    private static func withPointers<R>(_ texts: inout [[CChar]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        func nest(_ index: Int, _ pointers: inout [UnsafePointer<CChar>?]) -> R {
            guard index < texts.count else { return body(pointers) }
            guard texts[index] != nil else {
                pointers.append(nil)
                return nest(index + 1, &pointers)
            }
            return texts[index]!.withUnsafeBufferPointer { buffer in
                pointers.append(buffer.baseAddress)
                return nest(index + 1, &pointers)
            }
        }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(texts.count)
        return nest(0, &pointers)
    }

    // MARK: Values and errors

    /// Type OIDs of pg_type.dat that read as something other than text.
    private enum TypeOID {
        static let bool: Oid = 16, bytea: Oid = 17, int8: Oid = 20, int2: Oid = 21, int4: Oid = 23
        static let oid: Oid = 26, float4: Oid = 700, float8: Oid = 701, numeric: Oid = 1700
    }

    private static func value(_ result: OpaquePointer?, row: Int32, column: Int32, type: Oid) -> SQLiteValue {
        if PQgetisnull(result, row, column) == 1 { return .null }
        let text = String(cString: PQgetvalue(result, row, column))
        switch type {
        case TypeOID.int8, TypeOID.int4, TypeOID.int2, TypeOID.oid:
            return Int64(text).map(SQLiteValue.integer) ?? .text(text)
        case TypeOID.bool:
            return .integer(text == "t" ? 1 : 0)
        case TypeOID.float4, TypeOID.float8, TypeOID.numeric:
            return Double(text).map(SQLiteValue.real) ?? .text(text)
        case TypeOID.bytea:
            return .blob(unhex(text))
        default:
            return .text(text)
        }
    }

    /// `bytes` as bytea's hex input, `\x0a1b…`, NUL-terminated.
    private static func hexLiteral(_ bytes: [UInt8]) -> [CChar] {
        let digits = Array("0123456789abcdef".utf8)
        var text: [CChar] = [CChar(UInt8(ascii: "\\")), CChar(UInt8(ascii: "x"))]
        text.reserveCapacity(2 * bytes.count + 3)
        for byte in bytes {
            text.append(CChar(bitPattern: digits[Int(byte >> 4)]))
            text.append(CChar(bitPattern: digits[Int(byte & 0x0F)]))
        }
        text.append(0)
        return text
    }

    /// The bytes of bytea's hex output (`\x0a1b…`).
    private static func unhex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.dropFirst(2))
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        return stride(from: 0, to: digits.count - 1, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
    }

    /// The handle, reconnected first if the server dropped it (a restart, a failover): the
    /// prepared statements went with the old session, and `setup` is run again. If a transaction
    /// was open, the call fails instead, once: its work is lost and must not seem to go on.
    private func openHandle() throws(StorageError) -> OpaquePointer {
        guard let handle else { throw .closed }
        if PQstatus(handle) == CONNECTION_BAD {
            guard !wasInTransaction else {
                wasInTransaction = false
                throw StorageError(kind: .postgres(sqlState: "08006", table: nil, columns: []),
                                   message: "lost the PostgreSQL connection inside a transaction", duringWrite: true)
            }
            PQreset(handle)
            guard PQstatus(handle) == CONNECTION_OK else {
                throw StorageError(kind: .postgres(sqlState: "08006", table: nil, columns: []),
                                   message: "lost the PostgreSQL connection: \(Self.trimmed(PQerrorMessage(handle)))")
            }
            prepared.removeAll()
            for statement in setup { try execute(statement) }
        }
        return handle
    }

    /// Throws the error `result` reports, with its SQLSTATE and, for a constraint, its table and
    /// the columns named in the detail ("Key (a, b)=(…) already exists.").
    private func check(_ result: OpaquePointer?, sql: String) throws(StorageError) {
        wasInTransaction = isInTransaction
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK { return }
        guard let result else {
            throw StorageError(kind: .postgres(sqlState: "08006", table: nil, columns: []),
                               message: Self.trimmed(PQerrorMessage(handle)), sql: sql, duringWrite: true)
        }
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let state = field(UInt8(ascii: "C")) ?? "XX000"
        var columns: [String] = []
        if let column = field(UInt8(ascii: "c")) { columns = [column] }
        if state == "23505", let detail = field(UInt8(ascii: "D")) { columns = Self.keyColumns(detail) }
        throw StorageError(kind: .postgres(sqlState: state, table: field(UInt8(ascii: "t")), columns: columns),
                           message: field(UInt8(ascii: "M")) ?? Self.trimmed(PQresultErrorMessage(result)),
                           sql: sql, duringWrite: true)
    }

    /// The column names of a unique violation's detail, `Key ("a", b)=(…) already exists.`: the
    /// one place that reads PostgreSQL's message text.
    static func keyColumns(_ detail: String) -> [String] {
        guard detail.hasPrefix("Key ("), let end = detail.range(of: ")=(") else { return [] }
        let list = detail[detail.index(detail.startIndex, offsetBy: 5)..<end.lowerBound]
        return list.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension PostgresConnection: SQLSession {
    var dialect: any SQLDialect { PostgresDialect() }

    /// `pg_notify` on `announcementChannel`, once per change and transaction: PostgreSQL delivers
    /// it at commit and drops it with a rolled-back savepoint. Outside a transaction it is sent at once.
    func announce(_ change: Announcement) throws {
        guard let channel = announcementChannel, !announced.contains(change) else { return }
        _ = try query("SELECT pg_notify(?, ?)", [.text(channel), .text(change.rawValue)])
        guard isInTransaction else { return }
        announced.insert(change)
        afterCommit { [unowned self] in announced.remove(change) }
        onRollback { [unowned self] in announced.remove(change) }
    }

    func insert(_ sql: String, _ parameters: [SQLiteValue]) throws(StorageError) -> Int64 {
        guard let id = try query(sql + #" RETURNING "id""#, parameters).first?[0].int64 else {
            throw .misuse("INSERT returned no id", sql: sql)
        }
        return id
    }
}

@available(*, unavailable, message: "a libpq connection belongs to one thread")
extension PostgresConnection: Sendable {}
