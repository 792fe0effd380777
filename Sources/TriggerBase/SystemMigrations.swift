import Storage

/// The system tables' DDL, numbered. The same text lives in `schema/NNN_name.sql`; a test checks
/// that the two never drift.
enum SystemMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "001_collections", sql: """
            -- Collection definitions: one row per collection, its JSON definition as accepted by
            -- /api/collections:create (schema/collection.schema.json). The tables themselves are created
            -- from these definitions.
            CREATE TABLE "collections" (
                "name" TEXT PRIMARY KEY,
                "definition" TEXT NOT NULL,
                "createdAt" TEXT NOT NULL
            );

            """),
    ]
}
