import Auth
import Foundation
import HTTPServer
import JSON
import Logging
import Model
import Records
import Storage
import WebUI
import Workflows

/// Settings of the application layer (the HTTP server has its own).
public struct ApplicationConfiguration: Sendable {
    /// Folder holding the database and the root token.
    public var dataDirectory: String = "./data"
    /// A PostgreSQL URL (`postgres://…`) to use instead of the SQLite file under `dataDirectory`
    /// (`--database`); nil for SQLite.
    public var database: String?
    /// `synchronous=FULL` (default) or NORMAL.
    public var synchronous: SynchronousMode = .full
    /// Writes waiting for the writer past which new writing requests get 503 `OVERLOADED`.
    public var maxWriteBacklog = 2000
    /// How long a process's claim on an execution outlives the process (`--lease-seconds`): on a
    /// shared database another process resumes what a dead one held once its leases lapse.
    public var leaseSeconds = 60
    /// API requests handled at once past which new ones get 503 `OVERLOADED`.
    public var maxRequestsInFlight = 4096
    /// The time workflows go by (delays, timeouts, retry pauses): the real clock, or a manual one in tests.
    package var workflowClock: any WorkflowClock = SystemWorkflowClock()
    /// Password hashing threads and the sign-in caps (issue 13; defaults documented in the README).
    public var signIn = SignInLimits()
    public init() {}

    package var databasePath: String { (dataDirectory as NSString).appendingPathComponent("triggerbase.db") }
}

