import JSON
import Logging
import Model
import Storage
import Synchronization

/// Runs queued executions (spec 04: The dispatcher).
///
/// - The executions table is the queue, and the dispatcher takes its work by *claiming* it
///   (`ExecutionStore.claim`): one statement per batch leases the oldest unclaimed queued (or
///   started, unleased) executions to this dispatcher's `owner` for `leaseMilliseconds`, so no
///   other owner takes them while the lease lives. Claims are writes, so they run as writer jobs.
///   A write that queues an execution while the dispatcher has room and nothing older waits
///   unclaimed inserts it already leased to this dispatcher (`adoption(of:in:)`), which takes it
///   after the commit without a claim; when the dispatcher holds and expects nothing at all, an
///   execution of a version without request or delay nodes even runs whole in that write, in a
///   savepoint after the write's own changes (`WorkflowRuntime.runInWrite`): nothing older of its
///   key can be waiting, so per-key order holds. Otherwise the write calls `noteQueued`; the commit
///   observer then wakes the dispatcher, which claims the new rows (no polling delay, and nothing
///   held in memory between the commit and the row). Claimed and adopted executions reach the
///   dispatcher through one inbox in commit order.
/// - Claims return executions in id (creation) order and the dispatcher keeps them in that order
///   per key: executions of one key run in creation order, `options.concurrency` at a time; keys
///   run side by side, at most `maxInFlight` executions in all. An execution stays leased from its
///   claim to its end (waiting its turn, running, sleeping on a delay or a retry pause); a lease
///   is not reclaimed by its own owner, so no execution is taken twice. A version without request
///   or delay nodes runs whole in one write job, and the single writer runs those jobs in the order
///   submitted, so they are handed to it back to back without waiting for each other.
/// - While it runs, the dispatcher renews its leases every third of `leaseMilliseconds` and makes
///   claimable again the executions whose lease another owner let lapse (a process that died).
///   Sync executions, run by the request that fired them, are inserted already leased to this
///   owner (`newLease`), and renewed with the rest.
/// - Restart: every process start is a new owner (`owner` is random). On a database of its own
///   (SQLite), `start` first takes over at once every lease held by any other owner, expired or
///   not, then claims: that other owner can only be a previous process that crashed or stopped,
///   and what it left `queued` or `started` must resume now, not when its leases lapse (spec 04:
///   nothing waits for a timer to notice them). A stopping dispatcher gives its leases back (`stop`).
/// - Several processes on one database (`StorageBackend.isShared`, PostgreSQL): a sibling's
///   leases are live, so only lapsed ones are freed, at start and every third of the lease. A claim
///   leaves alone the keys another process is running (per-key FIFO and concurrency hold across
///   processes), nothing is adopted (it would skip that rule), every step first checks, in its own
///   transaction, that this process still holds the execution's lease (a process that lost it,
///   paused past its lease, writes nothing), and claims follow other processes' announcements
///   that executions became claimable, with the periodic sweep as the fallback.
/// - A step that throws in the writer (storage busy or full) rolled back, so the execution is
///   where it was: it is tried again on `RetryPolicy.writeStep`'s schedule, `options.retries`
///   times, then ends `failed` with reason `retries exhausted`, its `attempts` and `lastError`
///   (the dead-letter view). Should that last write fail too, it is tried again every
///   `capMilliseconds` until it commits: an execution is never dropped.
/// - Timers go by the injected `WorkflowClock`, so tests move a clock instead of sleeping. Leases
///   go by the wall clock (they are compared across processes) and are kept on real time.
/// - An actor: its state is touched by one task at a time. Its tasks run on the application's
///   request threads, never on an event loop; SQLite work runs on the storage threads.
package actor Dispatcher {
    private let database: any StorageBackend
    private let engine: ExecutionEngine
    private let registry: WorkflowRegistry
    private let requests: HTTPRequestNode
    private let logger: Logger
    private let counters: ExecutionCounters
    private let executor: any TaskExecutor
    private let clock: any WorkflowClock
    private let maxInFlight: Int
    /// Who holds this dispatcher's leases: unique to this process start.
    package nonisolated let owner: String
    /// How long a claim or renewal holds an execution (wall-clock milliseconds).
    package nonisolated let leaseMilliseconds: Int64
    /// Executions held in memory at most; more wait in the table until the backlog shrinks.
    private let backlogLimit = 10_000
    /// Executions claimed per statement.
    private let claimBatch = 1000
    private let queuedHint = Atomic<Bool>(false)
    private let depth = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    /// What the writer hands over, in commit order: step results, claimed executions, adopted ones.
    /// One task drains many (fewer thread wake-ups).
    private let inbox = Mutex<(arrivals: [Arrival], draining: Bool)>(([], false))
    /// Executions this dispatcher holds (`known.count`), for `adoption(of:in:)` on the writer thread.
    private let held = Atomic<Int>(0)
    /// Whether executions may be adopted, and the places reserved for them (writer thread only,
    /// but read and set across the actor and the writer, hence the lock).
    private let adoptions = Mutex(AdoptionState())

    private struct AdoptionState {
        /// Between `start` and `stop`.
        var accepting = false
        /// Unleased `queued` rows may be in the table: adopting a newer execution could run it
        /// ahead of an older one of its key, so nothing is adopted until a claim has swept them.
        var unclaimedInTable = true
        /// Adoptions whose write has not committed or rolled back yet.
        var reserved = 0
        /// Executions claimed or adopted (from the claim's write on, or the adoption's commit on)
        /// that have not reached the queue yet, so `held` does not count them.
        var promised = 0
    }

    private enum Arrival {
        case stepped(Entry, Result<ExecutionEngine.Advance, any Error>)
        case claimed([Entry])
    }

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
        /// The context the write that queued it stored (an adopted execution): its steps need not
        /// read and parse it again. The context never changes.
        package var context: JSON? = nil

        /// The same execution, on to its next step.
        package var advanced: Entry { Entry(id: id, key: key, isLocal: isLocal, concurrency: concurrency, retries: retries, context: context) }
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
    private var fetching = false
    /// The backlog was full when claimable rows were left in the table.
    private var behind = false
    private var fetchAgain = false
    private var started = false
    private var stopped = false
    private var timers: [Int64: Task<Void, Never>] = [:]
    /// Renews the leases and frees lapsed ones, every third of `leaseMilliseconds`.
    private var leaseKeeper: Task<Void, Never>?
    private var random = SystemRandomNumberGenerator()

    package init(database: any StorageBackend, engine: ExecutionEngine, registry: WorkflowRegistry, requests: HTTPRequestNode,
         logger: Logger, counters: ExecutionCounters, executor: any TaskExecutor, clock: any WorkflowClock,
         maxInFlight: Int = 256, owner: String? = nil, leaseMilliseconds: Int64 = 60_000) {
        self.database = database
        self.engine = engine
        self.registry = registry
        self.requests = requests
        self.logger = logger
        self.counters = counters
        self.executor = executor
        self.clock = clock
        self.maxInFlight = maxInFlight
        self.owner = owner ?? "dispatcher-" + String(UInt64.random(in: 1...UInt64.max), radix: 16)
        self.leaseMilliseconds = max(3, leaseMilliseconds)
    }

    /// Executions in memory waiting for their turn, and those running (for `/metrics`).
    package nonisolated var queueDepth: Int { depth.load(ordering: .relaxed) }
    package nonisolated var runningCount: Int { running.load(ordering: .relaxed) }

    /// Called inside a write that left executions `queued` and unclaimed in the table (inserted
    /// without an adoption, or retried): its commit wakes a claim.
    package nonisolated func noteQueued() {
        adoptions.withLock { $0.unclaimedInTable = true }
        queuedHint.store(true, ordering: .relaxed)
    }

    /// A place for an execution the write `connection` is queueing, when this dispatcher has room
    /// and the table holds nothing older to claim first: the row is inserted leased to this
    /// dispatcher (`Adoption.lease`) and joins its queue right after the commit, with no claim — a
    /// triggered create costs one write, not three. Nil means: insert it unclaimed and call
    /// `noteQueued`. Call on the writer thread, inside the write.
    ///
    /// When the dispatcher holds nothing and expects nothing (no execution of any key is waiting,
    /// running, claimed or adopted), an execution of a storage-only version may instead run whole
    /// in this write (`Adoption.mayRunHere`): nothing older of its key can be waiting for a turn.
    package nonisolated func adoption(of version: WorkflowVersion, in connection: any Transaction) -> Adoption? {
        guard !database.isShared else { return nil }
        let limit = maxInFlight, held = self.held.load(ordering: .relaxed)
        let granted = adoptions.withLock { state -> (Bool, idle: Bool) in
            guard state.accepting, !state.unclaimedInTable, held + state.reserved < limit else { return (false, false) }
            let idle = held == 0 && state.reserved == 0 && state.promised == 0
            state.reserved += 1
            return (true, idle)
        }
        guard granted.0 else { return nil }
        let adoption = Adoption(lease: newLease(), mayRunHere: granted.idle && version.isLocal, dispatcher: self)
        let key = version.key, isLocal = version.isLocal, concurrency = version.concurrency, retries = version.retries
        connection.afterCommit {
            guard !adoption.settled else { return }
            self.adoptions.withLock { state in
                state.reserved -= 1
                if adoption.id != nil { state.promised += 1 }
            }
            guard let id = adoption.id else { return }
            self.post(.claimed([Entry(id: id, key: key, isLocal: isLocal, concurrency: concurrency, retries: retries,
                                      context: adoption.context)]))
        }
        connection.onRollback {
            guard !adoption.settled else { return }
            self.adoptions.withLock { $0.reserved -= 1 }
        }
        return adoption
    }

    /// See `Dispatcher.adoption(of:in:)`: the lease to insert the row under, then `adopt` its id,
    /// or, when `mayRunHere` and its run in the write finished it, `ranHere`. Writer thread only.
    package final class Adoption {
        package let lease: ExecutionLease
        /// The execution may run whole in the write that queues it (see `adoption(of:in:)`).
        package let mayRunHere: Bool
        private let dispatcher: Dispatcher
        fileprivate var id: Int64?
        fileprivate var context: JSON?
        /// The reservation was given back already (`ranHere`).
        fileprivate var settled = false

        fileprivate init(lease: ExecutionLease, mayRunHere: Bool, dispatcher: Dispatcher) {
            self.lease = lease
            self.mayRunHere = mayRunHere
            self.dispatcher = dispatcher
        }

        /// The row is inserted with `context`: it joins the dispatcher's queue once the write commits.
        package func adopt(_ id: Int64, context: JSON) {
            self.id = id
            self.context = context
        }

        /// The execution ended in the write that queued it: its place is free at once, so the
        /// next execution queued in the same batch may run in its write too.
        package func ranHere() {
            guard !settled else { return }
            settled = true
            dispatcher.adoptions.withLock { $0.reserved -= 1 }
        }
    }

    /// Inside a write that claimed `count` executions: they count as expected (no execution runs in
    /// a write meanwhile) until they reach the queue, or the claim rolls back.
    private nonisolated func notePromised(_ count: Int, in connection: any Transaction) {
        adoptions.withLock { $0.promised += count }
        connection.onRollback { self.adoptions.withLock { $0.promised -= count } }
    }

    /// A lease for an execution this process starts itself (a sync one), from now.
    package nonisolated func newLease() -> ExecutionLease {
        ExecutionLease(owner: owner, expiresAt: Timestamp.nowMilliseconds() + leaseMilliseconds)
    }

    /// Called on the writer thread after every commit: claims the new executions if some were queued.
    package nonisolated func commitObserved() {
        guard queuedHint.exchange(false, ordering: .relaxed) else { return }
        Task(executorPreference: executor) { await self.fetch() }
    }

    /// Starts dispatching: takes over what other owners hold (see the type's comment on restart),
    /// then claims what is `queued` or `started`, oldest first, and then new executions.
    package func start() async {
        guard !started, !stopped else { return }
        started = true
        let owner = self.owner, takeOverUntil = database.isShared ? Timestamp.nowMilliseconds() : .max
        do {
            try await database.write { connection in
                try connection.executions.releaseExpiredLeases(now: takeOverUntil, sparing: owner)
            }
        } catch {
            logger.error("dispatcher cannot take over executions", ["error": .string("\(error)")])
        }
        database.addAnnouncementObserver { [weak self] change in
            guard change == .executionsClaimable, let self else { return }
            Task(executorPreference: self.executor) { await self.fetch() }
        }
        adoptions.withLock { $0.accepting = true }
        let pause = Duration.milliseconds(leaseMilliseconds / 3)
        leaseKeeper = Task(executorPreference: executor) {
            while true {
                do { try await Task.sleep(for: pause) } catch { return }
                await self.keepLeases()
            }
        }
        await fetch()
    }

    /// Renews this dispatcher's leases and makes claimable what other owners let lapse (claiming
    /// it if there was some). Runs every third of `leaseMilliseconds`.
    package func keepLeases() async {
        guard started, !stopped else { return }
        let owner = self.owner, now = Timestamp.nowMilliseconds(), until = now + leaseMilliseconds
        let freed: Int
        do {
            freed = try await database.write { connection in
                try connection.executions.renewLeases(owner: owner, leaseUntil: until)
                let freed = try connection.executions.releaseExpiredLeases(now: now, sparing: owner)
                if freed > 0 { self.noteUnclaimed() }
                return freed
            }
        } catch {
            if !stopped { logger.error("dispatcher cannot renew its leases", ["error": .string("\(error)")]) }
            return
        }
        // On a shared database, also what other processes queued without this one hearing of it.
        if freed > 0 || database.isShared { await fetch() }
    }

    /// Takes these executions (retried, say) into the queue if they are queued or started and
    /// nobody else holds them.
    package func recheck(_ ids: [Int64]) async {
        guard !ids.isEmpty else { return }
        let registry = self.registry, owner = self.owner, until = Timestamp.nowMilliseconds() + leaseMilliseconds
        do {
            let claimed = try await database.write { connection -> Bool in
                guard let found = try connection.executions.claim(ids, owner: owner, leaseUntil: until) else { return false }
                let entries = try Self.entries(found, registry: registry, connection: connection)
                self.notePromised(entries.count, in: connection)
                connection.afterCommit { self.post(.claimed(entries)) }
                return true
            }
            if !claimed { fetchSoon() }
        } catch {
            logger.error("dispatcher cannot claim executions", ["error": .string("\(error)")])
        }
        drainInbox()
    }

    /// Stops taking executions and waits (up to `seconds`) for the running ones; what is left stays
    /// `queued` or `started` in the table, its leases given back, and resumes at the next start.
    package func stop(waitingUpTo seconds: Double = 5) async {
        stopped = true
        adoptions.withLock { $0.accepting = false }
        leaseKeeper?.cancel()
        leaseKeeper = nil
        for timer in timers.values { timer.cancel() }
        timers.removeAll()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while inFlight > 0 && clock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        guard started, inFlight == 0 else { return }
        let owner = self.owner
        do {
            try await database.write { connection in try connection.executions.releaseLeases(owner: owner) }
        } catch {
            logger.error("dispatcher cannot give back its leases", ["error": .string("\(error)")])
        }
    }

    // MARK: Claiming work

    private func fetch() async {
        if fetching { fetchAgain = true; return }
        fetching = true
        defer { fetching = false }
        repeat {
            fetchAgain = false
            guard started, !stopped else { break }
            if known.count >= backlogLimit { behind = true; break }
            let registry = self.registry, owner = self.owner, batch = claimBatch
            let until = Timestamp.nowMilliseconds() + leaseMilliseconds
            let claimed: Int?
            do {
                claimed = try await database.write { connection -> Int? in
                    guard let found = try connection.executions.claim(limit: batch, owner: owner, leaseUntil: until) else { return nil }
                    let entries = try Self.entries(found, registry: registry, connection: connection)
                    self.notePromised(entries.count, in: connection)
                    if found.count < batch { self.noteSwept(in: connection) }
                    // Through the inbox, behind what earlier commits handed over: per-key order holds.
                    connection.afterCommit { self.post(.claimed(entries)) }
                    return found.count
                }
            } catch {
                if !stopped { logger.error("dispatcher cannot claim executions", ["error": .string("\(error)")]) }
                break
            }
            guard let claimed else { fetchSoon(); break }
            if claimed == batch { fetchAgain = true }
            drainInbox()
        } while fetchAgain
    }

    /// Another process was claiming: claims again in a few milliseconds.
    private func fetchSoon() {
        Task(executorPreference: executor) {
            try? await Task.sleep(for: .milliseconds(5))
            await self.fetch()
        }
    }

    /// Inside a claim that took every unclaimed row: adoption may resume (unless the claim rolls back).
    private nonisolated func noteSwept(in connection: any Transaction) {
        adoptions.withLock { $0.unclaimedInTable = false }
        connection.onRollback { self.noteUnclaimed() }
    }

    /// Rows became claimable (leases freed): nothing is adopted until a claim has swept them.
    private nonisolated func noteUnclaimed() {
        adoptions.withLock { $0.unclaimedInTable = true }
    }

    private static func entries(_ claimed: [ClaimedExecution], registry: WorkflowRegistry, connection: any Transaction) throws -> [Entry] {
        try claimed.map { execution in
            let version = try registry.version(execution.workflowID, connection)
            return Entry(id: execution.id, key: execution.key, isLocal: version?.isLocal ?? true, concurrency: version?.concurrency ?? 1,
                         retries: version?.retries ?? RetryPolicy.defaultRetries)
        }
    }

    private func add(_ entries: [Entry]) {
        for entry in entries where known.insert(entry.id).inserted {
            if queues[entry.key] == nil { queues[entry.key] = KeyQueue(); keyOrder.append(entry.key) }
            queues[entry.key]!.pending.append(entry)
        }
        publishDepth()
        adoptions.withLock { $0.promised -= entries.count }
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
        let engine = self.engine, owner = self.owner, fenced = database.isShared
        database.write(background: true, { connection in
            if fenced, try !connection.executions.holdsLease(entry.id, owner: owner) {
                return ExecutionEngine.Advance(step: .finished(.canceled, byEnd: false))  // another process has it now
            }
            if entry.exhausted {
                return try engine.endRetriesExhausted(entry.id, attempts: .init(count: entry.failures, lastError: entry.lastError ?? ""),
                                                      connection: connection)
            }
            let attempts = entry.failures > 0 ? ExecutionEngine.Attempts(count: entry.failures + 1, lastError: entry.lastError ?? "") : nil
            return try engine.advance(entry.id, completing: entry.completing, attempts: attempts, context: entry.context,
                                      connection: connection)
        }) { result in
            self.post(.stepped(entry, result))
        }
    }

    private nonisolated func post(_ arrival: Arrival) {
        let startDrain = inbox.withLock { inbox -> Bool in
            inbox.arrivals.append(arrival)
            defer { inbox.draining = true }
            return !inbox.draining
        }
        if startDrain { Task(executorPreference: executor) { await self.drainInbox() } }
    }

    private func drainInbox() {
        while true {
            let arrivals = inbox.withLock { inbox -> [Arrival] in
                let arrivals = inbox.arrivals
                inbox.arrivals = []
                if arrivals.isEmpty { inbox.draining = false }
                return arrivals
            }
            if arrivals.isEmpty { return }
            for arrival in arrivals {
                switch arrival {
                case .stepped(let entry, let result): advanced(entry, result)
                case .claimed(let entries): add(entries)
                }
            }
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

    /// After the backlog was full, claims what was left in the table.
    private func fetchIfBehind() {
        guard behind, known.count < backlogLimit / 2, !fetching, !stopped else { return }
        behind = false
        Task(executorPreference: executor) { await self.fetch() }
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
        held.store(known.count, ordering: .relaxed)
        running.store(inFlight, ordering: .relaxed)
    }
}
