import Auth
import HTTPServer
import JSON
import Model
import RecordWorkflows
import Storage

/// `/api/management/workflow/definitions[/<id>[/workflow/events]]` (spec 06), root and admin:
/// every save is a new version ("0.1", "0.2" … then "1.0" once published, "1.1" …); a body whose
/// `version` is not the latest is 409 `NotLatestVersion`; publishing is an event on the definition.
/// Answers are Contensis-shaped: the definition object itself (a JSON array for the list).
package struct RecordWorkflowDefinitionService: Sendable {
    package let database: Database

    package func handle(path: Substring, request: HTTPRequest, access: AccessCheck) async throws -> HTTPResponse {
        try access.requireManager()
        let parts = path.split(separator: "/").map(String.init)
        switch (request.method, parts.count) {
        case ("GET", 0), ("HEAD", 0): return try await list()
        case ("GET", 1), ("HEAD", 1): return .json(try await read(parts[0]).serializedBytes())
        case ("PUT", 1):
            return .json(try await save(parts[0], try ResourceService.parseBody(request.body), actorID: access.actor.userID).serializedBytes())
        case ("POST", 3) where parts[1] == "workflow" && parts[2] == "events":
            return .json(try await publish(parts[0], try ResourceService.parseBody(request.body)).serializedBytes())
        default:
            // Not taken above: 405 when the route table knows the path, else 404.
            let base = "/api/management/workflow/definitions"
            let template: String? = switch parts.count {
            case 0: base
            case 1: base + "/{definitionId}"
            case 3 where parts[1] == "workflow" && parts[2] == "events": base + "/{definitionId}/workflow/events"
            default: nil
            }
            if let template { try APIRoutes.check(request.method, fixed: template) }
            throw Self.notFound(path)
        }
    }

    package static func notFound(_ id: some StringProtocol) -> DomainError {
        DomainError(.notFound, code: "NotFound", message: "no record workflow definition '\(id)'")
    }

    // MARK: Reading

    private func list() async throws -> HTTPResponse {
        let items = try await database.read { connection in
            try connection.query("SELECT DISTINCT \"id\" FROM \"recordWorkflowDefinitions\" ORDER BY \"id\"").compactMap { row in
                try row[0].string.flatMap { try Self.latest($0, connection) }.map(Self.json)
            }
        }
        return .json(JSON.array(items).serializedBytes())
    }

    private func read(_ id: String) async throws -> JSON {
        try await database.read { connection in
            guard let latest = try Self.latest(id, connection) else { throw Self.notFound(id) }
            return Self.json(latest)
        }
    }

    /// One stored version.
    package struct Version: Sendable {
        package var id: String
        package var major: Int64
        package var minor: Int64
        package var published: Bool
        package var definition: JSON
        package var version: String { "\(major).\(minor)" }
    }

    package static func latest(_ id: String, _ connection: SQLiteConnection, publishedOnly: Bool = false) throws -> Version? {
        guard let row = try connection.query("""
            SELECT "major", "minor", "published", "definition" FROM "recordWorkflowDefinitions"
            WHERE "id" = ?\(publishedOnly ? " AND \"published\" = 1" : "") ORDER BY "major" DESC, "minor" DESC LIMIT 1
            """, [.text(id)]).first else { return nil }
        return Version(id: id, major: row[0].int64 ?? 0, minor: row[1].int64 ?? 0, published: row[2].int64 == 1,
                       definition: row[3].string.flatMap { try? JSON.parse($0) } ?? .null)
    }

    /// The definition as stored, with its `version` and whether that version is published.
    package static func json(_ version: Version) -> JSON {
        var object = version.definition.objectValue ?? [:]
        object["id"] = .string(version.id)
        object["version"] = .string(version.version)
        object["published"] = .bool(version.published)
        return .object(object)
    }

    // MARK: Writing

    /// Saves a new version (the body's own `version` and `published` are checked, not stored).
    package func save(_ id: String, _ body: JSON, actorID: Int64?) async throws -> JSON {
        guard Self.isValidID(id) else { throw DomainError(.unprocessable, code: "ValidationError", message: "'\(id)' is not a valid definition id", field: "id") }
        guard case .object(var object) = body else { throw RecordWorkflowDefinition.invalid([.init(message: "a definition is a JSON object", code: "ValidationError")]) }
        let claimed = object.removeValue(forKey: "version")
        _ = object.removeValue(forKey: "published")
        let parsed = try RecordWorkflowDefinition.parse(.object(object), id: id)
        object["id"] = .string(id)
        let definition = JSON.object(object)
        return try await database.write { connection in
            try Self.save(id, definition, parsed: parsed, claimedVersion: claimed, actorID: actorID, connection: connection).map(Self.json)
                ?? Self.json(try Self.latest(id, connection)!)
        }
    }

    /// Saves inside a write job; nil when `definition` equals the latest version (nothing saved).
    @discardableResult
    package static func save(_ id: String, _ definition: JSON, parsed: RecordWorkflowDefinition, claimedVersion: JSON?, actorID: Int64?,
                     connection: SQLiteConnection, skipIdentical: Bool = false) throws -> Version? {
        let latest = try latest(id, connection)
        if let latest { try checkLatest(claimedVersion, latest) }
        if skipIdentical, let latest, latest.definition == definition { return nil }
        let next: (Int64, Int64) = latest.map { ($0.major, $0.minor + 1) } ?? (0, 1)
        try connection.run("""
            INSERT INTO "recordWorkflowDefinitions" ("id", "major", "minor", "published", "initialState", "definition", "createdAt", "createdById")
            VALUES (?, ?, ?, 0, ?, ?, ?, ?)
            """, [.text(id), .integer(next.0), .integer(next.1), .text(parsed.initialState), .text(definition.serialized()),
                  .text(Timestamp.now()), actorID.map { .integer($0) } ?? .null])
        return Version(id: id, major: next.0, minor: next.1, published: false, definition: definition)
    }

    /// `{"event": "publish", "version"?}`: the latest version becomes the next whole version, published.
    package func publish(_ id: String, _ body: JSON) async throws -> JSON {
        guard body["event"]?.stringValue == "publish" else {
            throw DomainError(.unprocessable, code: "ValidationError", message: "the only definition event is 'publish'", field: "event")
        }
        return try await database.write { connection in
            Self.json(try Self.publish(id, claimedVersion: body["version"], connection: connection))
        }
    }

    package static func publish(_ id: String, claimedVersion: JSON?, connection: SQLiteConnection) throws -> Version {
        guard let latest = try latest(id, connection) else { throw notFound(id) }
        try checkLatest(claimedVersion, latest)
        guard !latest.published else {
            throw DomainError(.unprocessable, code: "ValidationError", message: "version \(latest.version) of '\(id)' is already published")
        }
        try connection.run("""
            INSERT INTO "recordWorkflowDefinitions" ("id", "major", "minor", "published", "initialState", "definition", "createdAt", "createdById")
            SELECT "id", "major" + 1, 0, 1, "initialState", "definition", ?, "createdById" FROM "recordWorkflowDefinitions"
            WHERE "id" = ? AND "major" = ? AND "minor" = ?
            """, [.text(Timestamp.now()), .text(id), .integer(latest.major), .integer(latest.minor)])
        return Version(id: id, major: latest.major + 1, minor: 0, published: true, definition: latest.definition)
    }

    /// 409 `NotLatestVersion` when the body names a version other than the latest (none named: no check).
    private static func checkLatest(_ claimed: JSON?, _ latest: Version) throws(DomainError) {
        guard let claimed, !claimed.isNull, claimed.stringValue != latest.version else { return }
        throw DomainError(.conflict, code: "NotLatestVersion",
                       message: "version \(claimed.stringValue ?? claimed.serialized()) is not the latest (\(latest.version))", field: "version")
    }

    package static func isValidID(_ id: String) -> Bool { Name.isValidKey(id) }
}
