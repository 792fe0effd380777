import JSON
import Model
import Records
import Storage

/// Runs an execution's nodes inside write jobs (spec 04: The dispatcher, Nodes).
///
/// `advance` walks the version's nodes from the top, replaying the jobs already stored (a
/// condition's stored result picks its branch again) and running the first node without a job.
/// Storage nodes run right there, each in a savepoint with its job row, so a crash can never
/// run them twice; the walk goes on until the execution ends or reaches a node that must wait
/// outside the writer (an HTTP request, a delay). The execution row is updated once at the end of
/// the job. A version without request or delay nodes therefore runs whole in one job.
package struct ExecutionEngine: Sendable {
    package let registry: WorkflowRegistry
    package let schema: SchemaState
    /// "Now" for delays and `options.timeoutMs` deadlines (a manual clock in tests).
    package let clock: any WorkflowClock

    /// Where an execution stands after a job.
    package enum Step: Sendable {
        /// It has ended (now or before) with this status; `byEnd` if an `end` node ended it.
        case finished(ExecutionStatus, byEnd: Bool)
        /// The next node is an HTTP request, to be sent outside the writer.
        case request(RequestCall)
        /// A delay node waits until this time (milliseconds since 1970).
        case wait(until: Int64)
    }

    package struct Advance: Sendable {
        package var step: Step
        /// `response-message` results produced by this job, in order.
        package var messages: [JSON] = []
        /// The workflow key (for metrics); empty when the execution is gone.
        package var key = ""
    }

    /// A request node ready to send, with its templates rendered.
    package struct RequestCall: Sendable {
        package var executionID: Int64
        package var nodeID: String
        package var config: JSONObject
        /// When the execution's `options.timeoutMs` runs out (milliseconds since 1970).
        package var deadline: Int64?
        /// The workflow's `options.retries`, used when the node's config has no `retries`.
        package var retries = RetryPolicy.defaultRetries
    }

    /// A node's result from outside the writer (the request node's), to store as its job.
    package struct NodeResult: Sendable {
        package var nodeID: String
        package var status: ExecutionStatus
        package var result: JSON
        /// Tries it took when one or more failed (0: the first try answered 2xx).
        package var attempts = 0
        /// Why the last failed try failed (`HTTP 503`, a network error).
        package var lastError: String?
    }

    /// A step that needed more than one try: recorded on the execution as `attempts` and
    /// `lastError`, the dead-letter view's "how hard did we try, and what went wrong".
    package struct Attempts: Sendable, Equatable {
        package var count: Int
        package var lastError: String
    }

    /// Takes execution `id` as far as it can go inside the current write job.
    /// `attempts` are the tries of a write step that failed before this one (from the dispatcher).
    /// `context`, when the caller has it (the write that queued the execution built it), saves
    /// reading and parsing it again; the rest of the row is read as always.
    package func advance(_ id: Int64, completing: NodeResult? = nil, attempts: Attempts? = nil, context: JSON? = nil,
                         connection: any Transaction) throws -> Advance {
        let store = connection.executions
        guard let row = try context.map({ try store.execution(id, context: $0) }) ?? store.execution(id) else {
            return Advance(step: .finished(.canceled, byEnd: false))
        }
        return try advance(row, completing: completing, attempts: attempts, connection: connection)
    }

    /// What a whole run of a storage-only version made, for the execution row its caller writes
    /// after it (`runWhole`).
    package struct WholeRun {
        package var status: ExecutionStatus
        package var reason: String?
        /// The jobs to store under the execution's id, in the order the nodes ran.
        package var jobs: [(nodeID: String, key: String, status: ExecutionStatus, result: JSON)]
    }

    /// A run that had to wait outside the writer (a request or delay node): only a local version runs whole.
    package struct DidNotEnd: Error {}

    /// Runs `version`'s nodes, from the first, for an execution that has no row yet, inside the
    /// current write job: the nodes' writes are made here and their jobs handed back for the
    /// caller to store with the execution once it has written its row, already ended: one insert
    /// instead of an insert and an update. Throws `DidNotEnd` for a version that is not local.
    package func runWhole(_ version: WorkflowVersion, context: JSON, connection: any Transaction) throws -> WholeRun {
        let now = clock.nowMilliseconds()
        var run = Run(executionID: 0, connection: connection, store: connection.executions, catalogue: schema.writerCatalogue,
                      context: context, now: now, clock: clock)
        run.keepsJobs = true
        run.retries = version.retries
        if let limit = version.timeoutMilliseconds { run.deadline = now + limit }
        guard case .finished(let status, _) = try run.walk(version.nodes) ?? .finished(.resolved, byEnd: false) else { throw DidNotEnd() }
        let outcome = run.outcome ?? (status, nil)
        return WholeRun(status: outcome.status, reason: outcome.reason, jobs: run.keptJobs)
    }

    private func advance(_ row: ExecutionRow, completing: NodeResult?, attempts: Attempts?, connection: any Transaction) throws -> Advance {
        let id = row.id, store = connection.executions
        if let status = row.status, status != ExecutionStatus.started.rawValue {
            return Advance(step: .finished(ExecutionStatus(rawValue: status) ?? .error, byEnd: false))
        }
        let now = clock.nowMilliseconds()
        let startedAt = row.startedAt
        let version = try registry.version(row.workflowID, connection)
        var run = Run(executionID: id, connection: connection, store: store, catalogue: schema.writerCatalogue,
                      context: row.context, now: now, clock: clock)
        run.attempts = attempts
        guard let version else {
            run.finish(.error, reason: "workflow version is gone")
            try run.save(startedAt: startedAt, version: nil)
            return Advance(step: .finished(.error, byEnd: false))
        }
        run.retries = version.retries
        if let limit = version.timeoutMilliseconds {
            run.deadline = (startedAt.flatMap(Timestamp.milliseconds) ?? now) + limit
        }
        if row.status != nil { try run.loadJobs() }  // a queued execution has never run a node
        if let completing {
            if completing.attempts > 0 {
                run.attempts = Attempts(count: completing.attempts, lastError: completing.lastError ?? "")
            }
            let status = run.timedOut ? ExecutionStatus.aborted : completing.status
            try run.storeJob(nodeID: completing.nodeID, key: run.key(of: completing.nodeID, in: version.nodes), status: status,
                             result: completing.result)
        }
        let stop = try run.walk(version.nodes) ?? .finished(.resolved, byEnd: false)
        if case .finished(let status, _) = stop, run.outcome == nil { run.finish(status) }
        try run.save(startedAt: startedAt, version: version)
        return Advance(step: stop, messages: run.messages, key: version.key)
    }

    /// Why an execution whose write step kept failing ended (`executions.reason`).
    package static let retriesExhausted = "retries exhausted"

    /// Ends execution `id` `failed` with reason `retries exhausted` and its `attempts` (the
    /// dispatcher, once a write step's `options.retries` are spent) — unless it ended meanwhile
    /// (canceled, say), whose status then stands.
    package func endRetriesExhausted(_ id: Int64, attempts: Attempts, connection: any Transaction) throws -> Advance {
        let store = connection.executions
        guard let row = try store.execution(id) else { return Advance(step: .finished(.canceled, byEnd: false)) }
        if let status = row.status, status != ExecutionStatus.started.rawValue {
            return Advance(step: .finished(ExecutionStatus(rawValue: status) ?? .error, byEnd: false))
        }
        let version = try registry.version(row.workflowID, connection)
        var run = Run(executionID: id, connection: connection, store: store, catalogue: schema.writerCatalogue, context: .null,
                      now: clock.nowMilliseconds(), clock: clock)
        run.attempts = attempts
        run.finish(.failed, reason: Self.retriesExhausted)
        try run.save(startedAt: row.startedAt, version: version)
        return Advance(step: .finished(.failed, byEnd: false), key: version?.key ?? "")
    }

    /// The state of one `advance`.
    private struct Run {
        package let executionID: Int64
        package let connection: any Transaction
        package let store: any ExecutionStore
        package let catalogue: Catalogue
        package let context: JSON
        package let now: Int64
        package let clock: any WorkflowClock
        package var deadline: Int64?
        package var jobs: [String: (status: Int64, result: JSON)] = [:]
        /// Results of finished nodes by node key (`$jobsMapByNodeKey`).
        package var results = JSONObject()
        package var messages: [JSON] = []
        package var outcome: (status: ExecutionStatus, reason: String?)?
        package var attempts: Attempts?
        /// The version's `options.retries`, handed to request nodes.
        package var retries = RetryPolicy.defaultRetries
        /// Jobs are kept in `keptJobs` instead of stored (`runWhole`: the execution has no row yet).
        package var keepsJobs = false
        package var keptJobs: [(nodeID: String, key: String, status: ExecutionStatus, result: JSON)] = []

        package init(executionID: Int64, connection: any Transaction, store: any ExecutionStore, catalogue: Catalogue, context: JSON,
                     now: Int64, clock: any WorkflowClock) {
            self.executionID = executionID
            self.connection = connection
            self.store = store
            self.catalogue = catalogue
            self.context = context
            self.now = now
            self.clock = clock
        }

        package var timedOut: Bool { deadline.map { clock.nowMilliseconds() >= $0 } ?? false }

        package mutating func finish(_ status: ExecutionStatus, reason: String? = nil) { outcome = (status, reason) }

        package mutating func loadJobs() throws {
            for job in try store.jobs(of: executionID) {
                jobs[job.nodeID] = (job.status, job.result)
                if job.status == ExecutionStatus.resolved.rawValue, let key = job.nodeKey { results[key] = job.result }
            }
        }

        package func key(of nodeID: String, in nodes: [WorkflowNode]) -> String {
            for node in nodes {
                if node.id == nodeID { return node.key }
                let inner = key(of: nodeID, in: node.then + node.otherwise)
                if inner != nodeID { return inner }
            }
            return nodeID
        }

        package mutating func storeJob(nodeID: String, key: String, status: ExecutionStatus, result: JSON) throws {
            if keepsJobs {
                keptJobs.append((nodeID, key, status, result))
            } else {
                try store.saveJob(execution: executionID, nodeID: nodeID, nodeKey: key, status: status, result: result)
            }
            jobs[nodeID] = (status.rawValue, result)
            if status == .resolved { results[key] = result }
        }

        package var scope: JSON {
            ["$context": context, "$jobsMapByNodeKey": .object(results), "$system": ["now": .string(Timestamp.now())]]
        }

        /// Walks `nodes`; nil means the list ran to its end.
        package mutating func walk(_ nodes: [WorkflowNode]) throws -> Step? {
            for node in nodes {
                if let job = jobs[node.id] {
                    switch job.status {
                    case ExecutionStatus.resolved.rawValue:
                        if node.type == "condition", let stop = try walk(job.result == .bool(true) ? node.then : node.otherwise) { return stop }
                        if node.type == "end" { return .finished(.resolved, byEnd: true) }
                        continue
                    case ExecutionStatus.started.rawValue where node.type == "delay":
                        if timedOut {
                            try storeJob(nodeID: node.id, key: node.key, status: .aborted, result: job.result)
                            finish(.aborted, reason: "timeout")
                            return .finished(.aborted, byEnd: false)
                        }
                        let until = job.result["until"]?.intValue ?? 0
                        guard clock.nowMilliseconds() >= until else { return .wait(until: min(until, deadline ?? until)) }
                        try storeJob(nodeID: node.id, key: node.key, status: .resolved, result: .null)
                        continue
                    default:
                        let status = ExecutionStatus(rawValue: job.status) ?? .error
                        if status == .aborted { finish(.aborted, reason: "timeout") }
                        return .finished(status, byEnd: node.type == "end")
                    }
                }
                if timedOut { finish(.aborted, reason: "timeout"); return .finished(.aborted, byEnd: false) }
                if let stop = try run(node) { return stop }
            }
            return nil
        }

        /// Runs one node that has no job yet.
        package mutating func run(_ node: WorkflowNode) throws -> Step? {
            let rendered = Template.render(node.template, scope: scope).objectValue ?? [:]
            switch node.type {
            case "condition":
                let scope = self.scope
                let passed: Bool
                do {
                    passed = try Filter.parse(rendered["filter"] ?? [:]).evaluate { path in
                        let trimmed = path.map { $0.trimmingPrefix("{{").trimmingSuffix("}}") }
                        return scope[path: trimmed]
                    }
                } catch {
                    return try fail(node, .error, message: "bad filter: \(error.message)")
                }
                let branches = node.config["then"] != nil || node.config["else"] != nil
                if !passed && (rendered["rejectOnFalse"]?.boolValue ?? !branches) {
                    try storeJob(nodeID: node.id, key: node.key, status: .failed, result: .bool(false))
                    return .finished(.failed, byEnd: false)
                }
                try storeJob(nodeID: node.id, key: node.key, status: .resolved, result: .bool(passed))
                return try walk(passed ? node.then : node.otherwise)
            case "create", "update", "query", "destroy":
                let result: NodeStorage.Result
                do {
                    result = try connection.inSavepoint {
                        try NodeStorage(connection: connection, catalogue: catalogue).run(node.type, rendered)
                    }
                } catch let error as DomainError {
                    return try fail(node, .error, message: error.description)
                }
                if case .failed(let message) = result { return try fail(node, .failed, message: message) }
                guard case .done(let value) = result else { return nil }
                try storeJob(nodeID: node.id, key: node.key, status: .resolved, result: value)
                return nil
            case "response-message":
                let message = rendered["message"] ?? .null
                let text: JSON = message.stringValue.map(JSON.string) ?? (message.isNull ? .string("") : .string(message.serialized()))
                try storeJob(nodeID: node.id, key: node.key, status: .resolved, result: text)
                messages.append(["message": text])
                return nil
            case "end":
                let status: ExecutionStatus = rendered["endStatus"]?.stringValue == "failed" ? .failed : .resolved
                try storeJob(nodeID: node.id, key: node.key, status: status, result: .null)
                return .finished(status, byEnd: true)
            case "delay":
                let until = now + (rendered["durationMs"]?.intValue ?? 0)
                try storeJob(nodeID: node.id, key: node.key, status: .started, result: ["until": .int(until)])
                if clock.nowMilliseconds() >= until {
                    try storeJob(nodeID: node.id, key: node.key, status: .resolved, result: .null)
                    return nil
                }
                return .wait(until: min(until, deadline ?? until))
            case "request":
                return .request(RequestCall(executionID: executionID, nodeID: node.id, config: rendered, deadline: deadline,
                                             retries: retries))
            default:
                return try fail(node, .error, message: "unknown node type '\(node.type)'")
            }
        }

        private mutating func fail(_ node: WorkflowNode, _ status: ExecutionStatus, message: String) throws -> Step {
            try storeJob(nodeID: node.id, key: node.key, status: status, result: ["message": .string(message)])
            return .finished(status, byEnd: false)
        }

        /// Writes the execution's new state (and deletes it if `options.deleteExecutionOnStatus` says so).
        package func save(startedAt: String?, version: WorkflowVersion?) throws {
            let status = outcome?.status ?? .started
            if status.isFinal, version?.deleteExecutionOnStatus.contains(status.rawValue) == true {
                try store.delete(executionID)
                return
            }
            try store.saveProgress(executionID, status: status, reason: outcome?.reason, startedAt: startedAt)
            if let attempts { try store.saveAttempts(executionID, count: attempts.count, lastError: attempts.lastError) }
        }
    }
}

private extension String {
    func trimmingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)).trimmingSpaces : self }
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)).trimmingSpaces : self }
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
