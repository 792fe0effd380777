import Auth
import HTTPServer
import JSON
import Model
import RecordWorkflows
import Records
import Storage
import Workflows

/// Invoking record-workflow events and reading the history (spec 06) as HTTP:
/// `POST /api/<collection>/<id>/workflow/events` (or `<collection>:invokeWorkflow?filterByTk=<id>`)
/// and `GET /api/<collection>/<id>/workflow/history`, handed to `RecordWorkflowEvents`.
package struct RecordWorkflowService: Sendable {
    package let database: any StorageBackend
    package let schema: SchemaState
    package let workflows: WorkflowRuntime

    private var events: RecordWorkflowEvents { RecordWorkflowEvents(database: database, schema: schema, workflows: workflows) }

    /// `<collection>/<id>/workflow/<events|history>` → its parts.
    package static func route(_ path: Substring) -> (collection: String, id: Int64, resource: String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[2] == "workflow", parts[3] == "events" || parts[3] == "history", let id = PositiveID.parse(parts[1]) else { return nil }
        return (String(parts[0]), id, String(parts[3]))
    }

    /// `{"event", "data"?, "version"?}`; `?triggerWorkflows=` as for any write.
    package func invoke(collection: String, id: Int64, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, fixed: "/{id}/workflow/events")
        let events = self.events
        let target = try events.target(collection, access: access)
        guard case .object(let body) = try ResourceService.parseBody(request.body) else { throw DomainError.badRequest("the body must be a JSON object") }
        guard let eventName = body["event"]?.stringValue, !eventName.isEmpty else { throw DomainError.validation("event", "event is required") }
        let data = body["data"] ?? .object([:])
        guard case .object(let given) = data else { throw DomainError.validation("data", "data must be an object") }
        var expectedWorkflowVersion: Int64?
        if let version = body["version"], !version.isNull {
            guard let number = version.intValue ?? version.stringValue.flatMap({ Int64($0) }) else {
                throw DomainError.validation("version", "version must be the record's workflowVersion (an integer)")
            }
            expectedWorkflowVersion = number
        }
        let trigger = try TriggerWorkflowsParameter(query["triggerWorkflows"], collection: collection, catalogue: target.catalogue)
        let invocation = RecordWorkflowEvents.Invocation(recordID: id, event: eventName, data: given, expectedWorkflowVersion: expectedWorkflowVersion, trigger: trigger)
        let outcome = try await events.invoke(invocation, on: target, access: access)
        return await workflows.response(outcome, requestID: request.requestID)
    }

    package func history(collection: String, id: Int64, request: HTTPRequest, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, fixed: "/{id}/workflow/history")
        let entries = try await events.history(collection: collection, id: id, access: access)
        return ResourceService.ok(.array(entries.map { entry in
            ["id": .int(entry.id), "recordId": .int(entry.recordID), "event": .string(entry.event),
             "from": entry.from.map(JSON.string) ?? .null, "to": entry.to.map(JSON.string) ?? .null,
             "data": entry.data, "userId": entry.userID.map(JSON.int) ?? .null, "at": .string(entry.at)]
        }))
    }
}
