import JSON
import Storage
import Synchronization

/// One node of a version, parsed once (spec 04: Nodes). A `condition`'s branches are nodes too.
struct WorkflowNode: Sendable {
    var id: String
    var key: String
    var type: String
    var config: JSONObject
    var then: [WorkflowNode] = []
    var otherwise: [WorkflowNode] = []

    /// Parses nodes that `WorkflowDefinition.validate` accepted.
    static func parse(_ list: [JSON]) -> [WorkflowNode] {
        list.compactMap { item in
            guard case .object(let object) = item else { return nil }
            let id = object["id"]?.stringValue ?? object["id"]?.intValue.map(String.init) ?? ""
            let config = object["config"]?.objectValue ?? [:]
            return WorkflowNode(id: id, key: object["key"]?.stringValue ?? id, type: object["type"]?.stringValue ?? "",
                                config: config, then: parse(config["then"]?.arrayValue ?? []),
                                otherwise: parse(config["else"]?.arrayValue ?? []))
        }
    }

    /// Whether this node (or one in its branches) leaves the writer: an HTTP call or a wait.
    var waitsOutside: Bool {
        type == "request" || type == "delay" || then.contains(where: \.waitsOutside) || otherwise.contains(where: \.waitsOutside)
    }
}

/// A saved version as the trigger and the engine use it.
struct WorkflowVersion: Sendable {
    var id: Int64
    var key: String
    var type: String
    var enabled: Bool
    var sync: Bool
    var collection: String?
    var global: Bool
    var actions: Set<String>
    var appends: [[String]]
    var nodes: [WorkflowNode]
    /// No request or delay node: a whole run fits in one write job.
    var isLocal: Bool
    var concurrency: Int
    var timeoutMilliseconds: Int64?
    /// `options.retries`: further tries of a failed write step or request node (`RetryPolicy`).
    var retries: Int
    var deleteExecutionOnStatus: Set<Int64>

    init(id: Int64, definition d: WorkflowDefinition) {
        self.id = id
        key = d.key
        type = d.type
        enabled = d.enabled
        sync = d.sync
        collection = d.config["collection"]?.stringValue
        global = d.config["global"]?.boolValue ?? false
        actions = Set(d.config["actions"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        appends = (d.config["appends"]?.arrayValue ?? []).compactMap(\.stringValue).map { $0.split(separator: ".").map(String.init) }
        nodes = WorkflowNode.parse(d.nodes)
        isLocal = !nodes.contains(where: \.waitsOutside)
        concurrency = max(1, Int(d.options["concurrency"]?.intValue ?? 1))
        timeoutMilliseconds = d.options["timeoutMs"]?.intValue
        retries = d.options["retries"]?.intValue.map { Int(clamping: $0) } ?? RetryPolicy.defaultRetries
        deleteExecutionOnStatus = Set((d.options["deleteExecutionOnStatus"]?.arrayValue ?? []).compactMap { item in
            item.intValue ?? item.stringValue.flatMap(ExecutionStatus.init(name:))?.rawValue
        })
    }
}

/// NocoBase's execution and job status numbers (spec 04: The dispatcher); queued is NULL.
/// SQL binds `rawValue` as a parameter rather than writing the numbers; only the migrations,
/// which must stay as they were applied, spell them out.
enum ExecutionStatus: Int64, Sendable, CaseIterable {
    case started = 0, resolved = 1, failed = -1, error = -2, aborted = -3, canceled = -4

    init?(name: String) {
        switch name {
        case "started": self = .started
        case "resolved": self = .resolved
        case "failed": self = .failed
        case "error": self = .error
        case "aborted": self = .aborted
        case "canceled": self = .canceled
        default: return nil
        }
    }

    var isFinal: Bool { self != .started }

    /// failed, error, aborted, canceled: the ended-without-success statuses, all below `started`.
    var isFailure: Bool { rawValue < Self.started.rawValue }

    /// The SQL of the generated `statusName` columns (migration 005) says the same.
    static func name(_ status: Int64?) -> String {
        guard let status else { return "queued" }
        return ExecutionStatus(rawValue: status).map { "\($0)" } ?? "unknown"
    }
}

/// The enabled current versions by key and the global ones by collection, read by every write
/// job that may fire workflows; and parsed versions by id, for the engine.
///
/// Changes to workflows run on the writer thread and call `reload` inside their job, so the jobs
/// after them in the same batch already match against the new set; if that job or its batch rolls
/// back, the index before it comes back. The index is read only by write jobs (the trigger), so it
/// is always the writer's view of the database.
final class WorkflowRegistry: Sendable {
    struct Index: Sendable {
        /// Current version of each key, enabled or not.
        var byKey: [String: WorkflowVersion] = [:]
        /// Enabled global versions per collection.
        var global: [String: [WorkflowVersion]] = [:]
    }

    private let index = Mutex(Index())
    private let versions = Mutex([Int64: WorkflowVersion]())

    var current: Index { index.withLock { $0 } }

    /// Rebuilds the index from the current versions.
    func reload(_ connection: SQLiteConnection) throws {
        var next = Index()
        for row in try connection.query("SELECT \"id\" FROM \"workflows\" WHERE \"current\" = 1 ORDER BY \"id\"") {
            guard let id = row[0].int64, let version = try load(id, connection) else { continue }
            next.byKey[version.key] = version
            if version.enabled && version.global, let collection = version.collection {
                next.global[collection, default: []].append(version)
            }
        }
        let previous = index.withLock { state in
            defer { state = next }
            return state
        }
        versions.withLock { $0.removeAll() }
        // Cached versions may hold rows the rollback removes (and whose ids come back).
        connection.onRollback { [self] in
            index.withLock { $0 = previous }
            versions.withLock { $0.removeAll() }
        }
    }

    /// A version by id (cached: a version that has executions cannot change its nodes).
    func version(_ id: Int64, _ connection: SQLiteConnection) throws -> WorkflowVersion? {
        if let cached = versions.withLock({ $0[id] }) { return cached }
        guard let version = try load(id, connection) else { return nil }
        versions.withLock { $0[id] = version }
        return version
    }

    private func load(_ id: Int64, _ connection: SQLiteConnection) throws -> WorkflowVersion? {
        guard let definition = try WorkflowService.load(id, connection) else { return nil }
        return WorkflowVersion(id: id, definition: definition)
    }
}

/// Executions that ended in this process, by workflow key and status name (for `/metrics`).
final class ExecutionCounters: Sendable {
    private let counts = Mutex([String: [String: Int]]())

    func record(key: String, status: ExecutionStatus) {
        counts.withLock { $0[key, default: [:]][ExecutionStatus.name(status.rawValue), default: 0] += 1 }
    }

    /// Prometheus lines `triggerbase_executions_finished_total{workflow="k",status="resolved"} 3`.
    var prometheusLines: String {
        counts.withLock { counts in
            counts.keys.sorted().flatMap { key in
                counts[key]!.keys.sorted().map { "triggerbase_executions_finished_total{workflow=\"\(key)\",status=\"\($0)\"} \(counts[key]![$0]!)\n" }
            }.joined()
        }
    }
}
