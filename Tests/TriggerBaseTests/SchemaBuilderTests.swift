import Foundation
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// `SchemaBuilder`: the DDL from one catalogue to the next, checked as text and run on SQLite.
@Suite struct SchemaBuilderTests {
    @Test func newCollections_getTablesIndexesJoinTablesAndForeignKeys() throws {
        let statements = SchemaBuilder.statements(from: .base, to: try Catalogue.blog())
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
        #expect(SchemaBuilder.statements(from: blog, to: blog).isEmpty)
    }

    @Test func addedFields_becomeAddedColumnsAndTheirIndexes() throws {
        let old = try Catalogue.blog()
        let new = try old.adding([CollectionDefinition(name: "posts", fields: [
            FieldDefinition(name: "slug", type: .string, unique: true),
            FieldDefinition(name: "author", type: .belongsTo, target: "users", onDelete: .restrict),
            FieldDefinition(name: "related", type: .belongsToMany, target: "categories"),
        ], workflowDefinition: "review")])
        let statements = SchemaBuilder.statements(from: old, to: new)
        #expect(statements == SchemaBuilder.workflowColumns.map { #"ALTER TABLE "posts" ADD COLUMN "# + $0 } + [
            #"ALTER TABLE "posts" ADD COLUMN "slug" TEXT"#,
            #"ALTER TABLE "posts" ADD COLUMN "authorId" INTEGER REFERENCES "users"("id") ON DELETE RESTRICT"#,
            #"CREATE UNIQUE INDEX IF NOT EXISTS "ux_posts_slug" ON "posts"("slug")"#,
            #"CREATE INDEX IF NOT EXISTS "ix_posts_authorId" ON "posts"("authorId")"#,
            // The stored naive name: `categories` → `categorieId` (CatalogueTests).
            #"CREATE TABLE IF NOT EXISTS "posts_categories" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "postId" INTEGER NOT NULL REFERENCES "posts"("id") ON DELETE CASCADE, "categorieId" INTEGER NOT NULL REFERENCES "categories"("id") ON DELETE CASCADE, UNIQUE("postId", "categorieId"))"#,
        ])
        try runOnSQLite(SchemaBuilder.statements(from: .base, to: old) + statements)
    }

    /// The statements are valid SQLite, in order, on an empty database.
    private func runOnSQLite(_ statements: [String]) throws {
        let connection = try SQLiteConnection(path: ":memory:", mode: .readWrite)
        for sql in statements { _ = try connection.run(sql) }
    }
}
