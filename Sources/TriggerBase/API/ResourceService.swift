import HTTPServer
import JSON
import Storage

/// The resource API of spec 02: list, get, create, update, destroy on collections and on the
/// related records of one record. Reads use the read pool; writes go through the single writer,
/// one savepoint per request, so bad input never half-writes.
struct ResourceService: Sendable {
    let database: Database
    let schema: SchemaState
    let workflows: WorkflowRuntime

    /// A condition restricting which records of a collection an action sees (association routes).
    struct Scope: Sendable {
        var sql = "1"
        var parameters: [SQLiteValue] = []
        /// Values every created record gets (the foreign key of a hasMany / hasOne).
        var fixed: [String: SQLiteValue] = [:]
        /// belongsToMany: link created records to this owner.
        var link: (field: FieldDefinition, owner: String, id: Int64)?
    }

    /// Runs `action` after the access check: permission, `own` scope, writable and nested fields.
    func handle(collection: String, action: String, id: Int64?, request: HTTPRequest, query: QueryParameters,
                access: AccessCheck, scope: Scope = Scope()) async throws -> HTTPResponse {
        let catalogue = schema.current
        guard catalogue.collection(collection) != nil else { throw APIError.collectionNotFound(collection) }
        try APIRoutes.check(request.method, action: action, in: APIRoutes.record, resource: collection)
        let grant = try access.require(action, on: collection)
        var scope = scope
        if grant.scope == .own && action != "create" {
            // spec 03: own-scoped actions only ever see the actor's records (others are 404).
            scope.sql = "(\(scope.sql)) AND t0.\"createdById\" = ?"
            scope.parameters.append(access.actor.userID.map { .integer($0) } ?? .null)
        }
        let actor = access.actor, user = access.user
        switch action {
        case "list": return try await list(collection, query: query, scope: scope, catalogue: catalogue)
        case "get": return try await get(collection, id: id, query: query, scope: scope, catalogue: catalogue)
        case "create":
            let body = UpdateGuard(query: query).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: catalogue)
            let job = try createJob(collection, values: body, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(try await database.write(job), requestID: request.requestID)
        case "update":
            let body = UpdateGuard(query: query).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: catalogue)
            let outcome = try await update(collection, id: id, values: body, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(outcome, requestID: request.requestID)
        case "destroy":
            let outcome = try await destroy(collection, id: id, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(outcome, requestID: request.requestID)
        default:
            throw APIError(status: 404, code: "NOT_FOUND", message: "unknown action '\(collection):\(action)'")
        }
    }

    // MARK: Reading

    private func list(_ collection: String, query: QueryParameters, scope: Scope, catalogue: Catalogue) async throws -> HTTPResponse {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = scope.sql
        if let text = query["filter"], !text.isEmpty {
            condition = "(\(condition)) AND " + (try compiler.compile(FilterCompiler.parse(text: text), collection: collection, alias: "t0"))
        }
        let parameters = scope.parameters + compiler.parameters
        let orderBy = try Self.orderBy(query.list("sort"), collection: collection, catalogue: catalogue)
        let appends = query.list("appends").map { $0.split(separator: ".").map(String.init) }
        try RecordStore.validateAppends(appends, collection: collection, catalogue: catalogue)
        let projection = try Projection(query: query, collection: collection, catalogue: catalogue)
        let paginate = query["paginate"] != "false"
        if let value = query["paginate"], value != "true" && value != "false" { throw APIError.invalidParameter("paginate", "must be true or false") }
        let page = try query.positiveInt("page") ?? 1
        let pageSize = paginate ? min(try query.positiveInt("pageSize") ?? 20, 1000) : 10_000
        // A page past Int.max rows is refused, not multiplied into an overflow trap (found by schemathesis).
        let (offset, overflow) = paginate ? (page - 1).multipliedReportingOverflow(by: pageSize) : (0, false)
        if overflow { throw APIError.invalidParameter("page", "too large") }
        let (records, count) = try await database.read { [condition] connection in
            let store = RecordStore(connection: connection, catalogue: catalogue)
            var records = try store.select(collection, where: condition, parameters: parameters, orderBy: orderBy, limit: pageSize, offset: offset)
            try store.embed(&records, collection: collection, paths: appends)
            return (records, try store.count(collection, where: condition, parameters: parameters))
        }
        let meta: JSON = ["count": .int(Int64(count)), "page": .int(Int64(paginate ? page : 1)),
                          "pageSize": .int(Int64(paginate ? pageSize : max(count, 1))),
                          "totalPage": .int(Int64(paginate ? (count + pageSize - 1) / pageSize : 1))]
        return Self.ok(.array(records.map { .object(projection.apply($0)) }), meta: meta)
    }

    private func get(_ collection: String, id: Int64?, query: QueryParameters, scope: Scope, catalogue: Catalogue) async throws -> HTTPResponse {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = scope.sql
        var parameters = scope.parameters
        if let id = try id ?? query.primaryKeys()?.first {
            condition += " AND t0.\"id\" = ?"
            parameters.append(.integer(id))
        }
        if let text = query["filter"], !text.isEmpty {
            condition += " AND " + (try compiler.compile(FilterCompiler.parse(text: text), collection: collection, alias: "t0"))
        }
        parameters += compiler.parameters
        let appends = query.list("appends").map { $0.split(separator: ".").map(String.init) }
        try RecordStore.validateAppends(appends, collection: collection, catalogue: catalogue)
        let projection = try Projection(query: query, collection: collection, catalogue: catalogue)
        let record = try await database.read { [condition, parameters] connection -> JSONObject? in
            let store = RecordStore(connection: connection, catalogue: catalogue)
            var records = try store.select(collection, where: condition, parameters: parameters, limit: 1)
            try store.embed(&records, collection: collection, paths: appends)
            return records.first
        }
        // NocoBase's get answers 200 {"data": null} for a missing record (actions/get.ts), and so
        // for one outside the caller's scope: the two look the same.
        return Self.ok(record.map { .object(projection.apply($0)) } ?? .null)
    }

    // MARK: Writing

    /// Validates a create's shape and `triggerWorkflows`, and returns its write job, which inserts
    /// every item (nested values included) with the executions it fires, and answers with the
    /// records as stored.
    func createJob(_ collection: String, values: JSON, query: QueryParameters, scope: Scope,
                   actor: Actor, user: JSON) throws -> @Sendable (SQLiteConnection) throws -> WorkflowRuntime.WriteOutcome {
        let bulk: Bool
        let items: [JSON]
        switch values {
        case .array(let list): bulk = true; items = list
        case .object: bulk = false; items = [values]
        default: throw APIError.badRequest("the body must be a JSON object or an array of them")
        }
        let appends = query.list("appends").map { $0.split(separator: ".").map(String.init) }
        try RecordStore.validateAppends(appends, collection: collection, catalogue: schema.current)
        let trigger = try TriggerRequest(query["triggerWorkflows"], collection: collection, catalogue: schema.current)
        let schema = self.schema, workflows = self.workflows
        return { connection in
            let catalogue = schema.writerCatalogue
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: actor.userID)
            var created: [(Int64, [String])] = []
            for (i, item) in items.enumerated() {
                let result = try writer.create(collection, item, path: bulk ? "[\(i)]" : "", fixed: scope.fixed)
                if let link = scope.link {
                    try writer.setToMany(link.field, of: link.owner, id: link.id, value: .int(result.id), path: link.field.name, replace: false)
                }
                created.append(result)
            }
            var stored: [Int64: JSONObject] = [:]
            let records: [JSON] = try created.map { id, relations in
                var records = try writer.store.select(collection, where: "t0.\"id\" = ?", parameters: [.integer(id)])
                stored[id] = records[0]
                try writer.store.embed(&records, collection: collection, paths: relations.map { [$0] } + appends)
                return .object(records[0])
            }
            var outcome = WorkflowRuntime.WriteOutcome(data: bulk ? .array(records) : records[0])
            let own = created.map(\.0)
            let ownSet = Set(own)
            let nested = writer.effects.created.filter { !($0.collection == collection && ownSet.contains($0.id)) }
            let runs = try workflows.plan(action: "create", collection: collection, affected: own, nested: Array(nested),
                                          request: trigger, actor: actor, store: writer.store, stored: (collection, stored), fired: &outcome.fired)
            try workflows.insert(runs, actor: actor, user: user, store: writer.store, fired: &outcome.fired)
            return outcome
        }
    }

