import Auth
import HTTPServer
import JSON
import Model
import Records
import Storage
import Workflows

/// `/api/workflows:list|get|create|update|destroy|revision|execute` (specs 04, 05), root and admin only.
/// Reads go through the resource service (filters, sort, paging over the built-in `workflows`
/// collection); writes keep the version rules: one current version per key, enabling makes a
/// version current and disables the previous one, and a version with executions keeps its
/// `config` and `nodes` (409 `VERSION_HAS_EXECUTIONS`).
package struct WorkflowService: Sendable {
    package let database: any StorageBackend
    package let schema: SchemaState
    package let resources: ResourceService
    package let registry: WorkflowRegistry
    package let directStart: DirectStartService

    package func handle(action: String, id: Int64?, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, action: action, in: APIRoutes.workflows, resource: "workflows")
        try access.requireManager()
        switch action {
        case "list", "get":
            return try await resources.handle(collection: "workflows", action: action, id: id, request: request, query: query, access: access)
        case "create":
            return try await create(try ResourceService.parseBody(request.body), actorID: access.actor.userID)
        case "execute":
            guard let versionID = try id ?? query.primaryKeys()?.first else { throw DomainError.invalidParameter("filterByTk", "the version id is required") }
            return try await execute(versionID, body: request.body.isEmpty ? .object([:]) : try ResourceService.parseBody(request.body), access: access)
        case "update", "destroy", "revision":
            guard let versionID = try id ?? query.primaryKeys()?.first else { throw DomainError.invalidParameter("filterByTk", "the version id is required") }
            switch action {
            case "update": return try await update(versionID, body: try ResourceService.parseBody(request.body), actorID: access.actor.userID)
            case "destroy": return try await destroy(versionID)
            default: return try await revision(versionID, actorID: access.actor.userID)
            }
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action 'workflows:\(action)'")
        }
    }

    // MARK: Writes (each a job of the single writer)

    package func create(_ body: JSON, actorID: Int64?) async throws -> HTTPResponse {
        guard case .object(let object) = body else { throw DomainError.badRequest("a workflow is a JSON object") }
        if let key = object["key"], key.stringValue == nil && !key.isNull { throw WorkflowDefinition.invalid("key", "key must be a string") }
        let key = object["key"]?.stringValue ?? "wf_" + Crypto.hex(Crypto.randomBytes(6))
        guard Name.isValidKey(key) else { throw WorkflowDefinition.invalid("key", "'\(key)' is not a valid key (^[A-Za-z0-9_-]{1,64}$)") }
        var definition = WorkflowDefinition(key: key)
        try definition.merge(object)
        try definition.validate(catalogue: schema.current)
        let saved = try await database.write { [definition] connection -> JSON in
            guard try !connection.workflows.hasVersions(key: key) else {
                throw DomainError(.conflict, code: "WORKFLOW_EXISTS", message: "workflow '\(key)' exists; use workflows:revision for a new version")
            }
            let id = try Self.insert(definition, versionNumber: 1, actorID: actorID, connection)
            try registry.reload(connection)
            return try Self.read(id, connection)
        }
        return ResourceService.ok(saved)
    }

    package func update(_ id: Int64, body: JSON, actorID: Int64?) async throws -> HTTPResponse {
        guard case .object(let object) = body else { throw DomainError.badRequest("a workflow is a JSON object") }
        if let key = object["key"]?.stringValue, !Name.isValidKey(key) { throw WorkflowDefinition.invalid("key", "'\(key)' is not a valid key (^[A-Za-z0-9_-]{1,64}$)") }
        let catalogue = schema.current
        let saved = try await database.write { connection -> JSON in
            guard var definition = try WorkflowDefinition.load(id, connection) else { throw DomainError.notFound }
            if let key = object["key"]?.stringValue, key != definition.key {
                throw WorkflowDefinition.invalid("key", "the key of a version cannot change")
            }
            let before = definition
            try definition.merge(object)
            if definition.config != before.config || definition.nodes != before.nodes || definition.type != before.type
                || definition.sync != before.sync,
               try connection.executions.hasExecutions(ofVersion: id) {
                throw DomainError(.conflict, code: "VERSION_HAS_EXECUTIONS",
                               message: "version \(id) has executions; its config and nodes are fixed (use workflows:revision)")
            }
            try definition.validate(catalogue: catalogue)
            if definition.enabled && !before.enabled { try Self.makeCurrent(id, key: definition.key, connection) }
            try connection.workflows.updateVersion(id, definition, actorID: actorID)
            try registry.reload(connection)
            return try Self.read(id, connection)
        }
        return ResourceService.ok(saved)
    }

    package func destroy(_ id: Int64) async throws -> HTTPResponse {
        let count = try await database.write { [registry] connection in
            let count = try connection.workflows.deleteVersion(id)
            try registry.reload(connection)
            return count
        }
        guard count > 0 else { throw DomainError.notFound }
        return ResourceService.ok(.int(Int64(count)))
    }

    /// A disabled copy of a version under the same key (NocoBase's `filter={"key": …}` changes nothing).
    package func revision(_ id: Int64, actorID: Int64?) async throws -> HTTPResponse {
        let saved = try await database.write { connection -> JSON in
            guard var definition = try WorkflowDefinition.load(id, connection) else { throw DomainError.notFound }
            definition.enabled = false
            let next = (try connection.workflows.latestVersionNumber(key: definition.key) ?? 0) + 1
            let newID = try Self.insert(definition, versionNumber: next, actorID: actorID, connection, current: false)
            try registry.reload(connection)
            return try Self.read(newID, connection)
        }
        return ResourceService.ok(saved)
    }

    /// NocoBase's `workflows:execute` (spec 05): runs that version now, in the request, with
    /// `values.data` (an object, or the id of a record of its collection) and optionally another
    /// user; answers `{"data": {"execution": {"id", "status"}}}`, or `execution: null` when the
    /// record does not exist.
    package func execute(_ versionID: Int64, body: JSON, access: AccessCheck) async throws -> HTTPResponse {
        let values = body["values"] ?? .object([:])
        guard case .object = values else { throw DomainError.validation("values", "values must be an object") }
        let catalogue = schema.current
        let prepared = try await database.read { connection -> (data: JSON, user: JSON)? in
            guard let definition = try WorkflowDefinition.load(versionID, connection) else { throw DomainError.notFound }
            var data = values["data"] ?? .object([:])
            if let recordID = data.intValue {
                guard let collection = definition.config["collection"]?.stringValue,
                      let record = try connection.records(catalogue).record(collection, id: recordID) else { return nil }
                data = .object(record)
            } else if case .object = data {} else {
                throw DomainError.validation("values.data", "data must be an object or a record id")
            }
            var user = access.user
            if let userID = values["userId"]?.intValue {
                guard let record = try connection.records(Catalogue.base).record("users", id: userID) else {
                    throw DomainError.validation("values.userId", "user \(userID) does not exist")
                }
                user = .object(record)
            }
            return (data, user)
        }
        guard let prepared else { return ResourceService.ok(["execution": .null]) }
        let context: JSON = ["data": prepared.data, "user": prepared.user, "roleName": .string(access.actor.roleName)]
        let (id, status) = try await directStart.start(versionID, context: context, businessKey: nil, runHere: true)
        return ResourceService.ok(["execution": ["id": .int(id), "status": status.map(JSON.int) ?? .null]])
    }

    // MARK: Rows

    /// Inserts a version; an enabled one becomes current (and disables the key's previous current version).
    package static func insert(_ d: WorkflowDefinition, versionNumber: Int64, actorID: Int64?, _ connection: any Transaction,
                       current: Bool? = nil) throws -> Int64 {
        let id = try connection.workflows.insertVersion(d, versionNumber: versionNumber, actorID: actorID)
        let hasCurrent = try connection.workflows.hasCurrentVersion(key: d.key)
        if d.enabled || (current != false && !hasCurrent) { try makeCurrent(id, key: d.key, connection) }
        return id
    }

    /// Makes `id` the key's current version; the previous current one is disabled (spec 04).
    package static func makeCurrent(_ id: Int64, key: String, _ connection: any Transaction) throws {
        try connection.workflows.makeCurrent(id, key: key)
    }

    package static func read(_ id: Int64, _ connection: any Transaction) throws -> JSON {
        let catalogue = Catalogue.base
        guard let record = try connection.records(catalogue).record("workflows", id: id) else { throw DomainError.notFound }
        return .object(record)
    }
}
