import Auth
import HTTPServer
import JSON
import Model
import RecordWorkflows
import Records
import Storage
import Workflows

/// Invoking record-workflow events and reading the history (spec 06):
/// `POST /api/<collection>/<id>/workflow/events` (or `<collection>:invokeWorkflow?filterByTk=<id>`)
/// and `GET /api/<collection>/<id>/workflow/history`.
///
/// An invocation is one write job: the checks (event allowed in the current state, roles, the
/// caller's `version`, required parameters), the exit actions, the transition, the new state's
/// entry actions, the history row and the post-action workflows it fires (action `workflowEvent`)
/// commit together, or — when any check fails — nothing does.
package struct RecordWorkflowService: Sendable {
    package let database: Database
    package let schema: SchemaState
    package let workflows: WorkflowRuntime

    /// `<collection>/<id>/workflow/<events|history>` → its parts.
    package static func route(_ path: Substring) -> (collection: String, id: Int64, resource: String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[2] == "workflow", parts[3] == "events" || parts[3] == "history", let id = PositiveID.parse(parts[1]) else { return nil }
        return (String(parts[0]), id, String(parts[3]))
    }

    // MARK: Invoking

    package func invoke(collection: String, id: Int64, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, fixed: "/{id}/workflow/events")
        let catalogue = schema.current
        guard let definition = catalogue.collection(collection), !definition.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        guard let binding = definition.workflowDefinition else {
            throw DomainError(.notFound, code: "NOT_FOUND", message: "'\(collection)' is not bound to a record workflow")
        }
        let grant = try access.require("update", on: collection)
        guard case .object(let body) = try ResourceService.parseBody(request.body) else { throw DomainError.badRequest("the body must be a JSON object") }
        guard let eventName = body["event"]?.stringValue, !eventName.isEmpty else { throw DomainError.validation("event", "event is required") }
        let data = body["data"] ?? .object([:])
        guard case .object(let given) = data else { throw DomainError.validation("data", "data must be an object") }
        var expectedVersion: Int64?
        if let version = body["version"], !version.isNull {
            guard let number = version.intValue ?? version.stringValue.flatMap({ Int64($0) }) else {
                throw DomainError.validation("version", "version must be the record's workflowVersion (an integer)")
            }
            expectedVersion = number
        }
        let trigger = try TriggerRequest(query["triggerWorkflows"], collection: collection, catalogue: catalogue)
        let actor = access.actor, user = access.user, workflows = self.workflows, schema = self.schema
        let outcome = try await database.write { [expectedVersion] connection -> WorkflowRuntime.WriteOutcome in
            var values = given
            let catalogue = schema.writerCatalogue
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: actor.userID)
            var condition = "t0.\"id\" = ?"
            var parameters: [SQLiteValue] = [.integer(id)]
            if let own = OwnScope(grant, actor: actor) {
                condition += " AND " + own.condition.sql
                parameters += own.condition.parameters
            }
            guard let record = try writer.store.select(collection, where: condition, parameters: parameters).first else { throw DomainError.notFound }
            guard let stored = try RecordWorkflowDefinitionService.latest(binding, connection, publishedOnly: true) else {
                throw DomainError(.conflict, code: "WORKFLOW_NOT_PUBLISHED", message: "record workflow '\(binding)' has no published version")
            }
            let machine = try RecordWorkflowDefinition.parse(stored.definition, id: binding)
            let current = record["workflowState"]?.stringValue ?? machine.initialState
            let event = try Self.event(eventName, in: machine, current: current)
            if let roles = event.roles, actor.roleName != "root", !roles.contains(actor.roleName) {
                throw DomainError(.forbidden, code: "NO_PERMISSION", message: "role '\(actor.roleName)' may not invoke '\(current).\(event.id)'")
            }
            if let expectedVersion, expectedVersion != record["workflowVersion"]?.intValue {
                throw DomainError(.conflict, code: "NotLatestVersion",
                               message: "the record is at workflowVersion \(record["workflowVersion"]?.intValue ?? 0), not \(expectedVersion)", field: "version")
            }
            var problems: [DomainError.Item] = []
            for parameter in event.parameters {
                let value = values[parameter.id]
                if value == nil || value == .null || value == .string("") {
                    if parameter.required {
                        problems.append(.init(message: parameter.requiredMessage ?? "'\(parameter.id)' is required", code: "ValidationError",
                                              field: "data.\(parameter.id)"))
                    } else if !parameter.defaultValue.isNull {
                        values[parameter.id] = parameter.defaultValue
                    }
                }
            }
            if !problems.isEmpty { throw DomainError(.unprocessable, items: problems) }

            let target = event.transitionTo ?? current
            let actions = event.exitActions + (event.transitionTo == nil ? [] : machine.state(target)?.entryActions ?? [])
            for action in actions {
                try Self.run(action, collection: collection, id: id, values: values, writer: &writer, catalogue: catalogue)
            }
            let stamp = Timestamp.now()
            try connection.run("""
                UPDATE \(Name.quoted(collection)) SET "workflowState" = ?, "workflowVersion" = "workflowVersion" + 1, "updatedAt" = ?, "updatedById" = ?
                WHERE "id" = ?
                """, [.text(target), .text(stamp), actor.userID.map { .integer($0) } ?? .null, .integer(id)])
            try connection.run("""
                INSERT INTO "recordWorkflowHistory" ("collection", "recordId", "event", "from", "to", "data", "userId", "at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(collection), .integer(id), .text(event.id), .text(current), .text(target), .text(JSON.object(values).serialized()),
                      actor.userID.map { .integer($0) } ?? .null, .text(stamp)])
            let updated = try writer.store.records(collection, ids: [id])
            var outcome = WorkflowRuntime.WriteOutcome(data: .object(updated[0]))
            let runs = try workflows.plan(action: "workflowEvent", collection: collection, affected: [id], nested: writer.effects.created,
                                          request: trigger, actor: actor, store: writer.store, fired: &outcome.fired)
            try workflows.insert(runs, actor: actor, user: user, store: writer.store, fired: &outcome.fired,
                                 context: ["event": .string(event.id)])
            return outcome
        }
        return await workflows.response(outcome, requestID: request.requestID)
    }

    /// `state.event` (the state must be the current one) or a bare event id of the current state.
    package static func event(_ name: String, in machine: RecordWorkflowDefinition, current: String) throws(DomainError) -> RecordWorkflowDefinition.Event {
        var eventID = name
        if let dot = name.firstIndex(of: ".") {
            let stateID = String(name[..<dot])
            eventID = String(name[name.index(after: dot)...])
            guard stateID == current else { throw notAllowed(name, current) }
        }
        guard let event = machine.state(current)?.events.first(where: { $0.id == eventID }) else { throw notAllowed(name, current) }
        return event
    }

    private static func notAllowed(_ name: String, _ state: String) -> DomainError {
        DomainError(.unprocessable, code: "EVENT_NOT_ALLOWED", message: "event '\(name)' is not allowed in state '\(state)'", field: "event")
    }

    /// One exit or entry action on the record.
    private static func run(_ action: String, collection: String, id: Int64, values: JSONObject, writer: inout RecordWriter,
                            catalogue: Catalogue) throws {
        let connection = writer.store.connection
        switch action {
        case "validateEntry":
            guard let record = try writer.store.record(collection, id: id), let definition = catalogue.collection(collection) else { return }
            let problems = definition.fields.filter { field in
                guard field.required, let column = field.column else { return false }
                let value = record[column] ?? .null
                return value == .null || value == .string("")
            }.map { DomainError.Item(message: "'\($0.name)' is required", code: "ValidationError", field: $0.name) }
            if !problems.isEmpty { throw DomainError(.unprocessable, items: problems) }
        case "publishEntry":
            try connection.run("UPDATE \(Name.quoted(collection)) SET \"published\" = 1, \"publishedAt\" = ? WHERE \"id\" = ?",
                               [.text(Timestamp.now()), .integer(id)])
        case "unpublishEntry":
            try connection.run("UPDATE \(Name.quoted(collection)) SET \"published\" = 0, \"publishedAt\" = NULL WHERE \"id\" = ?", [.integer(id)])
        default:  // updateEntry: the event's data values that name fields of the collection, validated like an update
            guard let definition = catalogue.collection(collection) else { return }
            var fields = JSONObject()
            for (key, value) in values where definition.fields.contains(where: { $0.name == key }) { fields[key] = value }
            if !fields.isEmpty { _ = try writer.update(collection, ids: [id], values: .object(fields)) }
        }
    }

    // MARK: History

    package func history(collection: String, id: Int64, request: HTTPRequest, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, fixed: "/{id}/workflow/history")
        let catalogue = schema.current
        guard catalogue.collection(collection)?.isBuiltIn == false else { throw DomainError.collectionNotFound(collection) }
        let grant = try access.require("view", on: collection)
        let own = OwnScope(grant, actor: access.actor)
        let rows = try await database.read { connection -> [JSON]? in
            guard let record = try RecordStore(connection: connection, catalogue: catalogue).record(collection, id: id) else { return nil }
            if let own, !own.allows(record) { return nil }
            return try connection.query("""
                SELECT "id", "recordId", "event", "from", "to", "data", "userId", "at" FROM "recordWorkflowHistory"
                WHERE "collection" = ? AND "recordId" = ? ORDER BY "id"
                """, [.text(collection), .integer(id)]).map { row in
                ["id": .int(row[0].int64 ?? 0), "recordId": .int(row[1].int64 ?? 0), "event": .string(row[2].string ?? ""),
                 "from": row[3].string.map(JSON.string) ?? .null, "to": row[4].string.map(JSON.string) ?? .null,
                 "data": row[5].string.flatMap { try? JSON.parse($0) } ?? .null, "userId": row[6].int64.map(JSON.int) ?? .null,
                 "at": .string(row[7].string ?? "")]
            }
        }
        guard let rows else { throw DomainError.notFound }
        return ResourceService.ok(.array(rows))
    }
}
