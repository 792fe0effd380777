import JSON
import Model

/// An execution as the engine reads it (spec 04: The dispatcher).
package struct ExecutionRow: Sendable, Equatable {
    package var id: Int64
    package var workflowID: Int64
    /// The stored status number (`ExecutionStatus.rawValue`); nil while queued. Kept as stored so
    /// an unknown number reads as it is (`ExecutionStatus.name` says `unknown`).
    package var status: Int64?
    /// The context stored with it when it was queued (null if unreadable).
    package var context: JSON
    package var startedAt: String?

    package init(id: Int64, workflowID: Int64, status: Int64?, context: JSON, startedAt: String?) {
        self.id = id
        self.workflowID = workflowID
        self.status = status
        self.context = context
        self.startedAt = startedAt
    }
}

/// One job (a node's run) of an execution.
package struct JobRow: Sendable, Equatable {
    package var nodeID: String
    package var nodeKey: String?
    /// The stored status number (`ExecutionStatus.rawValue`).
    package var status: Int64
    package var result: JSON

    package init(nodeID: String, nodeKey: String?, status: Int64, result: JSON) {
        self.nodeID = nodeID
        self.nodeKey = nodeKey
        self.status = status
        self.result = result
    }
}

/// An execution a dispatcher has claimed: what it needs to queue it under its key.
package struct ClaimedExecution: Sendable, Equatable {
    package var id: Int64
    package var workflowID: Int64
    package var key: String

    package init(id: Int64, workflowID: Int64, key: String) {
        self.id = id
        self.workflowID = workflowID
        self.key = key
    }
}

/// Who holds an execution and until when (milliseconds since 1970, wall clock): see
/// `ExecutionStore.claim`.
package struct ExecutionLease: Sendable, Equatable {
    package var owner: String
    package var expiresAt: Int64

    package init(owner: String, expiresAt: Int64) {
        self.owner = owner
        self.expiresAt = expiresAt
    }
}

/// A condition on `/api/workflow/processinstance` (spec 05); several must all hold.
package enum InstanceCondition: Sendable, Equatable {
    case businessKey(String)
    /// The execution is of this exact version (`<key>:<versionNumber>:<id>`).
    case version(key: String, number: Int64, id: Int64)
}

/// An execution with its version, as the start API lists it.
package struct InstanceRow: Sendable, Equatable {
    package var id: Int64
    package var status: Int64?
    package var businessKey: String?
    package var startedAt: String?
    package var createdAt: String?
    package var finishedAt: String?
    package var version: VersionSummary
}

