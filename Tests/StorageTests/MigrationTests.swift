import Testing
@testable import Storage

struct MigrationTests {
    static let migrations = [
        Migration(version: 2, name: "post", sql: """
            CREATE TABLE post(id INTEGER PRIMARY KEY, categoryId INTEGER REFERENCES category(id));
            CREATE INDEX post_category ON post(categoryId);
            """),
        Migration(version: 1, name: "category", sql: "CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT)"),
        Migration(version: 3, name: "category title", sql: "CREATE UNIQUE INDEX category_title ON category(title)"),
    ]

    @Test func migrations_applyInVersionOrderAndAreRecorded() async throws {
        let database = try SQLiteDatabase.make()
        defer { database.close() }
        try database.migrate(Self.migrations)
        let rows = try await database.read { try $0.query("SELECT version, name, appliedAt FROM _migrations ORDER BY version") }
        #expect(rows.map { $0["version"] } == [1, 2, 3])
        #expect(rows.map { $0["name"] } == ["category", "post", "category title"])
        // RFC 3339 UTC with milliseconds, e.g. 2026-11-22T14:31:00.000Z.
        let appliedAt = try #require(rows.first?["appliedAt"]?.string)
        #expect(appliedAt.count == 24 && appliedAt.hasSuffix("Z") && appliedAt.contains("T"))
        let tables = try await database.read {
            try $0.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('category', 'post')")
        }
        #expect(tables.count == 2)
    }

    @Test func migrations_alreadyRecorded_areSkipped() async throws {
        let database = try SQLiteDatabase.make()
        defer { database.close() }
        try database.migrate(Array(Self.migrations.prefix(2)))
        // The CREATE TABLE statements would fail if run again.
        try database.migrate(Self.migrations)
        try database.migrate(Self.migrations)
        let versions = try await database.read { try $0.query("SELECT version FROM _migrations ORDER BY version").map { $0[0] } }
        #expect(versions == [1, 2, 3])
    }

    @Test func databaseNewerThanBinary_refusesWithAClearMessage() throws {
        let first = try SQLiteDatabase.make()
        try first.migrate(Self.migrations)
        first.close()
        let second = try SQLiteDatabase(configuration: first.configuration)
        defer { second.close() }
        let error = try #require(throws: StorageError.self) {
            try second.migrate(Self.migrations.filter { $0.version < 3 })
        }
        #expect(error.kind == .databaseNewerThanBinary(database: 3, binary: 2))
        #expect(error.message == "database schema version 3 is newer than this binary (2); upgrade triggerbase")
    }

    @Test func failingMigration_isRolledBackAndNotRecorded() async throws {
        let database = try SQLiteDatabase.make()
        defer { database.close() }
        let broken = Migration(version: 4, name: "broken", sql: "CREATE TABLE half(id INTEGER); CREATE TABLE oops(")
        let error = try #require(throws: StorageError.self) { try database.migrate(Self.migrations + [broken]) }
        #expect(error.message.hasPrefix("migration 4 (broken) failed:"))
        #expect(error.sql == broken.sql)
        let state = try await database.read { connection in
            (try connection.query("SELECT max(version) FROM _migrations")[0][0],
             try connection.query("SELECT count(*) FROM sqlite_master WHERE name = 'half'")[0][0])
        }
        #expect(state.0 == 3)
        #expect(state.1 == 0)
    }

    @Test func duplicateVersions_areAMisuse() throws {
        let database = try SQLiteDatabase.make()
        defer { database.close() }
        let error = try #require(throws: StorageError.self) {
            try database.migrate([Self.migrations[1], Migration(version: 1, name: "again", sql: "SELECT 1")])
        }
        #expect(error.kind == .misuse)
    }
}
