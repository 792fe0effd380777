import CSQLite
import Testing
@testable import Storage

struct SQLiteConnectionTests {
    static let values: [SQLiteValue] = [
        .null, .integer(0), .integer(42), .integer(.max), .integer(.min), .real(3.25), .real(-1e300),
        .text(""), .text("héllo, 世界 👋"), .text("nul\u{0}inside"), .blob([]), .blob([0, 1, 2, 255]),
    ]

    @Test(arguments: values)
    func everyValue_roundTripsInItsStorageClass(value: SQLiteValue) throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(v)")
        try connection.run("INSERT INTO t(v) VALUES (?)", [value])
        let rows = try connection.query("SELECT v, typeof(v) AS type FROM t")
        #expect(rows.count == 1)
        #expect(rows[0]["v"] == value)
        #expect(rows[0][0] == value)
        let expectedType = switch value {
        case .null: "null"
        case .integer: "integer"
        case .real: "real"
        case .text: "text"
        case .blob: "blob"
        }
        #expect(rows[0]["type"] == .text(expectedType))
    }

    @Test func rows_carryColumnNamesAndIntegerColumnsReadAsInt64() throws {
        let connection = try SQLiteConnection.make()
        let rows = try connection.query("SELECT 1 AS one, 2.5 AS two, 'x' AS three, NULL AS four")
        #expect(rows[0].columns == ["one", "two", "three", "four"])
        #expect(rows[0]["one"]?.int64 == 1)
        #expect(rows[0]["two"]?.double == 2.5)
        #expect(rows[0]["three"]?.string == "x")
        #expect(rows[0]["four"]?.isNull == true)
        #expect(rows[0]["missing"] == nil)
    }

    @Test func run_returnsChangesAndLastInsertRowID() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('a'), ('b')")
        #expect(try connection.run("INSERT INTO t(v) VALUES (?)", ["c"]) == 1)
        #expect(connection.lastInsertRowID == 3)
        #expect(try connection.run("UPDATE t SET v = 'z' WHERE id < ?", [3]) == 2)
        #expect(connection.changes == 2)
    }

    @Test func statements_arePreparedOncePerSQLText() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(v)")
        for index in 0..<10 {
            try connection.run("INSERT INTO t(v) VALUES (?)", [.integer(Int64(index))])
        }
        #expect(connection.statements.count == 1)
        #expect(try connection.query("SELECT count(*) FROM t")[0][0] == 10)
    }

    @Test func uniqueViolation_carriesCodesMessageAndSQL() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(name TEXT UNIQUE); INSERT INTO t VALUES ('a')")
        let sql = "INSERT INTO t(name) VALUES (?)"
        let error = try #require(throws: StorageError.self) { try connection.run(sql, ["a"]) }
        #expect(error.kind == .sqlite(code: SQLITE_CONSTRAINT, extendedCode: SQLITE_CONSTRAINT | (8 << 8)))
        #expect(error.isUniqueViolation)
        #expect(!error.isForeignKeyViolation)
        #expect(error.message.lowercased().contains("unique constraint failed: t.name"))
        #expect(error.sql == sql)
        #expect(error.description.contains(sql))
        // The connection is usable afterwards: the statement was reset.
        #expect(try connection.run(sql, ["b"]) == 1)
    }

    @Test func primaryKeyViolation_isAUniqueViolation() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a')")
        let error = try #require(throws: StorageError.self) { try connection.run("INSERT INTO t VALUES ('a')") }
        #expect(error.extendedCode == SQLITE_CONSTRAINT | (6 << 8))
        #expect(error.isUniqueViolation)
    }

    @Test func foreignKeyViolation_isEnforcedAndTyped() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("""
            CREATE TABLE category(id INTEGER PRIMARY KEY);
            CREATE TABLE post(id INTEGER PRIMARY KEY, categoryId INTEGER REFERENCES category(id));
            """)
        let sql = "INSERT INTO post(categoryId) VALUES (?)"
        let error = try #require(throws: StorageError.self) { try connection.run(sql, [7]) }
        #expect(error.kind == .sqlite(code: SQLITE_CONSTRAINT, extendedCode: SQLITE_CONSTRAINT | (3 << 8)))
        #expect(error.isForeignKeyViolation)
        #expect(error.message.lowercased().contains("foreign key constraint failed"))
        #expect(error.sql == sql)
    }

    @Test func notNullViolation_isTyped() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(v TEXT NOT NULL)")
        let error = try #require(throws: StorageError.self) { try connection.run("INSERT INTO t(v) VALUES (?)", [.null]) }
        #expect(error.isNotNullViolation)
        #expect(!error.isUniqueViolation)
    }

    @Test func syntaxError_carriesCodeMessageAndSQL() throws {
        let connection = try SQLiteConnection.make()
        let sql = "SELEKT 1"
        let error = try #require(throws: StorageError.self) { try connection.query(sql) }
        #expect(error.kind == .sqlite(code: SQLITE_ERROR, extendedCode: SQLITE_ERROR))
        #expect(error.message.lowercased().contains("syntax error"))
        #expect(error.sql == sql)
        let execError = try #require(throws: StorageError.self) { try connection.execute("CREATE TABLE (") }
        #expect(execError.code == SQLITE_ERROR)
        #expect(execError.sql == "CREATE TABLE (")
    }

    @Test(arguments: [
        ("SELECT ?", [SQLiteValue]()),
        ("SELECT 1", [SQLiteValue.integer(1)]),
        ("SELECT 1; SELECT 2", [SQLiteValue]()),
        ("  -- nothing", [SQLiteValue]()),
    ])
    func misuse_isRefusedBeforeRunning(sql: String, parameters: [SQLiteValue]) throws {
        let connection = try SQLiteConnection.make()
        let error = try #require(throws: StorageError.self) { try connection.query(sql, parameters) }
        #expect(error.kind == .misuse)
        #expect(error.sql == sql)
    }

    @Test func trailingSemicolonAndComment_areOneStatement() throws {
        let connection = try SQLiteConnection.make()
        #expect(try connection.query("SELECT 1; -- done\n")[0][0] == 1)
    }

    @Test func readOnlyConnection_refusesWritesAsReadOnly() throws {
        let path = makeDatabasePath()
        try SQLiteConnection(path: path, mode: .readWrite).execute("CREATE TABLE t(v)")
        let reader = try SQLiteConnection(path: path, mode: .readOnly)
        let error = try #require(throws: StorageError.self) { try reader.run("INSERT INTO t VALUES (1)") }
        #expect(error.isReadOnly)
        #expect(error.code == SQLITE_READONLY)
    }

    @Test func missingFile_inReadOnlyMode_cannotOpen() {
        let error = #expect(throws: StorageError.self) {
            try SQLiteConnection(path: makeDatabasePath(), mode: .readOnly)
        }
        #expect(error?.code == SQLITE_CANTOPEN)
        #expect(error?.isReadOnly == false)
    }

    @Test func nestedSavepoint_thatThrows_undoesOnlyItsOwnChanges() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(v TEXT)")
        try connection.inSavepoint {
            try connection.run("INSERT INTO t VALUES ('outer')")
            #expect(throws: JobFailure.self) {
                try connection.inSavepoint {
                    try connection.run("INSERT INTO t VALUES ('inner')")
                    throw JobFailure()
                }
            }
            try connection.inSavepoint { try connection.run("INSERT INTO t VALUES ('sibling')") }
        }
        #expect(!connection.isInTransaction)
        let values = try connection.query("SELECT v FROM t ORDER BY rowid").map { $0[0] }
        #expect(values == ["outer", "sibling"])
    }

    @Test func outermostSavepoint_thatThrows_leavesNoTransaction() throws {
        let connection = try SQLiteConnection.make()
        try connection.execute("CREATE TABLE t(v TEXT)")
        #expect(throws: JobFailure.self) {
            try connection.inSavepoint {
                try connection.run("INSERT INTO t VALUES ('x')")
                throw JobFailure()
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try connection.query("SELECT count(*) FROM t")[0][0] == 0)
    }

    @Test func closedConnection_throwsClosed() throws {
        let connection = try SQLiteConnection.make()
        connection.close()
        #expect(throws: StorageError.closed) { try connection.query("SELECT 1") }
        #expect(throws: StorageError.closed) { try connection.execute("SELECT 1") }
    }
}
