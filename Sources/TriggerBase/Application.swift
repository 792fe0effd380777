import Foundation
import HTTPServer
import JSON
import Logging
import Storage

/// Settings of the application layer (the HTTP server has its own).
public struct ApplicationConfiguration: Sendable {
    /// Folder holding the database and the root token.
    public var dataDirectory: String = "./data"
    /// `synchronous=FULL` (default) or NORMAL.
    public var synchronous: SynchronousMode = .full
    public init() {}

    var databasePath: String { (dataDirectory as NSString).appendingPathComponent("triggerbase.db") }
}

/// TriggerBase itself: turns HTTP requests into actions on collections.
public final class Application: Sendable {
    public let configuration: ApplicationConfiguration
    let logger: Logger
    let database: Database
    let schema: SchemaState
    private let resources: ResourceService
    private let collections: CollectionService
    let executor = RequestExecutor(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))

    /// Opens (or creates) the database under the data folder and applies pending migrations.
    public init(configuration: ApplicationConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        var databaseConfiguration = DatabaseConfiguration(path: configuration.databasePath)
        databaseConfiguration.synchronous = configuration.synchronous
        database = try Database(configuration: databaseConfiguration, logger: logger)
        do {
            try database.migrate(SystemMigrations.all)
            // Start-up is synchronous: read the catalogue over a short-lived read-only connection.
            let connection = try SQLiteConnection(path: configuration.databasePath, mode: .readOnly)
            let catalogue = try Catalogue.load(connection)
            connection.close()
            schema = SchemaState(catalogue)
        } catch {
            database.close()
            throw error
        }
        resources = ResourceService(database: database, schema: schema)
        collections = CollectionService(database: database, schema: schema)
    }

    /// The request handler to give to `HTTPServer`. `/health` is answered on the event loop; API
    /// calls run as tasks whose SQLite work runs on the storage threads.
    public var handler: HTTPHandler {
        { [self] request, responder in
            let path = request.path
            if path == "/health" {
                guard request.method == "GET" || request.method == "HEAD" else {
                    responder.respond(Route.methodNotAllowed("GET, HEAD").response)
                    return
                }
                responder.respond(.json(Self.healthBody))
                return
            }
            if path == "/metrics" {
                responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                               body: Array(self.metricsText().utf8)))
                return
            }
            Task(executorPreference: executor) { responder.respond(await self.handleAPI(request)) }
        }
    }

    /// Prometheus text (spec 07); grows with the workflow issues (executions, queue depth).
    func metricsText() -> String {
        let statistics = database.writeStatistics
        return """
            # HELP triggerbase_write_batches_total Write transactions committed by the single writer.
            # TYPE triggerbase_write_batches_total counter
            triggerbase_write_batches_total \(statistics.batches)
            # HELP triggerbase_write_jobs_total Write requests committed (jobs / batches = average batch size).
            # TYPE triggerbase_write_jobs_total counter
            triggerbase_write_jobs_total \(statistics.jobs)

            """
    }

    private static let healthBody: [UInt8] = Array(#"{"data":{"status":"ok"}}"#.utf8)

    func handleAPI(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            let path = request.path
            guard path.hasPrefix("/api/") else {
                throw APIError(status: 404, code: "NOT_FOUND", message: "no route for \(path)")
            }
            let query = QueryParameters(request.query)
            switch try Route.parse(path.dropFirst(5), method: request.method) {
            case .resource(let collection, let action, let id):
                if collection == "collections" { return try await collections.handle(action: action, request: request, query: query) }
                // Built-in collections (users) get their own management API with the auth layer.
                if schema.current.collection(collection)?.isBuiltIn == true { throw APIError.collectionNotFound(collection) }
                return try await resources.handle(collection: collection, action: action, id: id, request: request, query: query)
            case .fields(let collection, let action):
                return try await collections.fields(collection: collection, action: action, request: request, query: query)
            case .association(let collection, let id, let relation, let action):
                return try await association(collection, id: id, relation: relation, action: action, request: request, query: query)
            }
        } catch let error as APIError {
            return error.response
        } catch let error as StorageError where error.isDiskFull || error.isReadOnly {
            logger.error("storage unavailable", ["requestId": .string(request.requestID), "error": .string(error.description)])
            return APIError(status: 503, code: "STORAGE_UNAVAILABLE", message: "the database cannot be written right now").response
        } catch {
            logger.error("request failed", ["requestId": .string(request.requestID), "error": .string("\(error)")])
            return APIError.internalError(request.requestID).response
        }
    }

    /// `/api/<c>/<id>/<relation>:<action>`: the action on the related records of one record.
    private func association(_ collection: String, id: Int64, relation: String, action: String,
                             request: HTTPRequest, query: QueryParameters) async throws -> HTTPResponse {
        let catalogue = schema.current
        guard let definition = catalogue.collection(collection), !definition.isBuiltIn else { throw APIError.collectionNotFound(collection) }
        guard let field = definition.field(relation), field.type.isRelation, let target = field.target else {
            throw APIError(status: 404, code: "NOT_FOUND", message: "'\(collection)' has no relation '\(relation)'")
        }
        let parent = try await database.read { connection in
            try RecordStore(connection: connection, catalogue: catalogue).record(collection, id: id)
        }
        guard let parent else { throw APIError.notFound }
        var scope = ResourceService.Scope()
        switch field.type {
        case .belongsTo:
            guard action == "get" || action == "list" else { throw Route.methodNotAllowed("GET, HEAD") }
            scope.sql = "t0.\"id\" = ?"
            scope.parameters = [parent[field.foreignKey!]?.intValue.map { .integer($0) } ?? .null]
            return try await resources.handle(collection: target, action: "get", id: nil, request: request, query: query, scope: scope)
        case .hasOne, .hasMany:
            scope.sql = "t0.\(Name.quoted(field.foreignKey!)) = ?"
            scope.parameters = [.integer(id)]
            scope.fixed = [field.foreignKey!: .integer(id)]
        default:
            let a = Catalogue.singular(collection) + "Id", b = Catalogue.singular(target) + "Id"
            scope.sql = "t0.\"id\" IN (SELECT \(Name.quoted(b)) FROM \(Name.quoted(field.through!)) WHERE \(Name.quoted(a)) = ?)"
            scope.parameters = [.integer(id)]
            scope.link = (field, collection, id)
        }
        return try await resources.handle(collection: target, action: action, id: nil, request: request, query: query, scope: scope)
    }

    /// Finishes background work (write batches) before exit.
    public func shutdown() {
        executor.stop()
        let statistics = database.writeStatistics
        logger.info("write statistics", ["batches": .int(statistics.batches), "jobs": .int(statistics.jobs),
                                         "averageBatch": .double(statistics.batches == 0 ? 0 : Double(statistics.jobs) / Double(statistics.batches))])
        database.close()
        logger.flush()
    }
}

/// A result handed from a task to a waiting thread. `@unchecked Sendable`: written once before the
/// semaphore is signalled and read only after it is waited on.
final class ResultBox<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) { result = value }
    func get() throws -> T { try result!.get() }
}
