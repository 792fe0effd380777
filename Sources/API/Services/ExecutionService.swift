import Auth
import HTTPServer
import JSON
import Model
import Storage
import Workflows

/// `/api/executions:list|get|cancel|retry` (spec 04), root and admin only. Reads go through the
/// resource service over the built-in `executions` collection (filters by `key`, `status`,
/// `statusName`, `workflowId`, `businessKey`, `attempts`, `lastError`; `appends=jobs`).
/// `filter={"status":-1}` (or `"statusName":"failed"`) is the dead-letter view: what gave up,
/// with its `attempts` and `lastError`.
package struct ExecutionService: Sendable {
    /// The most executions one bulk `executions:retry?filter=` retries (the oldest first); call
    /// again for the rest.
    package static let maxBulkRetry = 1000

    package let database: any StorageBackend
    package let resources: ResourceService
    package let workflows: WorkflowRuntime

    package func handle(action: String, id: Int64?, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, action: action, in: APIRoutes.executions, resource: "executions")
        try access.requireManager()
        switch action {
        case "list", "get":
            return try await resources.handle(collection: "executions", action: action, id: id, request: request, query: query, access: access)
        case "retry" where id == nil && query.all("filterByTk").isEmpty && query["filter"] != nil:
            return try await retry(matching: query["filter"] ?? "")
        case "cancel", "retry":
            guard let executionID = try id ?? query.primaryKeys()?.first else {
                throw DomainError.invalidParameter("filterByTk", "the execution id is required")
            }
            return action == "cancel" ? try await cancel(executionID) : try await retry(executionID)
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action 'executions:\(action)'")
        }
    }

    /// A queued or started execution ends `canceled` (-4), with its waiting jobs; a running node
    /// finishes, and the execution goes no further.
    private func cancel(_ id: Int64) async throws -> HTTPResponse {
        let record = try await database.write { connection -> JSON in
            let status = try Self.status(id, connection)
            guard status == nil || status == ExecutionStatus.started.rawValue else {
                throw DomainError(.conflict, code: "EXECUTION_FINISHED", message: "execution \(id) has already ended (\(ExecutionStatus.name(status)))")
            }
            try connection.executions.cancel(id)
            return try Self.read(id, connection)
        }
        return ResourceService.ok(record)
    }

    /// A failed, errored or aborted execution runs again from the node that stopped it, keeping its
    /// id; it is `started` again at once (only never-run executions are `queued`).
    private func retry(_ id: Int64) async throws -> HTTPResponse {
        let record = try await database.write { connection -> JSON in
            let status = try Self.status(id, connection)
            guard let status, ExecutionStatus(rawValue: status).map(Self.retryable.contains) == true else {
                throw DomainError(.conflict, code: "EXECUTION_NOT_FAILED",
                               message: "only failed, errored or aborted executions can be retried; \(id) is \(ExecutionStatus.name(status))")
            }
            try connection.executions.restart(id)
            workflows.dispatcher.noteQueued()
            return try Self.read(id, connection)
        }
        await workflows.dispatcher.recheck([id])
        return ResourceService.ok(record)
    }

    /// Bulk retry: every failed, errored or aborted execution that `filter` (the list's language)
    /// matches, at most `maxBulkRetry`, oldest first. Answers 200 `{"data": [executions],
    /// "meta": {"count": n}}`; matching nothing retryable is an empty list, not an error.
    private func retry(matching text: String) async throws -> HTTPResponse {
        let filter = try FilterCompiler.parse(text: text)
        let records = try await database.write { connection -> [JSON] in
            let store = connection.executions
            let ids = try store.ids(matching: filter, statuses: Self.retryable, limit: Self.maxBulkRetry)
            for id in ids { try store.restart(id) }
            if !ids.isEmpty { workflows.dispatcher.noteQueued() }
            return try ids.map { try Self.read($0, connection) }
        }
        await workflows.dispatcher.recheck(records.compactMap { $0["id"]?.intValue })
        return ResourceService.ok(.array(records), meta: ["count": .int(Int64(records.count))])
    }

    /// The statuses `executions:retry` takes.
    private static let retryable: [ExecutionStatus] = [.failed, .error, .aborted]

    private static func status(_ id: Int64, _ connection: any Transaction) throws -> Int64? {
        guard let status = try connection.executions.status(of: id) else { throw DomainError.notFound }
        return status
    }

    private static func read(_ id: Int64, _ connection: any Transaction) throws -> JSON {
        guard let record = try connection.records(Catalogue.base).record("executions", id: id) else {
            throw DomainError.notFound
        }
        return .object(record)
    }
}
