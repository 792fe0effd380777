import Auth
import JSON
import Logging
import Model
import Records
import Storage

/// The workflow side of a write: what the resource actions call to fire workflows inside their
/// write job, and to run the sync ones and shape the answer after the commit (spec 04).
package final class WorkflowRuntime: Sendable {
    package let registry: WorkflowRegistry
    package let engine: ExecutionEngine
    package let requests: HTTPRequestNode
    package let dispatcher: Dispatcher
    package let counters = ExecutionCounters()
    /// The application's request threads: sync answers and dispatcher tasks run there, never on
    /// the shared cooperative pool (which a busy caller could fill).
    package let executor: any TaskExecutor
    private let database: any StorageBackend
    package let logger: Logger

    /// `clock` is the time workflows go by (delays, timeouts, retry pauses); tests pass a manual one.
    /// `leaseMilliseconds`: how long a claim holds an execution unless renewed (the dispatcher's).
    package init(database: any StorageBackend, schema: SchemaState, logger: Logger, executor: any TaskExecutor,
         clock: any WorkflowClock = SystemWorkflowClock(), leaseMilliseconds: Int64 = 60_000) {
        registry = WorkflowRegistry()
        engine = ExecutionEngine(registry: registry, schema: schema, clock: clock)
        requests = HTTPRequestNode(clock: clock)
        dispatcher = Dispatcher(database: database, engine: engine, registry: registry, requests: requests, logger: logger,
                                counters: counters, executor: executor, clock: clock, leaseMilliseconds: leaseMilliseconds)
        self.database = database
        self.logger = logger
        self.executor = executor
        database.addCommitObserver { [dispatcher] in dispatcher.commitObserved() }
    }

    /// A write's result: the answer's `data` and the workflows it fired.
    package struct WriteOutcome: Sendable {
        package var data: JSON
        package var fired = FiredWorkflows()

        package init(data: JSON, fired: FiredWorkflows = FiredWorkflows()) {
            self.data = data
            self.fired = fired
        }
    }

    /// Inside a write job: fires the workflows for an action's records (see `PostActionTrigger`).
    /// For a destroy, `plan` before deleting and `insert` after.
    package func plan(action: String, collection: String, affected: [Int64], nested: [(collection: String, id: Int64)],
              request: TriggerWorkflowsParameter, actor: Actor, store: RecordStore, stored: (collection: String, records: [Int64: JSONObject])? = nil,
              fired: inout FiredWorkflows) throws -> [PostActionTrigger.Run] {
        let index = registry.current
        guard !request.items.isEmpty || !index.global.isEmpty else { return [] }
        return try PostActionTrigger(index: index, store: store, actor: actor, stored: stored)
            .plan(action: action, collection: collection, affected: affected, nested: nested, request: request, fired: &fired)
    }

    /// Inside a write job: one execution row per planned run, with context `{data, user, roleName}`
    /// plus `context` (`event` for record-workflow events). `user` is the caller's record when it
    /// has it (cached with the authentication); otherwise it is read here.
    package func insert(_ runs: [PostActionTrigger.Run], actor: Actor, user: JSON, store: RecordStore, fired: inout FiredWorkflows,
                context extra: JSONObject = [:]) throws {
        guard !runs.isEmpty else { return }
        var user = user
        if user.isNull, let userID = actor.userID, let record = try store.record("users", id: userID) { user = .object(record) }
        for run in runs {
            var context: JSONObject = ["data": .object(run.subject), "user": user, "roleName": .string(actor.roleName)]
            for (key, value) in extra { context[key] = value }
            let (id, started) = try insertExecution(run.version, context: .object(context), connection: store.transaction)
            fired.executionIDs.append(id)
            if started { fired.syncExecutionIDs.append(id) }
        }
    }

    /// The one place execution rows are written, inside the caller's write (the outbox):
    /// `queued`, and handed to this process's dispatcher after the commit when it has room
    /// (`Dispatcher.adoption`), else left for a dispatcher to claim — which the commit then wakes;
    /// or already `started` when the caller runs it itself (a sync workflow, or `runHere`). Either
    /// way a row this process will run is leased to its dispatcher, so no other one claims it.
    package func insertExecution(_ version: WorkflowVersion, context: JSON, businessKey: String? = nil, runHere: Bool = false,
                         connection: any Transaction) throws -> (id: Int64, started: Bool) {
        let started = version.sync || runHere
        let store = connection.executions
        if started {
            let id = try store.enqueue(workflowID: version.id, key: version.key, context: context, businessKey: businessKey,
                                       started: true, lease: dispatcher.newLease())
            return (id, true)
        }
        if let adoption = dispatcher.adoption(of: version, in: connection) {
            if adoption.mayRunHere, let id = runWhole(version, context: context, businessKey: businessKey, lease: adoption.lease, connection: connection) {
                adoption.ranHere()
                return (id, false)
            }
            let id = try store.enqueue(workflowID: version.id, key: version.key, context: context, businessKey: businessKey,
                                       started: false, lease: adoption.lease)
            adoption.adopt(id, context: context)
            return (id, false)
        }
        let id = try store.enqueue(workflowID: version.id, key: version.key, context: context, businessKey: businessKey,
                                   started: false, lease: nil)
        dispatcher.noteQueued()
        return (id, false)
    }

    /// Runs a storage-only execution of `version` whole inside the write that fires it, after
    /// that write's own changes and in a savepoint of its own, then writes its row already ended
    /// and its jobs: one write instead of two and one insert instead of an insert and an update,
    /// and still async — the answer does not carry its outcome, and a workflow that fails (a
    /// failed node ends the execution `failed`, as in the dispatcher) never fails the write. A run
    /// that throws (storage) is undone, and nil returned: the caller queues the execution for the
    /// dispatcher. Returns the new execution's id.
    private func runWhole(_ version: WorkflowVersion, context: JSON, businessKey: String?, lease: ExecutionLease,
                          connection: any Transaction) -> Int64? {
        let ended: (id: Int64, status: ExecutionStatus)
        do {
            ended = try connection.inSavepoint {
                let run = try engine.runWhole(version, context: context, connection: connection)
                let store = connection.executions
                let id = try store.insertEnded(workflowID: version.id, key: version.key, context: context, businessKey: businessKey,
                                               status: run.status, reason: run.reason, lease: lease)
                if version.deleteExecutionOnStatus.contains(run.status.rawValue) {
                    try store.delete(id)  // `options.deleteExecutionOnStatus`, as an execution's last step does
                } else {
                    for job in run.jobs {
                        try store.saveJob(execution: id, nodeID: job.nodeID, nodeKey: job.key, status: job.status, result: job.result)
                    }
                }
                return (id, run.status)
            }
        } catch {
            logger.error("a workflow run failed in the write that fired it; the dispatcher runs it",
                         ["workflow": .string(version.key), "error": .string("\(error)")])
            return nil
        }
        let counters = self.counters, key = version.key
        connection.afterCommit { counters.record(key: key, status: ended.status) }
        return ended.id
    }

    package enum SyncVerdict: Sendable {
        case resolved([JSON])
        case endFailed([JSON])
        case failed(Int64)
    }

    /// Runs sync executions one after another. An `end` node that resolves stops the rest; a
    /// failure stops them too. Executions that never ran end `canceled`.
    package func runSync(_ ids: [Int64]) async -> SyncVerdict {
        var messages: [JSON] = []
        for (index, id) in ids.enumerated() {
            var completing: ExecutionEngine.NodeResult?
            var verdict: SyncVerdict?
            var stopRest = false
            steps: while true {
                let advance: ExecutionEngine.Advance
                do {
                    advance = try await database.write { [engine, completing] connection in
                        try engine.advance(id, completing: completing, connection: connection)
                    }
                } catch {
                    logger.error("sync execution failed", ["executionId": .int(Int(id)), "error": .string("\(error)")])
                    verdict = .failed(id)
                    break steps
                }
                messages += advance.messages
                switch advance.step {
                case .request(let call):
                    completing = await requests.send(call)
                case .wait:
                    // Cannot happen (delay nodes are refused in sync workflows); leave it to the dispatcher.
                    await dispatcher.recheck([id])
                    verdict = .failed(id)
                    break steps
                case .finished(let status, let byEnd):
                    if !advance.key.isEmpty { counters.record(key: advance.key, status: status) }
                    if status == .resolved { stopRest = byEnd }
                    else { verdict = byEnd && status == .failed ? .endFailed(messages) : .failed(id) }
                    break steps
                }
            }
            if verdict != nil || stopRest {
                await cancel(Array(ids[(index + 1)...]))
                return verdict ?? .resolved(messages)
            }
        }
        return .resolved(messages)
    }

    /// Ends executions that have not finished (queued or started) as `canceled`.
    package func cancel(_ ids: [Int64]) async {
        guard !ids.isEmpty else { return }
        do {
            try await database.write { connection in try connection.executions.cancelUnfinished(ids) }
        } catch {
            logger.error("cannot cancel executions", ["error": .string("\(error)")])
        }
    }
}