    /// The fast path for a plain create whose caller is already known (cached authentication): the
    /// checks run here, and the writer answers right after its commit, without another thread hop.
    /// Answers through `respond` and returns true, or returns false to take the ordinary path.
    func createImmediately(collection: String, request: HTTPRequest, query: QueryParameters, access: AccessCheck,
                           respond: @escaping @Sendable (HTTPResponse) -> Void, onError: @escaping @Sendable (any Error) -> HTTPResponse) -> Bool {
        do {
            guard schema.current.collection(collection)?.isBuiltIn == false else { return false }
            let grant = try access.require("create", on: collection)
            let body = UpdateGuard(query: query).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: schema.current)
            let job = try createJob(collection, values: body, query: query, scope: Scope(), actor: access.actor, user: access.user)
            database.write(job) { [workflows] result in
                switch result {
                case .success(let outcome):
                    if let response = workflows.immediateResponse(outcome, requestID: request.requestID) { respond(response); return }
                    Task(executorPreference: workflows.executor) { respond(await workflows.response(outcome, requestID: request.requestID)) }
                case .failure(let error): respond(onError(error))
                }
            }
        } catch {
            respond(onError(error))
        }
        return true
    }

    /// Ids in scope for update / destroy: `filterByTk`, or `filter`; one is required. Missing ids and
    /// ids outside the scope are simply not there (NocoBase answers `[]` and `0` for them).
    private static func targetIDs(_ collection: String, id: Int64?, query: QueryParameters, scope: Scope,
                                  catalogue: Catalogue, connection: SQLiteConnection) throws -> [Int64] {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = scope.sql
        let keys = try id.map { [$0] } ?? query.primaryKeys()
        var parameters = scope.parameters
        if let keys {
            condition += keys.count == 1 ? " AND t0.\"id\" = ?" : " AND t0.\"id\" IN (\(Array(repeating: "?", count: keys.count).joined(separator: ",")))"
            parameters += keys.map { .integer($0) }
        }
        if let text = query["filter"], !text.isEmpty {
            condition += " AND " + (try compiler.compile(FilterCompiler.parse(text: text), collection: collection, alias: "t0"))
        } else if keys == nil {
            throw APIError.invalidParameter("filterByTk", "filterByTk or filter is required")
        }
        let rows = try connection.query("SELECT t0.\"id\" FROM \(Name.quoted(collection)) t0 WHERE \(condition) ORDER BY t0.\"id\"",
                                        parameters + compiler.parameters)
        return rows.compactMap { $0[0].int64 }
    }

    private func update(_ collection: String, id: Int64?, values: JSON, query: QueryParameters, scope: Scope,
                        actor: Actor, user: JSON) async throws -> WorkflowRuntime.WriteOutcome {
        guard case .object = values else { throw APIError.badRequest("the body must be a JSON object") }
        let trigger = try TriggerRequest(query["triggerWorkflows"], collection: collection, catalogue: schema.current)
        let schema = self.schema, workflows = self.workflows
        return try await database.write { connection in
            let catalogue = schema.writerCatalogue
            let ids = try Self.targetIDs(collection, id: id, query: query, scope: scope, catalogue: catalogue, connection: connection)
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: actor.userID)
            let relations = ids.isEmpty ? [] : try writer.update(collection, ids: ids, values: values)
            var records = try writer.store.records(collection, ids: ids)
            try writer.store.embed(&records, collection: collection, paths: relations.map { [$0] })
            // Always a list, also for one filterByTk (NocoBase's actions/update.ts answers the instances).
            var outcome = WorkflowRuntime.WriteOutcome(data: .array(records.map(JSON.object)))
            let runs = try workflows.plan(action: "update", collection: collection, affected: ids, nested: writer.effects.created,
                                          request: trigger, actor: actor, store: writer.store, fired: &outcome.fired)
            try workflows.insert(runs, actor: actor, user: user, store: writer.store, fired: &outcome.fired)
            return outcome
        }
    }

    /// Deletes the records in scope; workflows see each record as it was before (spec 04).
    private func destroy(_ collection: String, id: Int64?, query: QueryParameters, scope: Scope,
                         actor: Actor, user: JSON) async throws -> WorkflowRuntime.WriteOutcome {
        let trigger = try TriggerRequest(query["triggerWorkflows"], collection: collection, catalogue: schema.current)
        let schema = self.schema, workflows = self.workflows
        return try await database.write { connection in
            let catalogue = schema.writerCatalogue
            let ids = try Self.targetIDs(collection, id: id, query: query, scope: scope, catalogue: catalogue, connection: connection)
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: nil)
            var fired = FiredWorkflows()
            let runs = try workflows.plan(action: "destroy", collection: collection, affected: ids, nested: [],
                                          request: trigger, actor: actor, store: writer.store, fired: &fired)
            let count = try writer.destroy(collection, ids: ids)
            var outcome = WorkflowRuntime.WriteOutcome(data: .int(Int64(count)), fired: fired)
            try workflows.insert(runs, actor: actor, user: user, store: writer.store, fired: &outcome.fired)
            return outcome
        }
    }

    // MARK: Helpers

    static func parseBody(_ body: [UInt8]) throws(APIError) -> JSON {
        guard !body.isEmpty else { throw APIError.badRequest("the request needs a JSON body") }
        do { return try JSON.parse(body) } catch { throw APIError.badRequest("the body is not valid JSON: \(error)") }
    }

    static func ok(_ data: JSON, meta: JSON? = nil) -> HTTPResponse {
        var object: JSONObject = ["data": data]
        if let meta { object["meta"] = meta }
        return .json(JSON.object(object).serializedBytes())
    }

    /// `sort=-createdAt,title` → ORDER BY, each name checked against the collection's columns.
    static func orderBy(_ items: [String], collection: String, catalogue: Catalogue) throws(APIError) -> String {
        let columns = Set(catalogue.allColumns(collection))
        let hidden = Set(catalogue.collection(collection)?.fields.filter(\.hidden).map(\.name) ?? [])
        var parts: [String] = []
        for item in items {
            let descending = item.hasPrefix("-")
            let name = descending ? String(item.dropFirst()) : item
            guard columns.contains(name), !hidden.contains(name) else { throw APIError.invalidParameter("sort", "unknown field '\(name)'") }
            // NULLs last in both directions, as NocoBase's options-parser.ts asks of SQLite and PostgreSQL.
            parts.append("t0.\(Name.quoted(name)) \(descending ? "DESC" : "ASC") NULLS LAST")
        }
        parts.append("t0.\"id\" ASC")
        return parts.joined(separator: ", ")
    }
}

/// `fields` / `except`: which keys of each record are returned (names checked).
struct Projection: Sendable {
    var fields: [String]?
    var except: Set<String> = []

    init(query: QueryParameters, collection: String, catalogue: Catalogue) throws(APIError) {
        guard let definition = catalogue.collection(collection) else { return }
        let known = Set(catalogue.allColumns(collection) + definition.fields.filter { !$0.hidden }.map(\.name))
            .subtracting(definition.fields.filter(\.hidden).map(\.name))
        for (name, list) in [("fields", query.list("fields")), ("except", query.list("except"))] {
            for item in list where !known.contains(item) { throw .invalidParameter(name, "unknown field '\(item)'") }
        }
        let fields = query.list("fields")
        self.fields = fields.isEmpty ? nil : fields
        self.except = Set(query.list("except"))
    }

    func apply(_ record: JSONObject) -> JSONObject {
        var result = JSONObject()
        if let fields {
            for key in fields { if let value = record[key] { result[key] = value } }
        } else {
            for (key, value) in record where !except.contains(key) { result[key] = value }
        }
        return result
    }
}
