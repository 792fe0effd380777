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
        Migration(version: 2, name: "002_users", sql: """
            -- Users (spec 03). The auth layer fills and manages them; every collection's createdBy / updatedBy
            -- relation points here. `password` holds only a salted slow hash, never the password.
            CREATE TABLE "users" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                "createdAt" TEXT NOT NULL,
                "updatedAt" TEXT NOT NULL,
                "createdById" INTEGER,
                "updatedById" INTEGER,
                "username" TEXT NOT NULL UNIQUE,
                "email" TEXT UNIQUE,
                "nickname" TEXT,
                "password" TEXT
            );

            """),
    ]
}
