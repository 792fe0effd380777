import Auth
import HTTPServer
import JSON
import Model
import Records
import Storage
import Workflows

/// The resource API of spec 02: list, get, create, update, destroy on collections and on the
/// related records of one record. Reads use the read pool; writes go through the single writer,
/// one savepoint per request, so bad input never half-writes.
package struct ResourceService: Sendable {
    package let database: any StorageBackend
    package let schema: SchemaState
    package let workflows: WorkflowRuntime

    /// A condition restricting which records of a collection an action sees (association routes).
    package struct Scope: Sendable {
        /// The records the action sees.
        package var condition = RecordCondition.always
        /// Values every created record gets (the foreign key of a hasMany / hasOne).
        package var fixed: [String: ColumnValue] = [:]
        /// belongsToMany: link created records to this owner.
        package var link: (field: FieldDefinition, owner: String, id: Int64)?

        package init() {}

        /// Adds the `own` condition (spec 03) to this one.
        package mutating func restrict(to own: OwnScope) {
            condition = condition && own.condition
        }
    }

    /// Runs `action` after the access check: permission, `own` scope, writable and nested fields.
    package func handle(collection: String, action: String, id: Int64?, request: HTTPRequest, query: QueryParameters,
                access: AccessCheck, scope: Scope = Scope()) async throws -> HTTPResponse {
        let catalogue = schema.current
        guard catalogue.collection(collection) != nil else { throw DomainError.collectionNotFound(collection) }
        try APIRoutes.check(request.method, action: action, in: APIRoutes.collection, resource: collection)
        let grant = try access.require(action, on: collection)
        var scope = scope
        if action != "create", let own = OwnScope(grant, actor: access.actor) { scope.restrict(to: own) }
        let actor = access.actor, user = access.user
        switch action {
        case "list": return try await list(collection, query: query, scope: scope, catalogue: catalogue)
        case "get": return try await get(collection, id: id, query: query, scope: scope, catalogue: catalogue)
        case "create":
            let body = UpdateGuard(whitelist: query.list("whitelist"), blacklist: query.list("blacklist")).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: catalogue)
            let write = try createWrite(collection, values: body, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(try await database.write(write), requestID: request.requestID)
        case "update":
            let body = UpdateGuard(whitelist: query.list("whitelist"), blacklist: query.list("blacklist")).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: catalogue)
            let outcome = try await update(collection, id: id, values: body, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(outcome, requestID: request.requestID)
        case "destroy":
            let outcome = try await destroy(collection, id: id, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(outcome, requestID: request.requestID)
        case "firstOrCreate", "updateOrCreate":
            // Both may create, and read or update what they find: both grants are needed up front.
            let other = try access.require(action == "firstOrCreate" ? "view" : "update", on: collection)
            let body = UpdateGuard(whitelist: query.list("whitelist"), blacklist: query.list("blacklist")).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: catalogue)
            if action == "updateOrCreate" { try access.checkWrite(body, collection: collection, grant: other, catalogue: catalogue) }
            // Restricted once: an own-scoped `grant` already restricted the scope above.
            if grant.scope != .own, let own = OwnScope(other, actor: access.actor) { scope.restrict(to: own) }
            let outcome = try await findOrWrite(action, collection, values: body, query: query, scope: scope, actor: actor, user: user)
            return await workflows.response(outcome, requestID: request.requestID)
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action '\(collection):\(action)'")
        }
    }

    // MARK: Reading

    private func list(_ collection: String, query: QueryParameters, scope: Scope, catalogue: Catalogue) async throws -> HTTPResponse {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = scope.condition
        if let text = query["filter"], !text.isEmpty {
            condition = condition && (try compiler.compile(FilterCompiler.parse(text: text), collection: collection))
        }
        let order = try RecordOrder.sort(query.list("sort"), collection: collection, catalogue: catalogue)
        let appends = query.list("appends").map { $0.split(separator: ".").map(String.init) }
        try catalogue.validateAppends(appends, collection: collection)
        let projection = try Projection(query: query, collection: collection, catalogue: catalogue)
        let paginate = query["paginate"] != "false"
        if let value = query["paginate"], value != "true" && value != "false" { throw DomainError.invalidParameter("paginate", "must be true or false") }
        let page = try query.positiveInt("page") ?? 1
        let pageSize = paginate ? min(try query.positiveInt("pageSize") ?? 20, 1000) : 10_000
        // A page past Int.max rows is refused, not multiplied into an overflow trap (found by schemathesis).
        let (offset, overflow) = paginate ? (page - 1).multipliedReportingOverflow(by: pageSize) : (0, false)
        if overflow { throw DomainError.invalidParameter("page", "too large") }
        let (records, count) = try await database.read { [condition] connection in
            let store = connection.records(catalogue)
            var records = try store.select(collection, where: condition, orderBy: order, limit: pageSize, offset: offset)
            try store.embed(&records, collection: collection, paths: appends)
            return (records, try store.count(collection, where: condition))
        }
        let meta: JSON = ["count": .int(Int64(count)), "page": .int(Int64(paginate ? page : 1)),
                          "pageSize": .int(Int64(paginate ? pageSize : max(count, 1))),
                          "totalPage": .int(Int64(paginate ? (count + pageSize - 1) / pageSize : 1))]
        return Self.ok(.array(records.map { .object(projection.apply($0)) }), meta: meta)
    }

    private func get(_ collection: String, id: Int64?, query: QueryParameters, scope: Scope, catalogue: Catalogue) async throws -> HTTPResponse {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = scope.condition
        if let id = try id ?? query.primaryKeys()?.first {
            condition = condition && .id(id)
        }
        if let text = query["filter"], !text.isEmpty {
            condition = condition && (try compiler.compile(FilterCompiler.parse(text: text), collection: collection))
        }
        let appends = query.list("appends").map { $0.split(separator: ".").map(String.init) }
        try catalogue.validateAppends(appends, collection: collection)
        let projection = try Projection(query: query, collection: collection, catalogue: catalogue)
        let record = try await database.read { [condition] connection -> JSONObject? in
            let store = connection.records(catalogue)
            var records = try store.select(collection, where: condition, limit: 1)
            try store.embed(&records, collection: collection, paths: appends)
            return records.first
        }
        // NocoBase's get answers 200 {"data": null} for a missing record (actions/get.ts), and so
        // for one outside the caller's scope: the two look the same.
        return Self.ok(record.map { .object(projection.apply($0)) } ?? .null)
    }

    // MARK: Writing

    /// Validates a create's shape and `triggerWorkflows`, and returns its write, which inserts
    /// every item (nested values included) with the executions it fires, and answers with the
    /// records as stored.
    package func createWrite(_ collection: String, values: JSON, query: QueryParameters, scope: Scope,
                   actor: Actor, user: JSON) throws -> @Sendable (any Transaction) throws -> WorkflowRuntime.WriteOutcome {
        let bulk: Bool
        let items: [JSON]
        switch values {
        case .array(let list): bulk = true; items = list
        case .object: bulk = false; items = [values]
        default: throw DomainError.badRequest("the body must be a JSON object or an array of them")
        }
        let appends = query.list("appends").map { $0.split(separator: ".").map(String.init) }
        try schema.current.validateAppends(appends, collection: collection)
        let trigger = try TriggerWorkflowsParameter(query["triggerWorkflows"], collection: collection, catalogue: schema.current)
        let schema = self.schema, workflows = self.workflows
        return { connection in
            let catalogue = schema.writerCatalogue
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: actor.userID)
            var created: [(id: Int64, relations: [String], record: JSONObject?)] = []
            for (i, item) in items.enumerated() {
                if let link = scope.link {  // the link may write the new record's foreign key: read it after
                    let result = try writer.create(collection, item, path: bulk ? "[\(i)]" : "", fixed: scope.fixed)
                    try writer.setToMany(link.field, of: link.owner, id: link.id, value: .int(result.id), path: link.field.name, replace: false)
                    created.append((result.id, result.relations, nil))
                } else if bulk {  // a later item may link to an earlier one: read them all after
                    let result = try writer.create(collection, item, path: "[\(i)]", fixed: scope.fixed)
                    created.append((result.id, result.relations, nil))
                } else {
                    let result = try writer.createRecord(collection, item, fixed: scope.fixed)
                    created.append((result.id, result.relations, result.record))
                }
            }
            var stored: [Int64: JSONObject] = [:]
            let records: [JSON] = try created.map { id, relations, record in
                var records = try record.map { [$0] } ?? writer.store.records(collection, ids: [id])
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
    /// Answers through `respond`, which takes what builds the response (the writer only hands it
    /// over: it is built on the connection's thread), and returns true; or returns false to take
    /// the ordinary path.
    package func createImmediately(collection: String, request: HTTPRequest, query: QueryParameters, access: AccessCheck,
                           respond: @escaping @Sendable (@escaping @Sendable () -> HTTPResponse) -> Void,
                           onError: @escaping @Sendable (any Error) -> HTTPResponse) -> Bool {
        do {
            guard schema.current.collection(collection)?.isBuiltIn == false else { return false }
            let grant = try access.require("create", on: collection)
            let body = UpdateGuard(whitelist: query.list("whitelist"), blacklist: query.list("blacklist")).apply(to: try Self.parseBody(request.body))
            try access.checkWrite(body, collection: collection, grant: grant, catalogue: schema.current)
            let write = try createWrite(collection, values: body, query: query, scope: Scope(), actor: access.actor, user: access.user)
            database.write(write) { [workflows] result in
                switch result {
                case .success(let outcome):
                    if workflows.answersAtOnce(outcome) {
                        respond { workflows.immediateResponse(outcome, requestID: request.requestID) }
                        return
                    }
                    Task(executorPreference: workflows.executor) {
                        let response = await workflows.response(outcome, requestID: request.requestID)
                        respond { response }
                    }
                case .failure(let error): respond { onError(error) }
                }
            }
        } catch {
            respond { onError(error) }
        }
        return true
    }

    /// Ids in scope for update / destroy: `filterByTk`, or `filter`; one is required. Missing ids and
    /// ids outside the scope are simply not there (NocoBase answers `[]` and `0` for them).
    private static func targetIDs(_ collection: String, id: Int64?, query: QueryParameters, scope: Scope,
                                  catalogue: Catalogue, connection: any Transaction) throws -> [Int64] {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = scope.condition
        let keys = try id.map { [$0] } ?? query.primaryKeys()
        if let keys { condition = condition && .ids(keys) }
        if let text = query["filter"], !text.isEmpty {
            condition = condition && (try compiler.compile(FilterCompiler.parse(text: text), collection: collection))
        } else if keys == nil {
            throw DomainError.invalidParameter("filterByTk", "filterByTk or filter is required")
        }
        return try connection.records(catalogue).ids(collection, where: condition)
    }

    private func update(_ collection: String, id: Int64?, values: JSON, query: QueryParameters, scope: Scope,
                        actor: Actor, user: JSON) async throws -> WorkflowRuntime.WriteOutcome {
        let write = try updateWrite(collection, values: values, query: query, actor: actor, user: user) { connection, catalogue in
            try Self.targetIDs(collection, id: id, query: query, scope: scope, catalogue: catalogue, connection: connection)
        }
        return try await database.write(write)
    }

    /// Validates an update's shape and `triggerWorkflows`, and returns its write, which updates
    /// the records `targets` finds and fires their workflows; the answer is always a list.
    private func updateWrite(_ collection: String, values: JSON, query: QueryParameters, actor: Actor, user: JSON,
                           targets: @escaping @Sendable (any Transaction, Catalogue) throws -> [Int64])
        throws -> @Sendable (any Transaction) throws -> WorkflowRuntime.WriteOutcome {
        guard case .object = values else { throw DomainError.badRequest("the body must be a JSON object") }
        let trigger = try TriggerWorkflowsParameter(query["triggerWorkflows"], collection: collection, catalogue: schema.current)
        let schema = self.schema, workflows = self.workflows
        return { connection in
            let catalogue = schema.writerCatalogue
            let ids = try targets(connection, catalogue)
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

    /// `firstOrCreate` / `updateOrCreate` (NocoBase's `actions/first-or-create.ts`, `update-or-create.ts`):
    /// the first record in scope whose `filterKeys` equal the values' (a key the values lack or
    /// give as null matches NULL) is answered as it is, or updated with the values; else the values
    /// are created. One write, so two concurrent calls cannot both create. `updateOrCreate`
    /// answers `[record]` when it updated and `record` when it created, as NocoBase does.
    private func findOrWrite(_ action: String, _ collection: String, values: JSON, query: QueryParameters, scope: Scope,
                             actor: Actor, user: JSON) async throws -> WorkflowRuntime.WriteOutcome {
        guard case .object(let object) = values else { throw DomainError.badRequest("the body must be a JSON object") }
        let keys = query.list("filterKeys")
        guard !keys.isEmpty else { throw DomainError.invalidParameter("filterKeys", "name the fields that identify the record") }
        let catalogue = schema.current
        let columns = Set(catalogue.allColumns(collection))
        let hidden = Set(catalogue.collection(collection)?.fields.filter(\.hidden).map(\.name) ?? [])
        var condition = scope.condition
        for key in keys {
            guard columns.contains(key), !hidden.contains(key) else { throw DomainError.invalidParameter("filterKeys", "unknown field '\(key)'") }
            let value = object[key] ?? .null
            guard value.objectValue == nil, value.arrayValue == nil else { throw DomainError.validation(key, "a filter key takes a scalar value") }
            let type = catalogue.collection(collection)?.field(key)?.type ?? (key.hasSuffix("At") ? .datetime : .integer)
            condition = condition && (try .field(FieldDefinition(name: key, type: type == .belongsTo ? .integer : type), equals: value))
        }
        let create = try createWrite(collection, values: values, query: query, scope: scope, actor: actor, user: user)
        let update = try updateWrite(collection, values: values, query: query, actor: actor, user: user) { [condition] connection, catalogue in
            try connection.records(catalogue).ids(collection, where: condition, limit: 1)
        }
        return try await database.write { [condition] connection in
            let found = try connection.records(schema.writerCatalogue).select(collection, where: condition, limit: 1).first
            guard let found else { return try create(connection) }
            return action == "firstOrCreate" ? WorkflowRuntime.WriteOutcome(data: .object(found)) : try update(connection)
        }
    }

    /// Deletes the records in scope; workflows see each record as it was before (spec 04).
    private func destroy(_ collection: String, id: Int64?, query: QueryParameters, scope: Scope,
                         actor: Actor, user: JSON) async throws -> WorkflowRuntime.WriteOutcome {
        let trigger = try TriggerWorkflowsParameter(query["triggerWorkflows"], collection: collection, catalogue: schema.current)
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

    package static func parseBody(_ body: [UInt8]) throws(DomainError) -> JSON {
        guard !body.isEmpty else { throw DomainError.badRequest("the request needs a JSON body") }
        do { return try JSON.parse(body) } catch { throw DomainError.badRequest("the body is not valid JSON: \(error)") }
    }

    package static func ok(_ data: JSON, meta: JSON? = nil) -> HTTPResponse {
        var object: JSONObject = ["data": data]
        if let meta { object["meta"] = meta }
        return .json(JSON.object(object).serializedBytes())
    }

}

/// `fields` / `except`: which keys of each record are returned (names checked). An `except` path
/// `category.title` drops `title` from the appended `category` records (NocoBase's
/// `options-parser.ts`: it only acts on an appended relation, and is ignored otherwise).
package struct Projection: Sendable {
    package var fields: [String]?
    package var except: Set<String> = []
    /// `except` paths into appended relations: relation names, then the key to drop.
    package var nestedExcept: [[String]] = []

    package init(query: QueryParameters, collection: String, catalogue: Catalogue) throws(DomainError) {
        guard let definition = catalogue.collection(collection) else { return }
        let known = Self.visibleKeys(collection, catalogue)
        for item in query.list("fields") where !known.contains(item) { throw .invalidParameter("fields", "unknown field '\(item)'") }
        for item in query.list("except") {
            let path = item.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if path.count == 1 {
                guard known.contains(item) else { throw .invalidParameter("except", "unknown field '\(item)'") }
                except.insert(item)
                continue
            }
            var current = definition
            for segment in path.dropLast() {
                guard let field = current.field(segment), field.type.isRelation, !field.hidden, let target = field.target.flatMap(catalogue.collection) else {
                    throw .invalidParameter("except", "'\(item)' is not a field of a relation")
                }
                current = target
            }
            guard Self.visibleKeys(current.name, catalogue).contains(path.last!) else { throw .invalidParameter("except", "unknown field '\(item)'") }
            nestedExcept.append(path)
        }
        let fields = query.list("fields")
        self.fields = fields.isEmpty ? nil : fields
    }

    private static func visibleKeys(_ collection: String, _ catalogue: Catalogue) -> Set<String> {
        guard let definition = catalogue.collection(collection) else { return [] }
        return Set(catalogue.allColumns(collection) + definition.fields.map(\.name)).subtracting(definition.fields.filter(\.hidden).map(\.name))
    }

    package func apply(_ record: JSONObject) -> JSONObject {
        var result = JSONObject()
        if let fields {
            for key in fields { if let value = record[key] { result[key] = value } }
        } else {
            for (key, value) in record where !except.contains(key) { result[key] = value }
        }
        for path in nestedExcept { Self.drop(path[...], from: &result) }
        return result
    }

    /// Removes the last key of `path` inside the (appended) records the path leads to.
    private static func drop(_ path: ArraySlice<String>, from object: inout JSONObject) {
        guard let head = path.first else { return }
        if path.count == 1 { object.removeValue(forKey: head); return }
        switch object[head] {
        case .object(var inner):
            drop(path.dropFirst(), from: &inner)
            object[head] = .object(inner)
        case .array(let items):
            object[head] = .array(items.map { item in
                guard case .object(var inner) = item else { return item }
                drop(path.dropFirst(), from: &inner)
                return .object(inner)
            })
        default:
            break
        }
    }
}
