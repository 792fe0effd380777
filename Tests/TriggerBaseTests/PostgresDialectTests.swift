import Foundation
import JSON
import Testing
@testable import Model
@testable import Storage

/// `PostgresDialect` against a real PostgreSQL (`TRIGGERBASE_TEST_POSTGRES`, as `.ci/run` sets):
/// the blog catalogue's tables created through it, and filters compiled through it select what
/// the same filters select on SQLite.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TRIGGERBASE_TEST_POSTGRES"] != nil,
                "set TRIGGERBASE_TEST_POSTGRES to a PostgreSQL URL"))
struct PostgresDialectTests {
    @Test func theBlogTablesAreCreatedAndFiltersSelectWhatTheyDoOnSQLite() throws {
        let connection = try PostgresConnection(url: ProcessInfo.processInfo.environment["TRIGGERBASE_TEST_POSTGRES"]!)
        let schema = "tb_dialect_\(UUID().uuidString.prefix(8).lowercased())"
        try connection.execute(#"CREATE SCHEMA "\#(schema)"; SET search_path TO "\#(schema)""#)
        defer { try? connection.execute(#"DROP SCHEMA "\#(schema)" CASCADE"#) }
        let catalogue = try Catalogue.blog()
        let sqlite = try SQLiteConnection(path: ":memory:", mode: .readWrite)
        for statement in SchemaBuilder(dialect: SQLiteDialect()).statements(from: .base, to: catalogue) { try sqlite.execute(statement) }
        for statement in SchemaBuilder(dialect: PostgresDialect()).statements(from: .base, to: catalogue) { try connection.execute(statement) }

        let rows: [[SQLiteValue]] = [["Hello World", 5, 2.5], ["50% off", 0, .null], ["", .null, 1], ["hello", 12, .null]]
        let insert = #"INSERT INTO "posts" ("createdAt", "updatedAt", "title", "views", "score") VALUES ('t', 't', ?, ?, ?)"#
        for row in rows {
            try sqlite.run(insert, row)
            try connection.run(insert, row)
        }
        let filters = [
            #"{"title": {"$includes": "hello"}}"#, #"{"title": {"$includes": "50%"}}"#, #"{"title": {"$notIncludes": "o"}}"#,
            #"{"title": {"$startsWith": "He"}}"#, #"{"title": {"$endsWith": "lo"}}"#, #"{"title": {"$endsWith": ""}}"#,
            #"{"title": {"$empty": true}}"#, #"{"views": {"$empty": false}}"#, #"{"views": {"$in": [0, 12]}}"#,
            #"{"$or": [{"score": {"$gt": 2}}, {"views": null}]}"#, #"{"title": {"$includes": []}}"#, #"{"$and": []}"#,
        ]
        for text in filters {
            var compiler = FilterCompiler(catalogue: catalogue)
            let condition = try compiler.compile(FilterCompiler.parse(text: text), collection: "posts")
            func ids(_ session: any SQLSession) throws -> [Int64] {
                let (sql, parameters) = condition.sql(session.dialect, root: "t0")
                return try session.query(#"SELECT t0."id" FROM "posts" t0 WHERE \#(sql) ORDER BY t0."id""#, parameters).compactMap { $0[0].int64 }
            }
            #expect(try ids(connection) == ids(sqlite), "\(text)")
        }
    }
}
