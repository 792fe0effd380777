import Foundation
@testable import Storage

/// Which database the suite runs on. SQLite unless `TRIGGERBASE_TEST_BACKEND=postgres`, which
/// needs `TRIGGERBASE_TEST_POSTGRES` (a libpq URL of a server the tests may create schemas on):
/// each test's data folder then gets a schema of its own on that server, named after the folder,
/// so a restarted server process finds its data again.
enum TestBackend {
    /// The PostgreSQL server of the PostgreSQL-only tests, if one is configured.
    static let postgresServer: String? = ProcessInfo.processInfo.environment["TRIGGERBASE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    /// Whether the whole suite runs on PostgreSQL.
    static let isPostgres: Bool = ProcessInfo.processInfo.environment["TRIGGERBASE_TEST_BACKEND"] == "postgres" && postgresServer != nil

    /// The `--database` URL for the data folder `directory` (creating its schema), or nil on SQLite.
    static func databaseURL(forDataDirectory directory: String) throws -> String? {
        guard isPostgres else { return nil }
        return try postgresURL(forDataDirectory: directory)
    }

    /// A URL of the PostgreSQL server on a schema named after `directory` (created if need be),
    /// whichever backend the suite runs on; nil without a server.
    static func postgresURL(forDataDirectory directory: String) throws -> String? {
        guard let server = postgresServer else { return nil }
        let schema = schemaName(directory)
        let admin = try PostgresConnection(url: server)
        defer { admin.close() }
        try admin.execute("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"")
        return url(server, schema: schema)
    }

    /// Drops the schema of `directory`'s data (PostgreSQL only).
    static func dropDatabase(forDataDirectory directory: String, always: Bool = false) {
        guard isPostgres || always, let server = postgresServer, let admin = try? PostgresConnection(url: server) else { return }
        try? admin.execute("DROP SCHEMA IF EXISTS \"\(schemaName(directory))\" CASCADE")
        admin.close()
    }

    /// A backend for store-level tests: PostgreSQL on a fresh schema, or a SQLite file in `directory`.
    static func open(directory: String, file: String = "t.db") throws -> any StorageBackend {
        if let url = try databaseURL(forDataDirectory: directory) {
            return try PostgresDatabase(configuration: PostgresConfiguration(url: url))
        }
        return try SQLiteDatabase(configuration: SQLiteConfiguration(path: directory + "/" + file))
    }

    /// A connection of its own to the database of `directory`, for tests that read or change rows
    /// behind the API's back; `sqliteFile` is where the SQLite database lives.
    static func rawConnection(dataDirectory directory: String, sqliteFile: String, readOnly: Bool) throws -> RawSQL {
        if let url = try databaseURL(forDataDirectory: directory) {
            return RawSQL(try PostgresConnection(url: url))
        }
        return RawSQL(try SQLiteConnection(path: sqliteFile, mode: readOnly ? .readOnly : .readWrite))
    }

    private static func schemaName(_ directory: String) -> String {
        let tail = URL(fileURLWithPath: directory).lastPathComponent.lowercased().filter { $0.isLetter || $0.isNumber }
        return "t_" + String(tail.suffix(40))
    }

    private static func url(_ server: String, schema: String) -> String {
        server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }
}

/// A test's own connection, running the tests' SQL on either backend: identifiers written bare
/// in camelCase (`createdById`) are quoted first, since PostgreSQL folds bare names to lower case.
final class RawSQL {
    private let session: any SQLSession

    init(_ session: any SQLSession) { self.session = session }

    @discardableResult
    func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> Int { try session.run(Self.portable(sql), parameters) }
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [Row] { try session.query(Self.portable(sql), parameters) }
    func close() { session.close() }

    /// `sql` with each bare word that mixes lower and upper case, outside quotes, in double quotes.
    static func portable(_ sql: String) -> String {
        var out = "", word = ""
        var quote: Character?
        func flush() {
            let mixed = word.first?.isLowercase == true && word.contains(where: \.isUppercase)
            out += mixed ? "\"\(word)\"" : word
            word = ""
        }
        for character in sql {
            if let open = quote {
                out.append(character)
                if character == open { quote = nil }
            } else if character.isLetter || character.isNumber || character == "_" {
                word.append(character)
            } else {
                flush()
                if character == "'" || character == "\"" { quote = character }
                out.append(character)
            }
        }
        flush()
        return out
    }
}
