import HTTPServer
import JSON
import Storage

/// `/api/executions:list|get|cancel|retry` (spec 04), root and admin only. Reads go through the
/// resource service over the built-in `executions` collection (filters by `key`, `status`,
/// `statusName`, `workflowId`, `businessKey`; `appends=jobs`).
struct ExecutionService: Sendable {
    let database: Database
    let resources: ResourceService
    let workflows: WorkflowRuntime

    func handle(action: String, id: Int64?, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        try APIRoutes.check(request.method, action: action, in: APIRoutes.executions, resource: "executions")
        try access.requireManager()
        switch action {
        case "list", "get":
            return try await resources.handle(collection: "executions", action: action, id: id, request: request, query: query, access: access)
        case "cancel", "retry":
            guard let executionID = try id ?? query.primaryKeys()?.first else {
                throw APIError.invalidParameter("filterByTk", "the execution id is required")
            }
            return action == "cancel" ? try await cancel(executionID) : try await retry(executionID)
        default:
            throw APIError(status: 404, code: "NOT_FOUND", message: "unknown action 'executions:\(action)'")
        }
    }

    /// A queued or started execution ends `canceled` (-4), with its waiting jobs; a running node
    /// finishes, and the execution goes no further.
    private func cancel(_ id: Int64) async throws -> HTTPResponse {
        let record = try await database.write { connection -> JSON in
            let status = try Self.status(id, connection)
            guard status == nil || status == 0 else {
                throw APIError(status: 409, code: "EXECUTION_FINISHED", message: "execution \(id) has already ended (\(ExecutionStatus.name(status)))")
            }
            let stamp: SQLiteValue = .text(Timestamp.now())
            try connection.run("UPDATE \"executions\" SET \"status\" = -4, \"finishedAt\" = ?, \"updatedAt\" = ? WHERE \"id\" = ?",
                               [stamp, stamp, .integer(id)])
            try connection.run("UPDATE \"jobs\" SET \"status\" = -4, \"updatedAt\" = ? WHERE \"executionId\" = ? AND \"status\" = 0",
                               [stamp, .integer(id)])
            return try Self.read(id, connection)
        }
        return ResourceService.ok(record)
    }

    /// A failed, errored or aborted execution runs again from the node that stopped it, keeping its
    /// id; it is `started` again at once (only never-run executions are `queued`).
    private func retry(_ id: Int64) async throws -> HTTPResponse {
        let record = try await database.write { connection -> JSON in
            let status = try Self.status(id, connection)
            guard let status, [-1, -2, -3].contains(status) else {
                throw APIError(status: 409, code: "EXECUTION_NOT_FAILED",
                               message: "only failed, errored or aborted executions can be retried; \(id) is \(ExecutionStatus.name(status))")
            }
            try connection.run("DELETE FROM \"jobs\" WHERE \"executionId\" = ? AND \"status\" < 0", [.integer(id)])
            try connection.run("""
                UPDATE "executions" SET "status" = 0, "reason" = NULL, "startedAt" = NULL, "finishedAt" = NULL, "updatedAt" = ? WHERE "id" = ?
                """, [.text(Timestamp.now()), .integer(id)])
            return try Self.read(id, connection)
        }
        await workflows.dispatcher.recheck([id])
        return ResourceService.ok(record)
    }

    private static func status(_ id: Int64, _ connection: SQLiteConnection) throws -> Int64? {
        guard let row = try connection.query("SELECT \"status\" FROM \"executions\" WHERE \"id\" = ?", [.integer(id)]).first else {
            throw APIError.notFound
        }
        return row[0].int64
    }

    private static func read(_ id: Int64, _ connection: SQLiteConnection) throws -> JSON {
        guard let record = try RecordStore(connection: connection, catalogue: Catalogue.base).record("executions", id: id) else {
            throw APIError.notFound
        }
        return .object(record)
    }
}
