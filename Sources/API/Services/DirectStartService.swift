import Auth
import HTTPServer
import JSON
import Model
import Storage
import Workflows

/// Starting workflows by call (spec 05), PingIDM / Flowable style:
/// `GET /api/workflow/processdefinition`, `POST /api/workflow/processinstance?_action=create`,
/// `GET /api/workflow/processinstance[/<id>]`; and NocoBase's `workflows:execute`.
///
/// A started execution goes through the same outbox as a triggered one: its row is committed
/// (queued, or started when it is sync and runs in the request) before anything answers.
package struct DirectStartService: Sendable {
    package let database: any StorageBackend
    package let workflows: WorkflowRuntime

    /// A version as the start API sees it.
    package struct Definition: Sendable {
        package var id: Int64
        package var key: String
        package var versionNumber: Int64
        package var name: String
        package var startRoles: [String]
        package var processDefinitionID: String { "\(key):\(versionNumber):\(id)" }

        /// `options.startRoles` (default root and admin); root may always start.
        package func mayStart(_ role: String) -> Bool { role == "root" || startRoles.contains(role) }

        package init(_ version: VersionSummary) {
            id = version.id
            key = version.key
            versionNumber = version.versionNumber
            name = version.title ?? key
            startRoles = version.options?["startRoles"]?.arrayValue?.compactMap(\.stringValue) ?? ["root", "admin"]
        }
    }

    package func handle(path: Substring, request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // Spec 03: no token, and anonymous may start nothing, is 401 EMPTY_TOKEN before anything else.
        if !access.hadToken, try await !anonymousMayStartAny() { throw access.denied("starting workflows needs a token") }
        switch (parts.first, parts.count) {
        case ("processdefinition", 1):
            try APIRoutes.check(request.method, fixed: "/api/workflow/processdefinition")
            return try await definitions(access: access)
        case ("processinstance", 1) where request.method == "POST":
            guard query["_action"] == "create" else { throw DomainError.invalidParameter("_action", "only _action=create is supported") }
            return try await start(try ResourceService.parseBody(request.body), access: access)
        case ("processinstance", 1):
            try APIRoutes.check(request.method, fixed: "/api/workflow/processinstance")
            return try await instances(query: query, access: access)
        case ("processinstance", 2):
            try APIRoutes.check(request.method, fixed: "/api/workflow/processinstance/{id}")
            guard let id = PositiveID.parse(parts[1]) else { throw DomainError.notFound }
            return try await instance(id, access: access)
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "no route for /api/workflow/\(path)")
        }
    }

    /// Whether some version lists `anonymous` in `options.startRoles`.
    private func anonymousMayStartAny() async throws -> Bool {
        try await database.read { connection in
            try connection.workflows.summaries(optionsContaining: "anonymous").contains { Definition($0).startRoles.contains("anonymous") }
        }
    }

    // MARK: Definitions

    private func definitions(access: AccessCheck) async throws -> HTTPResponse {
        let rows = try await database.read { connection in try connection.workflows.summaries() }
        let visible = rows.map(Definition.init).filter { access.isManager || $0.mayStart(access.actor.roleName) }
        let result: [JSON] = visible.map {
            ["_id": .string($0.processDefinitionID), "key": .string($0.key), "name": .string($0.name), "version": .int($0.versionNumber)]
        }
        return .json(JSON.object(["result": .array(result), "resultCount": .int(Int64(result.count))]).serializedBytes())
    }

    // MARK: Starting

    private func start(_ body: JSON, access: AccessCheck) async throws -> HTTPResponse {
        guard case .object(var data) = body else { throw DomainError.badRequest("the body must be a JSON object") }
        let key = data.removeValue(forKey: "_key")
        let definitionID = data.removeValue(forKey: "_processDefinitionId")
        let businessKey = data.removeValue(forKey: "_businessKey")
        if let key, key.stringValue == nil { throw DomainError.invalidParameter("_key", "_key must be a string") }
        if let businessKey, !businessKey.isNull, businessKey.stringValue == nil {
            throw DomainError.invalidParameter("_businessKey", "_businessKey must be a string")
        }
        let parsed = try definitionID.map(Self.parseDefinitionID)
        if let parsed, let key = key?.stringValue, key != parsed.key {
            throw DomainError.invalidParameter("_key", "_key '\(key)' does not match _processDefinitionId '\(definitionID?.stringValue ?? "")'")
        }
        guard parsed != nil || key != nil else {
            throw DomainError.invalidParameter("_key", "_key or _processDefinitionId is required")
        }
        let row = try await database.read { connection -> VersionSummary? in
            if let parsed { return try connection.workflows.summary(id: parsed.id, key: parsed.key, versionNumber: parsed.version) }
            return try connection.workflows.enabledCurrentSummary(key: key?.stringValue ?? "")
        }
        guard let row else {
            throw DomainError(.notFound, code: "WORKFLOW_NOT_FOUND",
                           message: "no workflow \(definitionID?.stringValue.map { "version '\($0)'" } ?? "'\(key?.stringValue ?? "")' with an enabled version")")
        }
        let definition = Definition(row)
        guard definition.mayStart(access.actor.roleName) else {
            throw access.denied("role '\(access.actor.roleName)' may not start '\(definition.processDefinitionID)'")
        }
        let context: JSON = ["data": .object(data), "user": access.user, "roleName": .string(access.actor.roleName)]
        let (id, status) = try await start(definition.id, context: context, businessKey: businessKey?.stringValue)
        return .json(JSON.object([
            "_id": .string(String(id)), "processInstanceId": .string(String(id)), "status": .string(Self.instanceStatus(status)),
            "businessKey": businessKey?.stringValue.map(JSON.string) ?? .null, "processDefinitionId": .string(definition.processDefinitionID),
        ]).serializedBytes())
    }

    /// Commits an execution of version `versionID` (queued for the dispatcher, or started), runs it
    /// here when it is sync or `runHere`, and returns its id and status once this call is done with it.
    package func start(_ versionID: Int64, context: JSON, businessKey: String?, runHere: Bool = false) async throws -> (id: Int64, status: Int64?) {
        let workflows = self.workflows
        let (id, started) = try await database.write { connection in
            guard let version = try workflows.registry.version(versionID, connection) else { throw DomainError.notFound }
            return try workflows.insertExecution(version, context: context, businessKey: businessKey, runHere: runHere, connection: connection)
        }
        // An async execution is answered as queued (spec 05: "answered `suspended`"), whatever the
        // dispatcher has done with it since the commit; a sync one with the status it ended in.
        guard started else { return (id, nil) }
        _ = await workflows.runSync([id])
        let status = try await database.read { connection in (try connection.executions.status(of: id)) ?? nil }
        return (id, status)
    }

    package static func parseDefinitionID(_ value: JSON) throws(DomainError) -> (key: String, version: Int64, id: Int64) {
        let parts = (value.stringValue ?? "").split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, Name.isValidKey(String(parts[0])), let version = PositiveID.parse(parts[1]),
              let id = PositiveID.parse(parts[2]) else {
            throw DomainError.invalidParameter("_processDefinitionId", "expected '<key>:<version>:<id>', got '\(value.stringValue ?? value.serialized())'")
        }
        return (String(parts[0]), version, id)
    }

    /// `ended` (resolved), `failed` (failed, error, aborted, canceled) or `suspended` (queued, started).
    package static func instanceStatus(_ status: Int64?) -> String {
        switch status.flatMap(ExecutionStatus.init(rawValue:)) {
        case .resolved: "ended"
        case let value? where value.isFailure: "failed"
        default: "suspended"
        }
    }

    // MARK: Instances

    private func instances(query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        var conditions: [InstanceCondition] = []
        func add(_ field: String, _ value: String) throws {
            if field == "businessKey" {
                conditions.append(.businessKey(value))
            } else {
                let parsed = try Self.parseDefinitionID(.string(value))
                conditions.append(.version(key: parsed.key, number: parsed.version, id: parsed.id))
            }
        }
        if let businessKey = query["businessKey"] { try add("businessKey", businessKey) }
        if let filter = query["_queryFilter"] {
            let (field, value) = try Self.parseQueryFilter(filter)
            if let field { try add(field, value) }
        }
        let rows = try await database.read { [conditions] connection in
            try connection.executions.instances(matching: conditions, limit: 1000)
        }
        let result = rows.compactMap { row -> JSON? in
            let definition = Definition(row.version)
            guard access.isManager || definition.mayStart(access.actor.roleName) else { return nil }
            return .object(Self.instanceJSON(row, definition: definition))
        }
        return .json(JSON.object(["result": .array(result), "resultCount": .int(Int64(result.count)),
                                  "pagedResultsCookie": .null, "remainingPagedResults": .int(-1)]).serializedBytes())
    }

    private func instance(_ id: Int64, access: AccessCheck) async throws -> HTTPResponse {
        let found = try await database.read { connection -> (InstanceRow, [JSONObject])? in
            guard let row = try connection.executions.instance(id) else { return nil }
            return (row, try connection.executions.jobRecords(of: id))
        }
        guard let (row, jobs) = found else { throw DomainError.notFound }
        let definition = Definition(row.version)
        guard access.isManager || definition.mayStart(access.actor.roleName) else { throw DomainError.notFound }
        var object = Self.instanceJSON(row, definition: definition)
        object["jobs"] = .array(jobs.map(JSON.object))
        return .json(JSON.object(object).serializedBytes())
    }

    private static func instanceJSON(_ row: InstanceRow, definition: Definition) -> JSONObject {
        let status = row.status
        return ["_id": .string(String(row.id)), "processDefinitionId": .string(definition.processDefinitionID),
                "key": .string(definition.key), "businessKey": row.businessKey.map(JSON.string) ?? .null,
                "status": .string(instanceStatus(status)), "statusName": .string(ExecutionStatus.name(status)),
                "startTime": (row.startedAt ?? row.createdAt).map(JSON.string) ?? .null, "endTime": row.finishedAt.map(JSON.string) ?? .null]
    }

    /// PingIDM's `_queryFilter`: `true`, or `<businessKey|processDefinitionId> eq "<value>"`.
    package static func parseQueryFilter(_ text: String) throws(DomainError) -> (field: String?, value: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "true" { return (nil, "") }
        let parts = trimmed.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, ["businessKey", "processDefinitionId"].contains(String(parts[0])), parts[1] == "eq",
              parts[2].count >= 2, parts[2].hasPrefix("\""), parts[2].hasSuffix("\"") else {
            throw DomainError.invalidParameter("_queryFilter", "supported: true, businessKey eq \"…\", processDefinitionId eq \"…\"")
        }
        return (String(parts[0]), String(parts[2].dropFirst().dropLast()))
    }
}
