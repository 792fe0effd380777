import Foundation
import HTTPServer
import JSON
import Logging
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// The whole application in process: a temporary database seeded from `seed`, served on an
/// ephemeral loopback port. Kept alive for the body of `withTestApp`.
final class TestApp {
    let application: Application
    let server: HTTPServer
    let dataDirectory: String
    var port: Int { server.port }

    /// `clock`: the time workflows go by (a `ManualClock` to test schedules without sleeping).
    init(seed: String?, clock: (any WorkflowClock)? = nil, configureApplication: (inout ApplicationConfiguration) -> Void = { _ in },
         configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        dataDirectory = ServerProcess.temporaryDirectory()
        var configuration = ApplicationConfiguration()
        if let clock { configuration.workflowClock = clock }
        configuration.dataDirectory = dataDirectory
        configuration.synchronous = .normal
        configuration.database = try TestBackend.databaseURL(forDataDirectory: dataDirectory)
        configureApplication(&configuration)
        application = try Application(configuration: configuration, logger: Logger(level: .error))
        if let seed {
            let path = dataDirectory + "/seed.json"
            try seed.write(toFile: path, atomically: true, encoding: .utf8)
            _ = try application.applySeedFile(path)
        }
        var serverConfiguration = HTTPServerConfiguration()
        serverConfiguration.port = 0
        serverConfiguration.eventLoopCount = 2
        // A test's client may sit idle while other tests hold every thread of the test process's
        // cooperative pool (a slower backend makes that longer than the 60 s default).
        serverConfiguration.idleTimeout = .seconds(600)
        configure(&serverConfiguration)
        server = try HTTPServer(configuration: serverConfiguration, handler: application.handler)
        application.startWorkflows()
        server.start()
    }

    /// The token that first start wrote to `root.token`.
    var rootToken: String {
        (try? String(contentsOfFile: dataDirectory + "/root.token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// A client acting as root.
    func client() throws -> HTTPTestClient { try HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(rootToken)"]) }

    /// A client sending no token.
    func anonymousClient() throws -> HTTPTestClient { try HTTPTestClient(port: port) }

    /// A connection of the test's own to the database, bypassing the API.
    func rawConnection(readOnly: Bool = false) throws -> RawSQL {
        try TestBackend.rawConnection(dataDirectory: dataDirectory, sqliteFile: dataDirectory + "/triggerbase.db", readOnly: readOnly)
    }

    /// Rows straight from the database, bypassing the API.
    func rows(_ sql: String) throws -> [[String: String]] {
        let connection = try rawConnection(readOnly: true)
        defer { connection.close() }
        return try connection.query(sql).map { row in
            var result: [String: String] = [:]
            for (i, column) in row.columns.enumerated() {
                switch row.values[i] {
                case .null: result[column] = "NULL"
                case .integer(let v): result[column] = String(v)
                case .real(let v): result[column] = String(v)
                case .text(let v): result[column] = v
                case .blob: result[column] = "BLOB"
                }
            }
            return result
        }
    }

    /// The column names of `table`, from the database's own catalogue.
    func columnNames(_ table: String) throws -> [String] {
        let sql = TestBackend.isPostgres
            ? "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '\(table)'"
            : "PRAGMA table_info(\(table))"
        return try rows(sql).compactMap { $0["name"] }
    }

    /// The tables whose names match the LIKE `pattern`.
    func tableNames(like pattern: String) throws -> [String] {
        let sql = TestBackend.isPostgres
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE '\(pattern)'"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\(pattern)'"
        return try rows(sql).compactMap { $0["name"] }
    }

    func count(_ table: String) throws -> Int { Int(try rows("SELECT count(*) AS n FROM \"\(table)\"")[0]["n"]!)! }

    deinit {
        server.shutdown()
        server.wait()
        application.shutdown()
        TestBackend.dropDatabase(forDataDirectory: dataDirectory)
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

import Storage

func withTestApp(seed: String? = TestSeeds.blog, application configure: (inout ApplicationConfiguration) -> Void = { _ in },
                 _ body: (TestApp) throws -> Void) throws {
    let app = try TestApp(seed: seed, configureApplication: configure)
    try withExtendedLifetime(app) { try body(app) }
}

enum TestSeeds {
    static let blog = """
    { "collections": [
        { "name": "categories", "fields": [ { "name": "title", "type": "string", "required": true, "unique": true, "maxLength": 20 } ] },
        { "name": "posts", "fields": [
            { "name": "title", "type": "string", "required": true },
            { "name": "content", "type": "text" },
            { "name": "views", "type": "integer", "default": 0 },
            { "name": "score", "type": "double" },
            { "name": "published", "type": "boolean" },
            { "name": "day", "type": "date" },
            { "name": "at", "type": "datetime" },
            { "name": "meta", "type": "json" },
            { "name": "secret", "type": "string", "hidden": true },
            { "name": "category", "type": "belongsTo", "target": "categories" },
            { "name": "comments", "type": "hasMany", "target": "comments", "foreignKey": "postId" },
            { "name": "tags", "type": "belongsToMany", "target": "tags" } ] },
        { "name": "comments", "fields": [ { "name": "body", "type": "text", "required": true },
                                         { "name": "post", "type": "belongsTo", "target": "posts", "foreignKey": "postId" } ] },
        { "name": "tags", "fields": [ { "name": "name", "type": "string" } ] } ],
      "records": { "categories": [ { "id": 1, "title": "News" }, { "id": 2, "title": "Guides" } ],
                   "tags": [ { "id": 1, "name": "swift" }, { "id": 2, "name": "sqlite" } ] } }
    """
}