/// Executions and their jobs (spec 04), inside the caller's transaction.
///
/// **Leases.** The executions table is the queue; a dispatcher takes work by *claiming* it:
/// `claim` leases unclaimed queued or started executions to an owner (one process) until a time,
/// so no other owner takes them while the lease lives. The owner renews its leases
/// (`renewLeases`) while it runs; an execution's lease needs no release when it ends (leases are
/// only ever looked at on queued or started executions, and `leaseOwner` then says who ran it
/// last). A stopping owner gives its leases back (`releaseLeases`); those of an owner that died
/// lapse, and `releaseExpiredLeases` makes them claimable again. Lease times are wall-clock
/// milliseconds since 1970, compared across processes.
package protocol ExecutionStore {
    // MARK: Queueing and running

    /// Writes a new execution of version `workflowID` (the outbox: in the caller's write, so it
    /// commits with what fired it). `queued` (status null), unclaimed for any dispatcher or, with
    /// a `lease`, already claimed by its owner; or, `started`, leased to the owner who runs it
    /// itself (a sync workflow, a direct start that runs here). Returns its id.
    func enqueue(workflowID: Int64, key: String, context: JSON, businessKey: String?, started: Bool, lease: ExecutionLease?) throws -> Int64

    /// Writes an execution of version `workflowID` that already ran to its end in the caller's
    /// write (the whole run of a storage-only workflow): `status` final, started and finished
    /// now, under `lease` like every execution its owner ran. Returns its id.
    func insertEnded(workflowID: Int64, key: String, context: JSON, businessKey: String?, status: ExecutionStatus, reason: String?,
                     lease: ExecutionLease) throws -> Int64

    /// Execution `id`, or nil if there is none.
    func execution(_ id: Int64) throws -> ExecutionRow?
    /// Execution `id` with `context` as its context, reading only the rest of the row (the
    /// caller has the context already: the write that queued it built it).
    func execution(_ id: Int64, context: JSON) throws -> ExecutionRow?

    /// The stored status of execution `id`: nil when there is no such execution, `.some(nil)`
    /// while it is queued.
    func status(of id: Int64) throws -> Int64??

    /// Whether version `workflowID` has any execution.
    func hasExecutions(ofVersion workflowID: Int64) throws -> Bool

    /// The jobs of execution `id`, in no particular order.
    func jobs(of id: Int64) throws -> [JobRow]

    /// Writes the job of node `nodeID` (inserted, or its status and result replaced).
    func saveJob(execution id: Int64, nodeID: String, nodeKey: String, status: ExecutionStatus, result: JSON) throws

    /// Writes where execution `id` stands after a step: `status` (`started`, or final with
    /// `finishedAt` set to now), `reason`, `startedAt` (nil: now, the first step); `updatedAt` now.
    func saveProgress(_ id: Int64, status: ExecutionStatus, reason: String?, startedAt: String?) throws

    /// Records how many tries the execution's last retried step took and why the last failed one did.
    func saveAttempts(_ id: Int64, count: Int, lastError: String) throws

    /// Deletes execution `id` (its jobs go with it): `options.deleteExecutionOnStatus`.
    func delete(_ id: Int64) throws

    // MARK: Ending and retrying (the API, the runtime)

    /// Ends each of `ids` that is queued or started as `canceled` (jobs left as they are).
    func cancelUnfinished(_ ids: [Int64]) throws

    /// Ends execution `id` as `canceled`, whatever it was, with its `started` (waiting) jobs.
    func cancel(_ id: Int64) throws

    /// The oldest executions (at most `limit`, by id) matching `filter` (the list's language over
    /// the built-in `executions` collection) whose status is one of `statuses`.
    func ids(matching filter: Filter, statuses: [ExecutionStatus], limit: Int) throws -> [Int64]

    /// Makes execution `id` `started` again from its failed node: deletes its jobs that ended
    /// without success, clears `reason`, `attempts`, `lastError`, `startedAt`, `finishedAt`, and
    /// its lease (so any dispatcher may claim it).
    func restart(_ id: Int64) throws

    // MARK: Claims and leases (the dispatcher)

    /// Leases to `owner`, until `leaseUntil`, up to `limit` executions that are queued or started
    /// and that nobody has claimed (never claimed, released, or restarted), oldest (lowest id)
    /// first, and returns them in that order. One statement for the whole batch.
    ///
    /// On a database several processes share, an execution whose key has an unfinished execution
    /// leased to another owner is left alone: a key runs in one process at a time. Nil when another
    /// process is claiming at this moment: nothing was claimed; try again shortly.
    func claim(limit: Int, owner: String, leaseUntil: Int64) throws -> [ClaimedExecution]?

    /// Leases to `owner` those of `ids` that are queued or started and unclaimed or already
    /// `owner`'s (an execution handed back to the dispatcher: retried, say), in id order, under
    /// the same key rule as `claim(limit:owner:leaseUntil:)`; nil likewise.
    func claim(_ ids: [Int64], owner: String, leaseUntil: Int64) throws -> [ClaimedExecution]?

    /// Whether `owner` still holds the lease of execution `id`, keeping it so until the
    /// transaction ends: a step writes only under its own lease (the owner, unique to one process
    /// start, is the fencing token, checked by the database in the step's own transaction).
    func holdsLease(_ id: Int64, owner: String) throws -> Bool

    /// Moves the lease of every queued or started execution `owner` holds to `leaseUntil`;
    /// returns how many it holds.
    @discardableResult
    func renewLeases(owner: String, leaseUntil: Int64) throws -> Int

    /// Gives back every lease `owner` holds on a queued or started execution (a stopping
    /// dispatcher): they are claimable again at once. Returns how many.
    @discardableResult
    func releaseLeases(owner: String) throws -> Int

    /// Makes claimable again every queued or started execution whose lease expired at or before
    /// `now` and is held by an owner other than `owner` (one that died). Returns how many.
    @discardableResult
    func releaseExpiredLeases(now: Int64, sparing owner: String) throws -> Int

    /// The lease of execution `id` (nil when unclaimed or there is no such execution).
    func lease(of id: Int64) throws -> ExecutionLease?

    // MARK: The start API (spec 05)

    /// Executions meeting every one of `conditions`, with their versions, oldest first, at most `limit`.
    func instances(matching conditions: [InstanceCondition], limit: Int) throws -> [InstanceRow]

    /// Execution `id` with its version, or nil.
    func instance(_ id: Int64) throws -> InstanceRow?

    /// The jobs of execution `id` as records of the built-in `jobs` collection, by id.
    func jobRecords(of id: Int64) throws -> [JSONObject]
}
