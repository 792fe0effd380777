import Logging
import Model
import Storage
import Synchronization

/// Runs queued executions (spec 04: The dispatcher).
///
/// - The executions table is the queue. A write job that queues executions calls `noteQueued`;
///   the commit observer then wakes the dispatcher, which reads the new rows (no polling delay, and
///   nothing held in memory between the commit and the row). At start it first takes back what a
///   crash left `queued` or `started`.
/// - Executions of one key run in creation order, `options.concurrency` at a time; keys run side
///   by side, at most `maxInFlight` executions in all. A version without request or delay nodes
///   runs whole in one write job, and the single writer runs those jobs in the order submitted,
///   so they are handed to it back to back without waiting for each other.
/// - A step that throws in the writer (storage busy or full) rolled back, so the execution is
///   where it was: it is tried again on `RetryPolicy.writeStep`'s schedule, `options.retries`
///   times, then ends `failed` with reason `retries exhausted`, its `attempts` and `lastError`
///   (the dead-letter view). Should that last write fail too, it is tried again every
///   `capMilliseconds` until it commits: an execution is never dropped.
/// - Timers go by the injected `WorkflowClock`, so tests move a clock instead of sleeping.
/// - An actor: its state is touched by one task at a time. Its tasks run on the application's
///   request threads, never on an event loop; SQLite work runs on the storage threads.
package actor Dispatcher {
    private let database: Database
    private let engine: ExecutionEngine
    private let registry: WorkflowRegistry
    private let requests: RequestNode
    private let logger: Logger
    private let counters: ExecutionCounters
    private let executor: any TaskExecutor
    private let clock: any WorkflowClock
    private let maxInFlight: Int
    /// Executions held in memory at most; more wait in the table until the backlog shrinks.
    private let backlogLimit = 10_000
    private let queuedHint = Atomic<Bool>(false)
    private let depth = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    /// Step results from the writer, handed over in bulk: one task drains many (fewer thread wake-ups).
    private let inbox = Mutex<(results: [(Entry, Result<ExecutionEngine.Advance, any Error>)], draining: Bool)>(([], false))

    private struct Entry: Sendable {
        package var id: Int64
        package var key: String
        package var isLocal: Bool
        package var concurrency: Int
        /// The version's `options.retries`, for failed write steps.
        package var retries: Int
        /// A request node's result still to store (kept when storing it failed, so the call is not sent again).
        package var completing: ExecutionEngine.NodeResult? = nil
        /// Tries of the current step that threw in the writer, and why the last one did.
        package var failures = 0
        package var lastError: String? = nil
        /// The retries are spent: the next write ends the execution `failed`.
        package var exhausted = false

        /// The same execution, on to its next step.
        package var advanced: Entry { Entry(id: id, key: key, isLocal: isLocal, concurrency: concurrency, retries: retries) }
    }

    private struct KeyQueue {
        package var pending: [Entry] = []
        package var head = 0
        /// Executions of this key in flight that wait outside the writer (count against concurrency).
        package var outside = 0
        package var isEmpty: Bool { head >= pending.count }
    }

    private var queues: [String: KeyQueue] = [:]
    private var keyOrder: [String] = []
    private var known: Set<Int64> = []
    private var inFlight = 0
    /// Recovery: ids up to `recoveryEnd` that were `queued` or `started` when the process began.
    private var recoveryCursor: Int64 = 0
    private var recoveryEnd: Int64 = 0
    /// New executions: queued ids above this one have not been read yet.
    private var liveCursor: Int64 = 0
    private var fetching = false
    /// The backlog was full when rows were left unread.
    private var behind = false
    private var fetchAgain = false
    private var stopped = false
    private var timers: [Int64: Task<Void, Never>] = [:]
    private var random = SystemRandomNumberGenerator()

    package init(database: Database, engine: ExecutionEngine, registry: WorkflowRegistry, requests: RequestNode,
         logger: Logger, counters: ExecutionCounters, executor: any TaskExecutor, clock: any WorkflowClock,
         maxInFlight: Int = 256) {
        self.database = database
        self.engine = engine
        self.registry = registry
        self.requests = requests
        self.logger = logger
        self.counters = counters
        self.executor = executor
        self.clock = clock
        self.maxInFlight = maxInFlight
    }

    /// Executions in memory waiting for their turn, and those running (for `/metrics`).
    package nonisolated var queueDepth: Int { depth.load(ordering: .relaxed) }
    package nonisolated var runningCount: Int { running.load(ordering: .relaxed) }

    /// Called inside a write job that inserted queued executions.
    package nonisolated func noteQueued() { queuedHint.store(true, ordering: .relaxed) }

    /// Called on the writer thread after every commit: reads the new executions if some were queued.
    package nonisolated func commitObserved() {
        guard queuedHint.exchange(false, ordering: .relaxed) else { return }
        Task(executorPreference: executor) { await self.fetch() }
    }

    /// Starts dispatching: first what was `queued` or `started` at start-up, then new executions.
    package func start() async {
        do {
            let last = try await database.read { connection in
                try connection.query("SELECT max(\"id\") FROM \"executions\"").first?[0].int64 ?? 0
            }
            recoveryEnd = last
            liveCursor = last
        } catch {
            logger.error("dispatcher cannot read executions", ["error": .string("\(error)")])
        }
        await fetch()
    }

    /// Takes these executions (retried, say) into the queue if they are queued or started.
    package func recheck(_ ids: [Int64]) async {
        guard !ids.isEmpty else { return }
        let registry = self.registry
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        do {
            let entries = try await database.read { connection in
                try Self.entries(try connection.query("""
                    SELECT "id", "workflowId", "key" FROM "executions" WHERE "id" IN (\(marks)) AND ("status" IS NULL OR "status" = ?) ORDER BY "id"
                    """, ids.map { .integer($0) } + [.integer(ExecutionStatus.started.rawValue)]), registry: registry, connection: connection)
            }
            add(entries)
        } catch {
            logger.error("dispatcher cannot read executions", ["error": .string("\(error)")])
        }
        pump()
    }

    /// Stops taking executions and waits (up to `seconds`) for the running ones; what is left stays
    /// `queued` or `started` in the table and resumes at the next start.
    package func stop(waitingUpTo seconds: Double = 5) async {
        stopped = true
        for timer in timers.values { timer.cancel() }
        timers.removeAll()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while inFlight > 0 && clock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
    }

    // MARK: Reading the queue

    private func fetch() async {
        if fetching { fetchAgain = true; return }
        fetching = true
        defer { fetching = false }
        repeat {
            fetchAgain = false
            guard !stopped else { break }
            if known.count >= backlogLimit { behind = true; break }
            let registry = self.registry
            let recovering = recoveryCursor < recoveryEnd
            let (cursor, end) = recovering ? (recoveryCursor, recoveryEnd) : (liveCursor, Int64.max)
            let batch = 1000
            let rows: [Entry]
            let last: Int64?
            do {
                (rows, last) = try await database.read { connection in
                    let found = try connection.query("""
                        SELECT "id", "workflowId", "key" FROM "executions"
                        WHERE "id" > ? AND "id" <= ? AND ("status" IS NULL\(recovering ? " OR \"status\" = ?" : "")) ORDER BY "id" LIMIT ?
                        """, [.integer(cursor), .integer(end)] + (recovering ? [.integer(ExecutionStatus.started.rawValue)] : []) + [.integer(Int64(batch))])
                    return (try Self.entries(found, registry: registry, connection: connection), found.last?[0].int64)
                }
            } catch {
                if !stopped { logger.error("dispatcher cannot read executions", ["error": .string("\(error)")]) }
                break
            }
            if recovering {
                recoveryCursor = rows.count < batch ? recoveryEnd : (last ?? recoveryEnd)
                fetchAgain = true
            } else if let last {
                liveCursor = max(liveCursor, last)
                if rows.count == batch { fetchAgain = true }
            }
            add(rows)
            pump()
        } while fetchAgain
    }

    private static func entries(_ rows: [Row], registry: WorkflowRegistry, connection: SQLiteConnection) throws -> [Entry] {
        try rows.compactMap { row in
            guard let id = row[0].int64, let key = row[2].string else { return nil }
            let version = try row[1].int64.flatMap { try registry.version($0, connection) }
            return Entry(id: id, key: key, isLocal: version?.isLocal ?? true, concurrency: version?.concurrency ?? 1,
                         retries: version?.retries ?? RetryPolicy.defaultRetries)
        }
    }

    private func add(_ entries: [Entry]) {
        for entry in entries where known.insert(entry.id).inserted {
            if queues[entry.key] == nil { queues[entry.key] = KeyQueue(); keyOrder.append(entry.key) }
            queues[entry.key]!.pending.append(entry)
        }
        publishDepth()
    }

    // MARK: Running

    /// Starts every execution whose turn it is.
    private func pump() {
        guard !stopped else { return }
        var emptied: [String] = []
        for key in keyOrder {
            guard var queue = queues[key] else { continue }
            while inFlight < maxInFlight, !queue.isEmpty {
                let entry = queue.pending[queue.head]
                guard queue.outside < entry.concurrency else { break }
                queue.head += 1
                if !entry.isLocal { queue.outside += 1 }
                inFlight += 1
                submit(entry)
            }
            if queue.head > 1024 && queue.head * 2 > queue.pending.count {
                queue.pending.removeFirst(queue.head)
                queue.head = 0
            }
            if queue.isEmpty && queue.outside == 0 { emptied.append(key) }
            queues[key] = queue
        }
        if !emptied.isEmpty {
            for key in emptied { queues[key] = nil }
            keyOrder.removeAll { queues[$0] == nil }
        }
        publishDepth()
    }

    /// Hands one step of `entry` to the writer; the result comes back to `advanced`.
    private nonisolated func submit(_ entry: Entry) {
        let engine = self.engine
        database.write(background: true, { connection in
            if entry.exhausted {
                return try engine.endRetriesExhausted(entry.id, attempts: .init(count: entry.failures, lastError: entry.lastError ?? ""),
                                                      connection: connection)
            }
            let attempts = entry.failures > 0 ? ExecutionEngine.Attempts(count: entry.failures + 1, lastError: entry.lastError ?? "") : nil
            return try engine.advance(entry.id, completing: entry.completing, attempts: attempts, connection: connection)
        }) { result in
            self.deliver(entry, result)
        }
    }

    private nonisolated func deliver(_ entry: Entry, _ result: Result<ExecutionEngine.Advance, any Error>) {
        let startDrain = inbox.withLock { inbox -> Bool in
            inbox.results.append((entry, result))
            defer { inbox.draining = true }
            return !inbox.draining
        }
        if startDrain { Task(executorPreference: executor) { await self.drainInbox() } }
    }

    private func drainInbox() {
        while true {
            let results = inbox.withLock { inbox -> [(Entry, Result<ExecutionEngine.Advance, any Error>)] in
                let results = inbox.results
                inbox.results = []
                if results.isEmpty { inbox.draining = false }
                return results
            }
            if results.isEmpty { return }
            for (entry, result) in results { advanced(entry, result) }
            pump()
            fetchIfBehind()
        }
    }

    private func advanced(_ entry: Entry, _ result: Result<ExecutionEngine.Advance, any Error>) {
        switch result {
        case .success(let advance):
            switch advance.step {
            case .finished(let status, _):
                if !advance.key.isEmpty { counters.record(key: advance.key, status: status) }
                release(entry)
            case .wait(let until):
                release(entry)
                schedule(entry.advanced, at: until)
            case .request(let call):
                let requests = self.requests
                let next = entry.advanced
                Task(executorPreference: executor) {
                    var completed = next
                    completed.completing = await requests.send(call)
                    self.submit(completed)
                }
            }
        case .failure(let error):
            release(entry)
            guard !stopped else { return }
            // The step rolled back: the execution is still queued or started in the table.
            retry(entry, after: error)
        }
    }

    /// Schedules the next try of a step that threw in the writer, or the write that ends the
    /// execution `failed` once `options.retries` are spent (that one is tried until it commits).
    private func retry(_ entry: Entry, after error: any Error) {
        let policy = RetryPolicy.writeStep(retries: entry.retries)
        let id: LogValue = .int(Int(entry.id)), reason: LogValue = .string("\(error)")
        var next = entry
        if entry.exhausted {
            logger.error("cannot end an execution failed; trying again", ["executionId": id, "error": reason])
            schedule(next, at: clock.nowMilliseconds() + policy.capMilliseconds)
            return
        }
        next.failures += 1
        next.lastError = "\(error)"
        if let pause = policy.delay(afterFailures: next.failures, using: &random) {
            logger.error("execution step failed; retrying", ["executionId": id, "error": reason, "attempt": .int(next.failures),
                                                             "retryInMs": .int(Int(pause))])
            schedule(next, at: clock.nowMilliseconds() + pause)
        } else {
            logger.error("execution step failed; retries exhausted", ["executionId": id, "error": reason, "attempts": .int(next.failures)])
            next.exhausted = true
            enqueue(next)
        }
    }

    /// Frees the execution's place; the caller (`drainInbox`) pumps once for all it released.
    private func release(_ entry: Entry) {
        inFlight -= 1
        known.remove(entry.id)
        if !entry.isLocal { queues[entry.key]?.outside -= 1 }
    }

    /// After the backlog was full, reads what was left in the table.
    private func fetchIfBehind() {
        guard known.count < backlogLimit / 2, !fetching, !stopped else { return }
        if recoveryCursor < recoveryEnd || behind {
            behind = false
            Task(executorPreference: executor) { await self.fetch() }
        }
    }

    /// Wakes a waiting execution (delay node, or a failed step) at `until` (on `clock`).
    private func schedule(_ entry: Entry, at until: Int64) {
        known.insert(entry.id)
        let clock = self.clock
        timers[entry.id] = Task(executorPreference: executor) {
            do { try await clock.sleep(untilMilliseconds: until) } catch { return }
            await self.wake(entry)
        }
    }

    private func wake(_ entry: Entry) {
        timers[entry.id] = nil
        guard !stopped else { return }
        enqueue(entry)
        pump()
    }

    /// Puts a known execution back in its key's queue (the caller pumps).
    private func enqueue(_ entry: Entry) {
        known.insert(entry.id)
        if queues[entry.key] == nil { queues[entry.key] = KeyQueue(); keyOrder.append(entry.key) }
        queues[entry.key]!.pending.append(entry)
    }

    private func publishDepth() {
        var waiting = 0
        for queue in queues.values { waiting += queue.pending.count - queue.head }
        depth.store(waiting, ordering: .relaxed)
        running.store(inFlight, ordering: .relaxed)
    }
}
