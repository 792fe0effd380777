import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// `FilterCompiler` on its own: the SQL text and the bound parameters (values never spliced).
@Suite struct FilterCompilerTests {
    func compile(_ text: String, collection: String = "posts") throws -> (sql: String, parameters: [SQLiteValue]) {
        var compiler = FilterCompiler(catalogue: try Catalogue.blog())
        let sql = try compiler.compile(FilterCompiler.parse(text: text), collection: collection, alias: "t0")
        return (sql, compiler.parameters)
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

    @Test(arguments: [#"{"nope": 1}"#, #"{"tags": 1}"#, #"{"title": {"$dateOn": "2026-01-01"}}"#, "[1]", "{"])
    func badFilters_areInvalidParameters(filter: String) {
        #expect(throws: DomainError.self) { try compile(filter) }
    }
}
