import JSON
import Model
import Storage
import Synchronization

/// One node of a version, parsed once (spec 04: Nodes). A `condition`'s branches are nodes too.
package struct WorkflowNode: Sendable {
    package let id: String
    package let key: String
    package let type: String
    package let config: JSONObject
    package var then: [WorkflowNode]
    package var otherwise: [WorkflowNode]
    /// `config` with its templates found once (a condition's branches left out: they are nodes).
    package let template: Template.Compiled

    package init(id: String, key: String, type: String, config: JSONObject, then: [WorkflowNode] = [], otherwise: [WorkflowNode] = []) {
        self.id = id
        self.key = key
        self.type = type
        self.config = config
        self.then = then
        self.otherwise = otherwise
        var own = config
        if type == "condition" { _ = own.removeValue(forKey: "then"); _ = own.removeValue(forKey: "else") }
        template = Template.compile(.object(own))
    }

    /// Parses nodes that `WorkflowDefinition.validate` accepted.
    package static func parse(_ list: [JSON]) -> [WorkflowNode] {
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
    package var waitsOutside: Bool {
        type == "request" || type == "delay" || then.contains(where: \.waitsOutside) || otherwise.contains(where: \.waitsOutside)
    }
}

/// A saved version as the trigger and the engine use it.
package struct WorkflowVersion: Sendable {
    package var id: Int64
    package var key: String
    package var type: String
    package var enabled: Bool
    package var sync: Bool
    package var collection: String?
    package var global: Bool
    package var actions: Set<String>
    package var appends: [[String]]
    package var nodes: [WorkflowNode]
    /// No request or delay node: a whole run fits in one write job.
    package var isLocal: Bool
    package var concurrency: Int
    package var timeoutMilliseconds: Int64?
    /// `options.retries`: further tries of a failed write step or request node (`RetryPolicy`).
    package var retries: Int
    package var deleteExecutionOnStatus: Set<Int64>

    package init(id: Int64, definition d: WorkflowDefinition) {
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

/// The enabled current versions by key and the global ones by collection, read by every write
/// job that may fire workflows; and parsed versions by id, for the engine.
///
/// Changes to workflows run on the writer thread and call `reload` inside their job, so the jobs
/// after them in the same batch already match against the new set; if that job or its batch rolls
/// back, the index before it comes back. The index is read only by write jobs (the trigger), so it
/// is always the writer's view of the database.
package final class WorkflowRegistry: Sendable {
    package struct Index: Sendable {
        /// Current version of each key, enabled or not.
        package var byKey: [String: WorkflowVersion] = [:]
        /// Enabled global versions per collection.
        package var global: [String: [WorkflowVersion]] = [:]
    }

    private let index = Mutex(Index())
    private let versions = Mutex([Int64: WorkflowVersion]())

    package var current: Index { index.withLock { $0 } }

    /// Rebuilds the index from the current versions.
    package func reload(_ connection: any Transaction) throws {
        var next = Index()
        for row in try connection.workflows.currentVersions() {
            let version = WorkflowVersion(id: row.id, definition: row.definition)
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
    package func version(_ id: Int64, _ connection: any Transaction) throws -> WorkflowVersion? {
        if let cached = versions.withLock({ $0[id] }) { return cached }
        guard let version = try load(id, connection) else { return nil }
        versions.withLock { $0[id] = version }
        return version
    }

    private func load(_ id: Int64, _ connection: any Transaction) throws -> WorkflowVersion? {
        guard let definition = try WorkflowDefinition.load(id, connection) else { return nil }
        return WorkflowVersion(id: id, definition: definition)
    }
}

/// Executions that ended in this process, by workflow key and status name (for `/metrics`).
package final class ExecutionCounters: Sendable {
    private let counts = Mutex([String: [String: Int]]())

    package func record(key: String, status: ExecutionStatus) {
        counts.withLock { $0[key, default: [:]][ExecutionStatus.name(status.rawValue), default: 0] += 1 }
    }

    /// Prometheus lines `triggerbase_executions_finished_total{workflow="k",status="resolved"} 3`.
    package var prometheusLines: String {
        counts.withLock { counts in
            counts.keys.sorted().flatMap { key in
                counts[key]!.keys.sorted().map { "triggerbase_executions_finished_total{workflow=\"\(key)\",status=\"\($0)\"} \(counts[key]![$0]!)\n" }
            }.joined()
        }
    }
}
