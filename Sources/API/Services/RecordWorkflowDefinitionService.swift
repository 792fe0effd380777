import Auth
import HTTPServer
import JSON
import Model
import RecordWorkflows
import Storage

/// `/api/management/workflow/definitions[/<id>[/workflow/events]]` (spec 06), root and admin, as
/// HTTP over `RecordWorkflowVersions`: every save is a new version; publishing is an event on the
/// definition. Answers are Contensis-shaped: the definition object itself (a JSON array for the list).
package struct RecordWorkflowDefinitionService: Sendable {
    package let database: any StorageBackend

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
            throw RecordWorkflowVersions.notFound(path)
        }
    }

    private func list() async throws -> HTTPResponse {
        let items = try await database.read { connection in
            let store = connection.recordWorkflows
            return try store.definitionIDs().compactMap { try store.latestVersion(of: $0, publishedOnly: false) }.map(Self.json)
        }
        return .json(JSON.array(items).serializedBytes())
    }

    private func read(_ id: String) async throws -> JSON {
        try await database.read { connection in
            guard let latest = try connection.recordWorkflows.latestVersion(of: id, publishedOnly: false) else { throw RecordWorkflowVersions.notFound(id) }
            return Self.json(latest)
        }
    }

    /// The definition as stored, with its `version` and whether that version is published.
    private static func json(_ version: RecordWorkflowVersion) -> JSON {
        var object = version.definition.objectValue ?? [:]
        object["id"] = .string(version.id)
        object["version"] = .string(version.version)
        object["published"] = .bool(version.published)
        return .object(object)
    }

    /// Saves a new version (the body's own `version` and `published` are checked, not stored).
    private func save(_ id: String, _ body: JSON, actorID: Int64?) async throws -> JSON {
        let (definition, parsed, claimed) = try RecordWorkflowVersions.definition(id, from: body)
        return try await database.write { connection in
            let saved = try RecordWorkflowVersions.save(id, definition, parsed: parsed, claimedVersion: claimed, actorID: actorID,
                                                        store: connection.recordWorkflows, now: Timestamp.now())
            // Never nil: identical definitions are only skipped for seeds.
            return saved.map(Self.json) ?? .null
        }
    }

    /// `{"event": "publish", "version"?}`: the latest version becomes the next whole version, published.
    private func publish(_ id: String, _ body: JSON) async throws -> JSON {
        guard body["event"]?.stringValue == "publish" else {
            throw DomainError(.unprocessable, code: "ValidationError", message: "the only definition event is 'publish'", field: "event")
        }
        return try await database.write { connection in
            Self.json(try RecordWorkflowVersions.publish(id, claimedVersion: body["version"], store: connection.recordWorkflows, now: Timestamp.now()))
        }
    }
}
