import Foundation
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// `SchemaBuilder`: the DDL from one catalogue to the next, written through the SQLite dialect,
/// checked as text and run on SQLite.
@Suite struct SchemaBuilderTests {
    let builder = SchemaBuilder(dialect: SQLiteDialect())

    @Test func newCollections_getTablesIndexesJoinTablesAndForeignKeys() throws {
        let statements = builder.statements(from: .base, to: try Catalogue.blog())
        #expect(statements.contains(#"CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "createdAt" TEXT NOT NULL, "updatedAt" TEXT NOT NULL, "createdById" INTEGER, "updatedById" INTEGER, "title" TEXT, "views" INTEGER, "score" REAL, "postedAt" TEXT, "categoryId" INTEGER REFERENCES "categories"("id") ON DELETE SET NULL)"#))
        #expect(statements.contains(#"CREATE UNIQUE INDEX IF NOT EXISTS "ux_posts_title" ON "posts"("title")"#))
        #expect(statements.contains(#"CREATE INDEX IF NOT EXISTS "ix_posts_views" ON "posts"("views")"#))
        #expect(statements.contains(#"CREATE INDEX IF NOT EXISTS "ix_posts_categoryId" ON "posts"("categoryId")"#))
        #expect(statements.contains(#"CREATE TABLE IF NOT EXISTS "posts_tags" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "postId" INTEGER NOT NULL REFERENCES "posts"("id") ON DELETE CASCADE, "tagId" INTEGER NOT NULL REFERENCES "tags"("id") ON DELETE CASCADE, UNIQUE("postId", "tagId"))"#))
        #expect(statements.contains(#"ALTER TABLE "comments" ADD COLUMN "postId" INTEGER REFERENCES "posts"("id") ON DELETE CASCADE"#))
        #expect(statements.contains(#"CREATE INDEX IF NOT EXISTS "ix_comments_postId" ON "comments"("postId")"#))
        #expect(!statements.contains { $0.contains(#""users""#) && $0.hasPrefix("CREATE TABLE") })
        try runOnSQLite(statements)
    }

    @Test func unchangedCatalogue_needsNoStatements() throws {
        let blog = try Catalogue.blog()
        #expect(builder.statements(from: blog, to: blog).isEmpty)
    }

    @Test func addedFields_becomeAddedColumnsAndTheirIndexes() throws {
        let old = try Catalogue.blog()
        let new = try old.adding([CollectionDefinition(name: "posts", fields: [
            FieldDefinition(name: "slug", type: .string, unique: true),
            FieldDefinition(name: "author", type: .belongsTo, target: "users", onDelete: .restrict),
            FieldDefinition(name: "related", type: .belongsToMany, target: "categories"),
        ], workflowDefinition: "review")])
        let statements = builder.statements(from: old, to: new)
        #expect(statements == [
            #"ALTER TABLE "posts" ADD COLUMN "workflowState" TEXT"#,
            #"ALTER TABLE "posts" ADD COLUMN "workflowVersion" INTEGER NOT NULL DEFAULT 1"#,
            #"ALTER TABLE "posts" ADD COLUMN "published" INTEGER NOT NULL DEFAULT 0"#,
            #"ALTER TABLE "posts" ADD COLUMN "publishedAt" TEXT"#,
            #"ALTER TABLE "posts" ADD COLUMN "slug" TEXT"#,
            #"ALTER TABLE "posts" ADD COLUMN "authorId" INTEGER REFERENCES "users"("id") ON DELETE RESTRICT"#,
            #"CREATE UNIQUE INDEX IF NOT EXISTS "ux_posts_slug" ON "posts"("slug")"#,
            #"CREATE INDEX IF NOT EXISTS "ix_posts_authorId" ON "posts"("authorId")"#,
            // The stored naive name: `categories` → `categorieId` (CatalogueTests).
            #"CREATE TABLE IF NOT EXISTS "posts_categories" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "postId" INTEGER NOT NULL REFERENCES "posts"("id") ON DELETE CASCADE, "categorieId" INTEGER NOT NULL REFERENCES "categories"("id") ON DELETE CASCADE, UNIQUE("postId", "categorieId"))"#,
        ])
        try runOnSQLite(builder.statements(from: .base, to: old) + statements)
    }

    @Test func droppingCollectionsAndFields_dropsTablesIndexesAndColumns() throws {
        #expect(builder.dropStatements("posts", joinTables: ["posts_tags"]) == [
            #"DROP TABLE IF EXISTS "posts""#, #"DROP TABLE IF EXISTS "posts_tags""#,
        ])
        #expect(builder.dropFieldStatements("title", of: "posts") == [
            #"DROP INDEX IF EXISTS "ux_posts_title""#, #"DROP INDEX IF EXISTS "ix_posts_title""#,
            #"ALTER TABLE "posts" DROP COLUMN "title""#,
        ])
        let blog = try Catalogue.blog()
        try runOnSQLite(builder.statements(from: .base, to: blog) + builder.dropFieldStatements("title", of: "posts")
            + builder.dropStatements("posts", joinTables: ["posts_tags"]))
    }

    /// The statements are valid SQLite, in order, on an empty database.
    private func runOnSQLite(_ statements: [String]) throws {
        let connection = try SQLiteConnection(path: ":memory:", mode: .readWrite)
        for sql in statements { _ = try connection.run(sql) }
    }
}
