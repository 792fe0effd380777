import Auth
import JSON
import Model
import Records
import Storage
import Workflows

/// Invoking record-workflow events on records and reading their history (spec 06).
///
/// An invocation is one write: the checks (event allowed in the current state, roles, the
/// caller's `version`, required parameters), the exit actions, the transition, the new state's
/// entry actions, the history row and the post-action workflows it fires (action `workflowEvent`)
/// commit together, or — when any check fails — nothing does.
package struct RecordWorkflowEvents: Sendable {
    package let database: any StorageBackend
    package let schema: SchemaState
    package let workflows: WorkflowRuntime

    package init(database: any StorageBackend, schema: SchemaState, workflows: WorkflowRuntime) {
        self.database = database
        self.schema = schema
        self.workflows = workflows
    }

    /// A collection bound to a record workflow, and the actor's `update` grant on it.
    package struct Target: Sendable {
        /// The catalogue the checks were made against.
        package var catalogue: Catalogue
        package var collection: String
        /// The id of the bound record-workflow definition.
        package var binding: String
        package var grant: RolePermissions.Grant
    }

    /// `collection` as the target of an invocation by `access`: it must exist, be bound to a
    /// record workflow, and the actor may update it.
    package func target(_ collection: String, access: AccessCheck) throws(DomainError) -> Target {
        let catalogue = schema.current
        guard let collectionDefinition = catalogue.collection(collection), !collectionDefinition.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        guard let binding = collectionDefinition.workflowDefinition else {
            throw DomainError(.notFound, code: "NOT_FOUND", message: "'\(collection)' is not bound to a record workflow")
        }
        return Target(catalogue: catalogue, collection: collection, binding: binding, grant: try access.require("update", on: collection))
    }

    /// One event to invoke on one record.
    package struct Invocation: Sendable {
        package var recordID: Int64
        /// `state.event` or a bare event id of the record's current state.
        package var event: String
        /// The event's parameters.
        package var data: JSONObject
        /// The record's `workflowVersion` the caller saw, checked when given.
        package var expectedWorkflowVersion: Int64?
        package var trigger: TriggerWorkflowsParameter

        package init(recordID: Int64, event: String, data: JSONObject, expectedWorkflowVersion: Int64?, trigger: TriggerWorkflowsParameter) {
            self.recordID = recordID
            self.event = event
            self.data = data
            self.expectedWorkflowVersion = expectedWorkflowVersion
            self.trigger = trigger
        }
    }

    /// Invokes `invocation` on a record of `target` as `access`; the updated record and the workflows fired.
    package func invoke(_ invocation: Invocation, on target: Target, access: AccessCheck) async throws -> WorkflowRuntime.WriteOutcome {
        let actor = access.actor, user = access.user, workflows = self.workflows, schema = self.schema
        let collection = target.collection, id = invocation.recordID
        return try await database.write { connection -> WorkflowRuntime.WriteOutcome in
            let store = connection.recordWorkflows
            var values = invocation.data
            let catalogue = schema.writerCatalogue
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: actor.userID)
            guard let record = try writer.store.record(collection, id: id) else { throw DomainError.notFound }
            if let own = OwnScope(target.grant, actor: actor), !own.allows(record) { throw DomainError.notFound }
            guard let stored = try store.latestVersion(of: target.binding, publishedOnly: true) else {
                throw DomainError(.conflict, code: "WORKFLOW_NOT_PUBLISHED", message: "record workflow '\(target.binding)' has no published version")
            }
            let parsed = try RecordWorkflowDefinition.parse(stored.definition, id: target.binding)
            let current = record["workflowState"]?.stringValue ?? parsed.initialState
            let event = try Self.event(invocation.event, in: parsed, current: current)
            if let roles = event.roles, actor.roleName != "root", !roles.contains(actor.roleName) {
                throw DomainError(.forbidden, code: "NO_PERMISSION", message: "role '\(actor.roleName)' may not invoke '\(current).\(event.id)'")
            }
            if let expected = invocation.expectedWorkflowVersion, expected != record["workflowVersion"]?.intValue {
                throw DomainError(.conflict, code: "NotLatestVersion",
                                  message: "the record is at workflowVersion \(record["workflowVersion"]?.intValue ?? 0), not \(expected)", field: "version")
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

            let next = event.transitionTo ?? current
            let actions = event.exitActions + (event.transitionTo == nil ? [] : parsed.state(next)?.entryActions ?? [])
            for action in actions {
                try Self.perform(action, collection: collection, id: id, values: values, writer: &writer, store: store, catalogue: catalogue)
            }
            let now = Timestamp.now()
            try store.setState(next, collection: collection, recordID: id, at: now, by: actor.userID)
            try store.appendHistory(RecordWorkflowHistoryEntry(collection: collection, recordID: id, event: event.id, from: current, to: next,
                                                                data: .object(values), userID: actor.userID, at: now))
            let updated = try writer.store.records(collection, ids: [id])
            var outcome = WorkflowRuntime.WriteOutcome(data: .object(updated[0]))
            let runs = try workflows.plan(action: "workflowEvent", collection: collection, affected: [id], nested: writer.effects.created,
                                          request: invocation.trigger, actor: actor, store: writer.store, fired: &outcome.fired)
            try workflows.insert(runs, actor: actor, user: user, store: writer.store, fired: &outcome.fired,
                                 context: ["event": .string(event.id)])
            return outcome
        }
    }

    /// `state.event` (the state must be the current one) or a bare event id of the current state.
    private static func event(_ name: String, in parsed: RecordWorkflowDefinition, current: String) throws(DomainError) -> RecordWorkflowDefinition.Event {
        var eventID = name
        if let dot = name.firstIndex(of: ".") {
            let stateID = String(name[..<dot])
            eventID = String(name[name.index(after: dot)...])
            guard stateID == current else { throw notAllowed(name, current) }
        }
        guard let event = parsed.state(current)?.events.first(where: { $0.id == eventID }) else { throw notAllowed(name, current) }
        return event
    }

    private static func notAllowed(_ name: String, _ state: String) -> DomainError {
        DomainError(.unprocessable, code: "EVENT_NOT_ALLOWED", message: "event '\(name)' is not allowed in state '\(state)'", field: "event")
    }

    /// One exit or entry action on the record.
    private static func perform(_ action: String, collection: String, id: Int64, values: JSONObject, writer: inout RecordWriter,
                                store: any RecordWorkflowStore, catalogue: Catalogue) throws {
        switch action {
        case "validateEntry":
            guard let record = try writer.store.record(collection, id: id), let collectionDefinition = catalogue.collection(collection) else { return }
            let problems = collectionDefinition.fields.filter { field in
                guard field.required, let column = field.column else { return false }
                let value = record[column] ?? .null
                return value == .null || value == .string("")
            }.map { DomainError.Item(message: "'\($0.name)' is required", code: "ValidationError", field: $0.name) }
            if !problems.isEmpty { throw DomainError(.unprocessable, items: problems) }
        case "publishEntry":
            try store.setPublished(true, collection: collection, recordID: id, at: Timestamp.now())
        case "unpublishEntry":
            try store.setPublished(false, collection: collection, recordID: id, at: Timestamp.now())
        default:  // updateEntry: the event's data values that name fields of the collection, validated like an update
            guard let collectionDefinition = catalogue.collection(collection) else { return }
            var fields = JSONObject()
            for (key, value) in values where collectionDefinition.fields.contains(where: { $0.name == key }) { fields[key] = value }
            if !fields.isEmpty { _ = try writer.update(collection, ids: [id], values: .object(fields)) }
        }
    }

    // MARK: History

    /// The transitions of record `id` of `collection`, oldest first, for an actor who may view it.
    package func history(collection: String, id: Int64, access: AccessCheck) async throws -> [RecordWorkflowHistoryEntry] {
        let catalogue = schema.current
        guard catalogue.collection(collection)?.isBuiltIn == false else { throw DomainError.collectionNotFound(collection) }
        let own = OwnScope(try access.require("view", on: collection), actor: access.actor)
        let entries = try await database.read { connection -> [RecordWorkflowHistoryEntry]? in
            guard let record = try connection.records(catalogue).record(collection, id: id) else { return nil }
            if let own, !own.allows(record) { return nil }
            return try connection.recordWorkflows.history(collection: collection, recordID: id)
        }
        guard let entries else { throw DomainError.notFound }
        return entries
    }
}
