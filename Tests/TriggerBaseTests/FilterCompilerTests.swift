import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// `FilterCompiler` on its own: the condition it compiles, written by the SQLite dialect — the SQL
/// text and the bound parameters (values never spliced).
@Suite struct FilterCompilerTests {
    func condition(_ text: String, collection: String = "posts") throws -> RecordCondition {
        var compiler = FilterCompiler(catalogue: try Catalogue.blog())
        return try compiler.compile(FilterCompiler.parse(text: text), collection: collection)
    }

    func compile(_ text: String, collection: String = "posts") throws -> (sql: String, parameters: [SQLiteValue]) {
        try condition(text, collection: collection).sql(SQLiteDialect(), root: "t0")
    }

    @Test(arguments: [
        (#"{"views": {"$gt": 3}}"#, #"t0."views" > ?"#, [.integer(3)]),
        (#"{"views": 3}"#, #"t0."views" = ?"#, [.integer(3)]),
        (#"{"title": {"$ne": "x"}}"#, #"(t0."title" IS NULL OR t0."title" <> ?)"#, [.text("x")]),
        (#"{"views": {"$in": [1, null, 2]}}"#, #"(t0."views" IS NULL OR t0."views" IN (?, ?))"#, [.integer(1), .integer(2)]),
        (#"{"views": {"$notIn": []}}"#, #"t0."views" IS NOT NULL"#, []),
        (#"{"score": {"$gte": 2}}"#, #"t0."score" >= ?"#, [.real(2)]),
        (#"{"title": {"$includes": "50%"}}"#, #"(t0."title" LIKE ? ESCAPE '\')"#, [.text(#"%50\%%"#)]),
        (#"{"postedAt": {"$lt": "2026-11-22T15:31:00+01:00"}}"#, #"t0."postedAt" < ?"#, [.text("2026-11-22T14:31:00.000Z")]),
        (#"{"$or": [{"views": null}, {"title": {"$exists": false}}]}"#, #"(t0."views" IS NULL OR t0."title" IS NULL)"#, []),
        (#"{"category": 7}"#, #"t0."categoryId" = ?"#, [.integer(7)]),
        (#"{"title": {"$notIncludes": ["a", "b"]}}"#, #"(t0."title" NOT LIKE ? ESCAPE '\' AND t0."title" NOT LIKE ? ESCAPE '\')"#,
         [.text("%a%"), .text("%b%")]),
        (#"{"title": {"$includes": []}}"#, "0", []),
        (#"{"title": {"$notLike": "a_"}}"#, #"t0."title" NOT LIKE ?"#, [.text("a_")]),
        (#"{"title": {"$startsWith": "ab"}}"#, #"substr(t0."title", 1, length(?)) = ?"#, [.text("ab"), .text("ab")]),
        (#"{"title": {"$endsWith": "ab"}}"#, #"(length(?) = 0 OR substr(t0."title", -length(?)) = ?)"#, [.text("ab"), .text("ab"), .text("ab")]),
        (#"{"title": {"$empty": true}}"#, #"(t0."title" IS NULL OR t0."title" = '' OR t0."title" = '[]')"#, []),
        (#"{"title": {"$notEmpty": true}}"#, #"(t0."title" IS NOT NULL AND t0."title" <> '' AND t0."title" <> '[]')"#, []),
        (#"{"views": {"$isTruly": true}}"#, #"t0."views" = 1"#, []),
        (#"{"views": {"$isFalsy": true}}"#, #"(t0."views" IS NULL OR t0."views" = 0)"#, []),
        (#"{"views": {"$ne": [1, 2]}}"#, #"(t0."views" IS NOT NULL AND t0."views" NOT IN (?, ?))"#, [.integer(1), .integer(2)]),
        (#"{"postedAt": {"$dateOn": "2026-11-22"}}"#, #"(t0."postedAt" IS NOT NULL AND t0."postedAt" >= ? AND t0."postedAt" < ?)"#,
         [.text("2026-11-22T00:00:00.000Z"), .text("2026-11-23T00:00:00.000Z")]),
        (#"{"postedAt": {"$dateNotOn": "2026-11-22"}}"#, #"(t0."postedAt" IS NOT NULL AND NOT (t0."postedAt" >= ? AND t0."postedAt" < ?))"#,
         [.text("2026-11-22T00:00:00.000Z"), .text("2026-11-23T00:00:00.000Z")]),
        (#"{"postedAt": {"$dateBefore": "2026-11-22"}}"#, #"(t0."postedAt" IS NOT NULL AND t0."postedAt" < ?)"#,
         [.text("2026-11-22T00:00:00.000Z")]),
    ] as [(String, String, [SQLiteValue])])
    func operators_compileToBoundSQL(filter: String, sql: String, parameters: [SQLiteValue]) throws {
        let compiled = try compile(filter)
        #expect(compiled.sql == sql)
        #expect(compiled.parameters == parameters)
    }

    @Test func andOr_areParenthesized_andEmptyListsAreConstants() throws {
        let both = try compile(#"{"$and": [{"views": {"$lt": 9}}, {"$or": [{"title": "a"}, {"score": 1.5}]}]}"#)
        #expect(both.sql == #"(t0."views" < ? AND (t0."title" = ? OR t0."score" = ?))"#)
        #expect(both.parameters == [.integer(9), .text("a"), .real(1.5)])
        #expect(try compile(#"{"$and": []}"#).sql == "1")
        #expect(try compile(#"{"$or": []}"#).sql == "0")
    }

    @Test func relationPaths_becomeSubqueries() throws {
        let belongsTo = try compile(#"{"category.name": "news"}"#)
        #expect(belongsTo.sql == #"t0."categoryId" IN (SELECT f1."id" FROM "categories" f1 WHERE f1."name" = ?)"#)
        #expect(belongsTo.parameters == [.text("news")])

        let joined = try compile(#"{"tags.name": {"$in": ["a", "b"]}}"#)
        #expect(joined.sql == #"t0."id" IN (SELECT "postId" FROM "posts_tags" WHERE "tagId" IN (SELECT f1."id" FROM "tags" f1 WHERE f1."name" IN (?, ?)))"#)
        #expect(joined.parameters == [.text("a"), .text("b")])

        let hasMany = try compile(#"{"comments.body": {"$like": "%x%"}}"#)
        #expect(hasMany.sql == #"t0."id" IN (SELECT f1."postId" FROM "comments" f1 WHERE f1."body" LIKE ?)"#)
        #expect(hasMany.parameters == [.text("%x%")])
    }

    @Test func conditions_combineAndRenderWithTheirOwnAliases() throws {
        let scoped = RecordCondition.createdBy(7) && .ids([1, 2]) && (try condition(#"{"category.name": "news"}"#))
        let (sql, parameters) = scoped.sql(SQLiteDialect(), root: "r")
        #expect(sql == #"((r."createdById" = ? AND r."id" IN (?, ?)) AND r."categoryId" IN (SELECT f1."id" FROM "categories" f1 WHERE f1."name" = ?))"#)
        #expect(parameters == [.integer(7), .integer(1), .integer(2), .text("news")])
        #expect((RecordCondition.always && .id(3)) == .id(3))
        #expect(RecordCondition.ids([]).sql().sql == "0")
        #expect(RecordCondition.createdBy(nil).sql().parameters == [.null])

        let blog = try Catalogue.blog()
        let tags = try #require(blog.collection("posts")?.field("tags"))
        #expect(RecordCondition.related(to: 4, by: tags, in: "posts").sql().sql == #"t0."id" IN (SELECT "tagId" FROM "posts_tags" WHERE "postId" = ?)"#)
        let comments = try #require(blog.collection("posts")?.field("comments"))
        #expect(RecordCondition.related(to: 4, by: comments, in: "posts").sql().sql == #"t0."postId" = ?"#)
        #expect(try RecordCondition.field(FieldDefinition(name: "title", type: .string), equals: .null).sql().sql == #"t0."title" IS NULL"#)
        #expect(throws: DomainError.self) { try RecordCondition.field(FieldDefinition(name: "views", type: .integer), equals: "x") }
    }

    @Test func sort_isCheckedAndWrittenWithNullsLast() throws {
        let blog = try Catalogue.blog()
        #expect(try RecordOrder.sort(["-views", "title"], collection: "posts", catalogue: blog).sql()
            == #"t0."views" DESC NULLS LAST, t0."title" ASC NULLS LAST, t0."id" ASC"#)
        #expect(RecordOrder.id.sql() == #"t0."id""#)
        #expect(throws: DomainError.self) { try RecordOrder.sort(["nope"], collection: "posts", catalogue: blog) }
    }

    /// The dialect writes every placeholder and constant: a numbered-placeholder dialect (as
    /// PostgreSQL's would be) changes them and nothing else.
    @Test func anotherDialect_writesItsOwnPlaceholdersAndConstants() throws {
        struct Numbered: SQLDialect {
            let base = SQLiteDialect()
            func quoted(_ name: String) -> String { base.quoted(name) }
            func placeholder(_ index: Int) -> String { "$\(index)" }
            var insertionOrder: String { "\"position\"" }
            var beginWrite: String { "BEGIN" }
            var migrationLock: String? { nil }
            var skippingLockedRows: String { "" }
            var claimLock: String? { nil }
            func advanceKeySequence(of table: String) -> String? { nil }
            func constant(_ value: Bool) -> String { value ? "TRUE" : "FALSE" }
            func contains(_ column: String, _ text: String, negated: Bool, _ sql: inout SQLBuilder) -> String {
                "\(column) \(negated ? "NOT ILIKE" : "ILIKE") \(sql.bind(.text(LikePattern.containing(text)))) ESCAPE '\\'"
            }
            func like(_ column: String, _ pattern: String, negated: Bool, _ sql: inout SQLBuilder) -> String {
                base.like(column, pattern, negated: negated, &sql)
            }
            func startsWith(_ column: String, _ text: String, _ sql: inout SQLBuilder) -> String { "starts_with(\(column), \(sql.bind(.text(text))))" }
            func endsWith(_ column: String, _ text: String, _ sql: inout SQLBuilder) -> String { base.endsWith(column, text, &sql) }
            func isEmpty(_ column: String, negated: Bool) -> String { base.isEmpty(column, negated: negated) }
            func isTrue(_ column: String) -> String { "\(column) = TRUE" }
            func isFalsy(_ column: String) -> String { "\(column) IS NOT TRUE" }
            func orderKey(_ column: String, descending: Bool) -> String { base.orderKey(column, descending: descending) }
            func limit(_ limit: String, offset: String?) -> String { base.limit(limit, offset: offset) }
            func insert(into table: String, columns: [String], values: [String]) -> String {
                base.insert(into: table, columns: columns, values: values)
            }
            func insertIgnoringDuplicates(into table: String, columns: [String], values: [String]) -> String {
                "INSERT INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) ON CONFLICT DO NOTHING"
            }
            func primaryKey(_ name: String) -> String { "\(quoted(name)) BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" }
            func columnType(_ type: FieldType) -> String? { type == .boolean ? "BOOLEAN" : type == .double ? "DOUBLE PRECISION" : base.columnType(type) }
            var foreignKeyType: String { "BIGINT" }
            func booleanLiteral(_ value: Bool) -> String { value ? "TRUE" : "FALSE" }
        }
        let filter = try condition(#"{"$or": [{"title": {"$includes": "a"}}, {"views": {"$in": [1, 2]}}, {"title": {"$startsWith": "x"}}, {"$and": []}]}"#)
        let (sql, parameters) = filter.sql(Numbered(), root: "t0")
        #expect(sql == #"((t0."title" ILIKE $1 ESCAPE '\') OR t0."views" IN ($2, $3) OR starts_with(t0."title", $4) OR TRUE)"#)
        #expect(parameters == [.text("%a%"), .integer(1), .integer(2), .text("x")])
        let ddl = SchemaBuilder(dialect: Numbered()).statements(from: .base, to: try Catalogue.blog())
        #expect(ddl.contains(#"CREATE TABLE IF NOT EXISTS "posts_tags" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "postId" BIGINT NOT NULL REFERENCES "posts"("id") ON DELETE CASCADE, "tagId" BIGINT NOT NULL REFERENCES "tags"("id") ON DELETE CASCADE, UNIQUE("postId", "tagId"))"#))
    }

    @Test(arguments: [#"{"nope": 1}"#, #"{"tags": 1}"#, #"{"title": {"$dateOn": "2026-01-01"}}"#, "[1]", "{"])
    func badFilters_areInvalidParameters(filter: String) {
        #expect(throws: DomainError.self) { try compile(filter) }
    }
}