/// TriggerBase itself: turns HTTP requests into actions on collections.
public final class Application: Sendable {
    public let configuration: ApplicationConfiguration
    package let logger: Logger
    package let database: any StorageBackend
    package let schema: SchemaState
    private let resources: ResourceService
    private let collections: CollectionService
    private let identities: IdentityService
    private let workflows: WorkflowService
    private let executions: ExecutionService
    private let directStart: DirectStartService
    private let recordWorkflows: RecordWorkflowService
    private let recordWorkflowDefinitions: RecordWorkflowDefinitionService
    package let workflowRuntime: WorkflowRuntime
    package let authCache: AuthCache
    /// How long another process's revocation may take to reach this one at worst (its
    /// announcement normally arrives at once): the auth cache's `maxAge` on a shared database.
    package static let sharedAuthCacheSeconds = 5.0
    /// The only place passwords are hashed or verified (never the writer or an event loop).
    package let passwordHasher: PasswordHasher
    package let signInThrottle: SignInThrottle
    private let health: HealthProbe
    package let executor = RequestExecutor(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))
    package let shedder: LoadShedder

    /// Opens (or creates) the database under the data folder and applies pending migrations.
    public init(configuration: ApplicationConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        shedder = LoadShedder(maxRequestsInFlight: configuration.maxRequestsInFlight, maxWriteBacklog: configuration.maxWriteBacklog)
        passwordHasher = PasswordHasher(threads: configuration.signIn.hashThreads, maxWaiting: configuration.signIn.maxWaitingHashes)
        signInThrottle = SignInThrottle(limits: configuration.signIn)
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        database = try Self.openDatabase(configuration, logger: logger)
        authCache = AuthCache(maxAge: database.isShared ? Self.sharedAuthCacheSeconds : nil)
        do {
            try database.migrate()
            // Start-up is synchronous: the catalogue is read blocking, before any request can come.
            schema = SchemaState(try database.readBlocking { try $0.schema.catalogue() })
            let runtime = WorkflowRuntime(database: database, schema: schema, logger: logger, executor: executor,
                                          clock: configuration.workflowClock,
                                          leaseMilliseconds: Int64(configuration.leaseSeconds) * 1000)
            workflowRuntime = runtime
            try database.readBlocking { try runtime.registry.reload($0) }
        } catch {
            database.close()
            throw error
        }
        resources = ResourceService(database: database, schema: schema, workflows: workflowRuntime)
        collections = CollectionService(database: database, schema: schema)
        identities = IdentityService(database: database, failures: SignInFailures(), throttle: signInThrottle, hasher: passwordHasher,
                                     authCache: authCache)
        directStart = DirectStartService(database: database, workflows: workflowRuntime)
        recordWorkflows = RecordWorkflowService(database: database, schema: schema, workflows: workflowRuntime)
        recordWorkflowDefinitions = RecordWorkflowDefinitionService(database: database)
        workflows = WorkflowService(database: database, schema: schema, resources: resources, registry: workflowRuntime.registry,
                                    directStart: directStart)
        executions = ExecutionService(database: database, resources: resources, workflows: workflowRuntime)
        health = HealthProbe(database: database)
        followOtherProcesses()
        health.start()
        try runBlocking { [database, logger] in
            try await Bootstrap.ensureRoot(database: database, dataDirectory: configuration.dataDirectory, logger: logger)
        }
    }

    /// On a shared database, what other processes change reaches this one's caches: the auth
    /// cache is cleared, the catalogue and the workflow registry are read again in a write (so the
    /// writer's view moves with them). Claimable executions are the dispatcher's to hear.
    private func followOtherProcesses() {
        let database = self.database, authCache = self.authCache, schema = self.schema
        let registry = workflowRuntime.registry, logger = self.logger
        database.addAnnouncementObserver { change in
            switch change {
            case .identitiesChanged:
                authCache.invalidate()
            case .catalogueChanged:
                database.write(background: true, { try schema.reload(connection: $0) }) { result in
                    if case .failure(let error) = result { logger.error("cannot reload the catalogue", ["error": .string("\(error)")]) }
                }
            case .workflowsChanged:
                database.write(background: true, { try registry.reload($0) }) { result in
                    if case .failure(let error) = result { logger.error("cannot reload the workflows", ["error": .string("\(error)")]) }
                }
            case .executionsClaimable:
                break
            }
        }
    }

    /// The backend `configuration` names: PostgreSQL at `database`, or the SQLite file.
    private static func openDatabase(_ configuration: ApplicationConfiguration, logger: Logger) throws -> any StorageBackend {
        if let url = configuration.database {
            return try PostgresDatabase(configuration: PostgresConfiguration(url: url), logger: logger)
        }
        var sqlite = SQLiteConfiguration(path: configuration.databasePath)
        sqlite.synchronous = configuration.synchronous
        return try SQLiteDatabase(configuration: sqlite, logger: logger)
    }

    /// Runs async start-up work from synchronous code on the application's own threads.
    package func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try box.get()
    }

    /// The request handler to give to `HTTPServer`. `/health` is answered on the event loop; API
    /// calls run as tasks whose SQLite work runs on the storage threads.
    public var handler: HTTPHandler {
        { [self] request, responder in
            let path = request.path
            if path == "/health" {
                do throws(DomainError) { try APIRoutes.check(request.method, fixed: "/health") } catch {
                    responder.respond(error.response)
                    return
                }
                responder.respond(self.health.isHealthy ? .json(Self.healthBody)
                    : DomainError(.unavailable, code: "DATABASE_UNAVAILABLE", message: "the database does not answer").response)
                return
            }
            if path == "/metrics" {
                do throws(DomainError) { try APIRoutes.check(request.method, fixed: "/metrics") } catch {
                    responder.respond(error.response)
                    return
                }
                responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                               body: Array(self.metricsText().utf8)))
                return
            }
            if path == "/ui" || path.hasPrefix("/ui/") {
                responder.respond(Self.page(request))
                return
            }
            guard shedder.admits(request, writeBacklog: database.writeBacklog) else {
                responder.respond(LoadShedder.overloaded.response)
                return
            }
            if self.createImmediately(request, responder) { return }
            guard shedder.begin() else {
                responder.respond(LoadShedder.overloaded.response)
                return
            }
            Task(executorPreference: executor) {
                let response = await self.handleAPI(request)
                self.shedder.finish()  // before answering: the client's next request may follow at once
                responder.respond(response)
            }
        }
    }

    /// A file of the built-in page (`WebUI`), answered on the event loop: it is static.
    static func page(_ request: HTTPRequest) -> HTTPResponse {
        guard let asset = WebUI.asset(at: String(request.path)) else {
            return DomainError(.notFound, code: "NOT_FOUND", message: "no route for \(request.path)").response
        }
        guard request.method == "GET" || request.method == "HEAD" else { return Route.methodNotAllowed("GET, HEAD").response }
        return HTTPResponse(status: 200, headers: [("Content-Type", asset.contentType)] + WebUI.headers, body: asset.body)
    }

    /// Prometheus text (spec 07): write batches, queue depths and shed requests, the dispatcher's queue, dropped log lines,
    /// finished executions.
    package func metricsText() -> String {
        let statistics = database.writeStatistics
        let hashLoad = passwordHasher.load
        return """
            # HELP triggerbase_write_batches_total Write transactions committed by the single writer.
            # TYPE triggerbase_write_batches_total counter
            triggerbase_write_batches_total \(statistics.batches)
            # HELP triggerbase_write_jobs_total Write requests committed (jobs / batches = average batch size).
            # TYPE triggerbase_write_jobs_total counter
            triggerbase_write_jobs_total \(statistics.writes)
            # HELP triggerbase_dispatcher_queue_depth Queued executions read from the table and waiting for their turn.
            # TYPE triggerbase_dispatcher_queue_depth gauge
            triggerbase_dispatcher_queue_depth \(workflowRuntime.dispatcher.queueDepth)
            # HELP triggerbase_dispatcher_running Executions being run (one step in the writer or waiting for an HTTP answer).
            # TYPE triggerbase_dispatcher_running gauge
            triggerbase_dispatcher_running \(workflowRuntime.dispatcher.runningCount)
            \(shedder.prometheusLines(writeBacklog: database.writeBacklog))# HELP triggerbase_log_lines_dropped_total Log lines dropped because the log buffer was full (stderr slower than logging).
            # TYPE triggerbase_log_lines_dropped_total counter
            triggerbase_log_lines_dropped_total \(logger.droppedLineCount)
            # HELP triggerbase_executions_finished_total Executions that ended in this process, by workflow key and status.
            # TYPE triggerbase_executions_finished_total counter
            \(workflowRuntime.counters.prometheusLines)
            # HELP triggerbase_password_hashes Password hashes running on the hashing threads, and callers waiting for one.
            # TYPE triggerbase_password_hashes gauge
            triggerbase_password_hashes{state="running"} \(hashLoad.running)
            triggerbase_password_hashes{state="waiting"} \(hashLoad.waiting)
            # HELP triggerbase_signin_in_progress Sign-ins hashing or waiting for a hashing thread (capped; spec 03).
            # TYPE triggerbase_signin_in_progress gauge
            triggerbase_signin_in_progress \(signInThrottle.signInsInProgress)
            # HELP triggerbase_signin_refused_total Sign-ins answered 429: the global cap was full (busy) or the address spent its budget.
            # TYPE triggerbase_signin_refused_total counter
            \(signInThrottle.prometheusLines)
            """
    }

    private static let healthBody: [UInt8] = Array(#"{"data":{"status":"ok"}}"#.utf8)

    /// A small `POST /api/<collection>:create` by a caller in the authentication cache is checked
    /// on the event loop (cheap: no I/O) and handed straight to the writer.
    private func createImmediately(_ request: HTTPRequest, _ responder: HTTPResponder) -> Bool {
        guard request.method == "POST", request.body.count <= 16_384 else { return false }
        // `/api/<collection>:create`, read by bytes: Character-wise prefix, suffix and search cost
        // more than the rest of this check.
        let path = request.path.utf8
        guard path.count > 12, path.starts(with: "/api/".utf8), path.suffix(7).elementsEqual(":create".utf8) else { return false }
        let name = path.dropFirst(5).dropLast(7)
        guard !name.contains(UInt8(ascii: "/")), let collection = String(name) else { return false }
        guard Name.isValid(collection), !CollectionDefinition.reservedNames.contains(collection) else { return false }
        let query = QueryParameters(request.query)
        let token = Authenticator.token(authorization: request.headers["authorization"], queryToken: query["token"])
        let key = (token.map(Crypto.tokenDigest) ?? "-") + "|" + (request.headers["x-role"] ?? "")
        guard let access = authCache.lookup(key) else { return false }
        return resources.createImmediately(collection: collection, request: request, query: query, access: access,
                                           respond: { responder.respond(building: $0) }, onError: { [self] in errorResponse($0, request) })
    }

    /// The response for an error thrown while handling `request` (details of unexpected ones go to the log only).
    package func errorResponse(_ error: any Error, _ request: HTTPRequest) -> HTTPResponse {
        switch error {
        case let error as DomainError:
            return error.response
        case let error as StorageError where error.isDiskFull || error.isReadOnly:
            logger.error("storage unavailable", ["requestId": .string(request.requestID), "error": .string(error.description)])
            return DomainError(.unavailable, code: "STORAGE_UNAVAILABLE", message: "the database cannot be written right now").response
        default:
            logger.error("request failed", ["requestId": .string(request.requestID), "error": .string("\(error)")])
            return DomainError.internalError(request.requestID).response
        }
    }

    package func handleAPI(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            let path = request.path
            guard path.hasPrefix("/api/") else {
                throw DomainError(.notFound, code: "NOT_FOUND", message: "no route for \(path)")
            }
            if path == "/api/openapi.json" {
                try APIRoutes.check(request.method, fixed: "/api/openapi.json")
                return .json(OpenAPIDocument(catalogue: schema.current).json().serializedBytes())
            }
            let query = QueryParameters(request.query)
            let access = try await authenticate(request, query: query)
            if path.hasPrefix("/api/workflow/") {
                return try await directStart.handle(path: path.dropFirst("/api/workflow/".count), request: request, query: query, access: access)
            }
            if path == "/api/management/workflow/definitions" || path.hasPrefix("/api/management/workflow/definitions/") {
                return try await recordWorkflowDefinitions.handle(path: path.dropFirst("/api/management/workflow/definitions".count),
                                                                  request: request, access: access)
            }
            if let (collection, id, resource) = RecordWorkflowService.route(path.dropFirst(5)) {
                return resource == "events"
                    ? try await recordWorkflows.invoke(collection: collection, id: id, request: request, query: query, access: access)
                    : try await recordWorkflows.history(collection: collection, id: id, request: request, access: access)
            }
            switch try Route.parse(path.dropFirst(5), method: request.method) {
            case .resource(let collection, let action, let id):
                if collection == "collections" { return try await collections.handle(action: action, request: request, query: query, access: access) }
                if collection == "workflows" {
                    return try await workflows.handle(action: action, id: id, request: request, query: query, access: access)
                }
                if collection == "executions" {
                    return try await executions.handle(action: action, id: id, request: request, query: query, access: access)
                }
                if action == APIRoutes.invokeWorkflow.name {
                    try APIRoutes.check(request.method, action: action, in: [APIRoutes.invokeWorkflow], resource: collection)
                    guard let recordID = try id ?? query.primaryKeys()?.first else { throw DomainError.invalidParameter("filterByTk", "the record id is required") }
                    return try await recordWorkflows.invoke(collection: collection, id: recordID, request: request, query: query, access: access)
                }
                if APIRoutes.identities.contains(where: { $0.resource == collection }) {
                    return try await identities.handle(resource: collection, action: action, id: id, request: request, query: query, access: access)
                }
                return try await resources.handle(collection: collection, action: action, id: id, request: request, query: query, access: access)
            case .fields(let collection, let action):
                return try await collections.fields(collection: collection, action: action, request: request, query: query, access: access)
            case .association(let collection, let id, let relation, let action):
                return try await association(collection, id: id, relation: relation, action: action, request: request, query: query, access: access)
            }
        } catch {
            return errorResponse(error, request)
        }
    }

    /// Authenticates the token and `X-Role` (spec 03) and loads the role's permissions.
    private func authenticate(_ request: HTTPRequest, query: QueryParameters) async throws -> AccessCheck {
        let token = Authenticator.token(authorization: request.headers["authorization"], queryToken: query["token"])
        let role = request.headers["x-role"]
        let key = (token.map(Crypto.tokenDigest) ?? "-") + "|" + (role ?? "")
        if let cached = authCache.lookup(key) { return cached }
        let generation = authCache.generation
        let access = try await database.read { connection in
            let actor = try Authenticator.authenticate(token: token, requestedRole: role, store: connection.identities, now: Timestamp.now())
            let permissions = try RolePermissions.load(role: actor.roleName, store: connection.identities) ?? RolePermissions()
            let user = try actor.userID.flatMap { try connection.records(Catalogue.base).record("users", id: $0) }
            return AccessCheck(actor: actor, permissions: permissions, hadToken: token != nil, user: user.map(JSON.object) ?? .null)
        }
        authCache.store(key, access, expiresAt: access.actor.expiresAt, generation: generation)
        return access
    }

    /// `/api/<c>/<id>/<relation>:<action>`: the action on the related records of one record.
    private func association(_ collection: String, id: Int64, relation: String, action: String,
                             request: HTTPRequest, query: QueryParameters, access: AccessCheck) async throws -> HTTPResponse {
        let catalogue = schema.current
        guard let definition = catalogue.collection(collection), !definition.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        guard let field = definition.field(relation), field.type.isRelation, let target = field.target else {
            throw DomainError(.notFound, code: "NOT_FOUND", message: "'\(collection)' has no relation '\(relation)'")
        }
        // The parent must be visible to the actor (view permission and scope); linking changes it,
        // so the link actions need update permission on it instead.
        let link = LinkAction(rawValue: action)
        if link != nil { try APIRoutes.check(request.method, action: action, in: APIRoutes.links, resource: "\(collection).\(relation)") }
        let parentGrant = try access.require(link == nil ? "view" : "update", on: collection)
        let own = OwnScope(parentGrant, actor: access.actor)
        let parent = try await database.read { connection -> JSONObject? in
            guard let record = try connection.records(catalogue).record(collection, id: id) else { return nil }
            if let own, !own.allows(record) { return nil }
            return record
        }
        guard let parent else { throw DomainError.notFound }
        if let link { return try await resources.link(link, field: field, of: collection, id: id, request: request, query: query) }
        var scope = ResourceService.Scope()
        switch field.type {
        case .belongsTo:
            // A to-one relation is read here (list and get); it is changed by set / remove above.
            guard action == "get" || action == "list" else {
                throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action '\(collection).\(relation):\(action)'")
            }
            scope.condition = .id(parent[field.foreignKey!]?.intValue)
            return try await resources.handle(collection: target, action: "get", id: nil, request: request, query: query, access: access, scope: scope)
        case .hasOne, .hasMany:
            scope.condition = .related(to: id, by: field, in: collection)
            scope.fixed = [field.foreignKey!: .integer(id)]
        default:
            scope.condition = .related(to: id, by: field, in: collection)
            scope.link = (field, collection, id)
        }
        return try await resources.handle(collection: target, action: action, id: nil, request: request, query: query, access: access, scope: scope)
    }

    /// Starts running queued executions, first those a previous run left unfinished (`serve` only;
    /// CLI commands that only write never run workflows).
    public func startWorkflows() {
        let dispatcher = workflowRuntime.dispatcher
        Task(executorPreference: executor) { await dispatcher.start() }
    }

    /// Finishes background work (running executions for a few seconds, write batches) before exit.
    public func shutdown() {
        let dispatcher = workflowRuntime.dispatcher
        _ = try? runBlocking { await dispatcher.stop() }
        health.stop()
        executor.stop()
        passwordHasher.stop()
        let statistics = database.writeStatistics
        logger.info("write statistics", ["batches": .int(statistics.batches), "writes": .int(statistics.writes),
                                         "averageBatch": .double(statistics.batches == 0 ? 0 : Double(statistics.writes) / Double(statistics.batches))])
        database.close()
        logger.flush()
    }
}

/// A result handed from a task to a waiting thread. `@unchecked Sendable`: written once before the
/// semaphore is signalled and read only after it is waited on.
package final class ResultBox<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    package func set(_ value: Result<T, any Error>) { result = value }
    package func get() throws -> T { try result!.get() }
}
