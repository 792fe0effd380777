import Foundation
import Testing
@testable import API
@testable import JSON
@testable import Model
@testable import Storage
@testable import Workflows

/// Claims and leases (issue 15 item 4): the store's claim / renew / release / recovery on a bare
/// migrated database, then the dispatcher claiming through them in the running application.
@Suite struct ExecutionLeaseTests {
    /// A migrated database with one workflow version (`versionID`).
    final class Fixture: @unchecked Sendable {
        // @unchecked: `database` is Sendable; `versionID` is written in init only.
        let database: any StorageBackend
        let directory = ServerProcess.temporaryDirectory()
        var versionID: Int64 = 0

        init() async throws {
            database = try TestBackend.open(directory: directory)
            try database.migrate()
            versionID = try await database.write { connection in
                try connection.workflows.insertVersion(
                    WorkflowDefinition(key: "w", title: nil, type: "action", enabled: true, sync: false, config: [:], options: [:], nodes: []),
                    versionNumber: 1, actorID: nil)
            }
        }

        deinit {
            database.close()
            TestBackend.dropDatabase(forDataDirectory: directory)
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Queues executions under `keys`, in that order; their ids.
        func enqueue(_ keys: [String]) async throws -> [Int64] {
            let versionID = self.versionID
            return try await database.write { connection in
                try keys.map { key in
                    try connection.executions.enqueue(workflowID: versionID, key: key, context: ["data": [:]], businessKey: nil, started: false, lease: nil)
                }
            }
        }

        func write<T: Sendable>(_ body: @escaping @Sendable (any ExecutionStore) throws -> T) async throws -> T {
            try await database.write { connection in try body(connection.executions) }
        }
    }

    static let now: Int64 = 1_800_000_000_000
    static let live = now + 60_000

    @Test func aClaimedExecutionIsNotClaimedAgainWhileItsLeaseLives() async throws {
        let fixture = try await Fixture()
        let ids = try await fixture.enqueue(["a", "b", "a"])
        let first = try #require(try await fixture.write { try $0.claim(limit: 10, owner: "one", leaseUntil: Self.live) })
        #expect(first.map(\.id) == ids, "oldest first")
        #expect(first.map(\.key) == ["a", "b", "a"] && first.allSatisfy { $0.workflowID == fixture.versionID })
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "two", leaseUntil: Self.live) } == [], "held by one")
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "one", leaseUntil: Self.live) } == [], "not even one takes it twice")
        #expect(try await fixture.write { try $0.claim(ids, owner: "two", leaseUntil: Self.live) } == [], "nor by id")
        #expect(try await fixture.write { try $0.releaseExpiredLeases(now: Self.now, sparing: "two") } == 0, "the leases live")
        #expect(try await fixture.write { try $0.lease(of: ids[0]) } == ExecutionLease(owner: "one", expiresAt: Self.live))
        // Its owner may take it back by id (an execution handed back to its dispatcher).
        #expect(try await fixture.write { try $0.claim([ids[1]], owner: "one", leaseUntil: Self.live) }?.map(\.id) == [ids[1]])
    }

    @Test func anExpiredLeaseIsClaimedAgain_aRenewedOneIsNot() async throws {
        let fixture = try await Fixture()
        let ids = try await fixture.enqueue(["a", "a", "b"])
        _ = try await fixture.write { try $0.claim(limit: 2, owner: "dead", leaseUntil: Self.now) }
        _ = try await fixture.write { try $0.claim(limit: 1, owner: "alive", leaseUntil: Self.now) }
        #expect(try await fixture.write { try $0.renewLeases(owner: "alive", leaseUntil: Self.live) } == 1)
        #expect(try await fixture.write { try $0.releaseExpiredLeases(now: Self.now - 1, sparing: "next") } == 0, "not yet expired")
        #expect(try await fixture.write { try $0.releaseExpiredLeases(now: Self.now, sparing: "next") } == 2, "dead's two lapsed; alive renewed")
        let again = try await fixture.write { try $0.claim(limit: 10, owner: "next", leaseUntil: Self.live) }
        #expect(again?.map(\.id) == [ids[0], ids[1]], "in creation order")
        #expect(try await fixture.write { try $0.lease(of: ids[2]) }?.owner == "alive")
        // A start takes over every other owner's lease, expired or not; its own stay.
        #expect(try await fixture.write { try $0.releaseExpiredLeases(now: .max, sparing: "next") } == 1)
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "next", leaseUntil: Self.live) }?.map(\.id) == [ids[2]])
    }

    @Test func claimsComeInBatchesOldestFirst_takingStartedUnleasedOnes_neverFinishedOrSyncOnes() async throws {
        let fixture = try await Fixture()
        let ids = try await fixture.enqueue(["a", "b", "a", "b", "a"])
        let versionID = fixture.versionID
        // A sync execution, leased to the process running it; a finished one; a retried one.
        let sync = try await fixture.write {
            try $0.enqueue(workflowID: versionID, key: "s", context: .null, businessKey: nil,
                           started: true, lease: ExecutionLease(owner: "here", expiresAt: Self.live))
        }
        _ = try await fixture.write { try $0.claim([ids[0], ids[1]], owner: "old", leaseUntil: Self.live) }
        try await fixture.write { try $0.saveProgress(ids[0], status: .failed, reason: nil, startedAt: nil) }
        try await fixture.write { try $0.restart(ids[0]) }  // started again, its lease cleared
        try await fixture.write { try $0.saveProgress(ids[1], status: .resolved, reason: nil, startedAt: nil) }
        try await fixture.write { try $0.cancelUnfinished([ids[2]]) }
        #expect(try await fixture.write { try $0.status(of: ids[0]) } == .some(ExecutionStatus.started.rawValue))
        #expect(try await fixture.write { try $0.status(of: ids[3]) } == .some(nil), "queued")
        #expect(try await fixture.write { try $0.status(of: 999) } == nil, "no such execution")

        let first = try #require(try await fixture.write { try $0.claim(limit: 2, owner: "me", leaseUntil: Self.live) })
        let second = try #require(try await fixture.write { try $0.claim(limit: 2, owner: "me", leaseUntil: Self.live) })
        #expect(first.map(\.id) == [ids[0], ids[3]], "the restarted one (started) and the queued ones by id")
        #expect(second.map(\.id) == [ids[4]])
        #expect(!(first + second).contains { $0.id == sync || $0.id == ids[1] || $0.id == ids[2] })
        #expect(try await fixture.write { try $0.lease(of: sync) } == ExecutionLease(owner: "here", expiresAt: Self.live))

        // A stopping owner gives its leases back: claimable again at once, by anyone.
        #expect(try await fixture.write { try $0.releaseLeases(owner: "me") } == 3)
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "other", leaseUntil: Self.live) }?.map(\.id) == [ids[0], ids[3], ids[4]])
    }

    @Test(.enabled(if: TestBackend.isPostgres, "the rule of a database several processes share"))
    func aKeyRunsInOneProcessAtATime_soItsOrderHoldsAcrossProcesses() async throws {
        let fixture = try await Fixture()
        let ids = try await fixture.enqueue(["a", "b"])
        #expect(try await fixture.write { try $0.claim([ids[0]], owner: "one", leaseUntil: Self.live) }?.map(\.id) == [ids[0]])
        let later = try await fixture.enqueue(["a"])
        // one holds an unfinished execution of a: another owner takes only b, and only one takes a's next.
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "two", leaseUntil: Self.live) }?.map(\.id) == [ids[1]])
        #expect(try await fixture.write { try $0.claim(later, owner: "two", leaseUntil: Self.live) } == [])
        #expect(try await fixture.write { try $0.holdsLease(ids[0], owner: "two") } == false, "the lease is the fence")
        #expect(try await fixture.write { try $0.holdsLease(ids[0], owner: "one") } == true)
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "one", leaseUntil: Self.live) }?.map(\.id) == later)
        // Once one's executions of a have ended, the key is free for anybody.
        try await fixture.write { try $0.saveProgress(ids[0], status: .resolved, reason: nil, startedAt: nil) }
        try await fixture.write { try $0.saveProgress(later[0], status: .resolved, reason: nil, startedAt: nil) }
        let third = try await fixture.enqueue(["a"])
        #expect(try await fixture.write { try $0.claim(limit: 10, owner: "two", leaseUntil: Self.live) }?.map(\.id) == third)
    }

    @Test func claimIsOneStatementThatReadsTheUnclaimedIndex() throws {
        let directory = ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: directory + "/t.db", mode: .readWrite)
        defer { connection.close() }
        for migration in SystemMigrations.all { try connection.execute(migration.sql) }
        let plan = try connection.query("""
            EXPLAIN QUERY PLAN SELECT "id" FROM "executions" WHERE "leaseOwner" IS NULL AND "status" IS NULL ORDER BY "id" LIMIT 5
            """).compactMap { $0["detail"]?.string }
        #expect(plan.contains { $0.contains("ix_executions_unclaimed") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "read in id order, not sorted: \(plan)")
    }

    // MARK: The dispatcher

    @Test func anotherOwnersLiveLeaseIsLeftAlone_untilItLapses() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            let version = try client.saveWorkflow(#"{"key":"log","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}"}}}]}"#)
            let versionID = try #require(version["id"]?.intValue)
            let future = Timestamp.nowMilliseconds() + 3_600_000
            try app.execute("""
                INSERT INTO executions (createdAt, updatedAt, workflowId, key, context, leaseOwner, leaseExpiresAt)
                VALUES ('x', 'x', \(versionID), 'log', '{"data":{"title":"held"}}', 'another-process', \(future))
                """)
            let held = try #require(Int64(try app.rows("SELECT max(id) AS id FROM executions")[0]["id"] ?? ""))
            let mine = try client.fire("log", #"{"title":"mine"}"#)[0]
            let shared = app.application.database.isShared
            if !shared { #expect(try client.awaitExecution(mine)["statusName"] == "resolved") }
            let dispatcher = app.application.workflowRuntime.dispatcher
            try app.application.runBlocking { await dispatcher.keepLeases() }
            #expect(try client.execution(held)["statusName"] == "queued", "its owner still holds it")
            if shared {
                // Another process runs the key log: the next one of it waits for that process.
                #expect(try client.execution(mine)["statusName"] == "queued", "its key is another process's")
            }

            try app.execute("UPDATE executions SET leaseExpiresAt = 0 WHERE id = \(held)")
            try app.application.runBlocking { await dispatcher.keepLeases() }
            #expect(try client.awaitExecution(held)["statusName"] == "resolved", "its owner died: taken over and run")
            #expect(try client.awaitExecution(mine)["statusName"] == "resolved")
            #expect(try app.rows("SELECT leaseOwner FROM executions WHERE id = \(held)")[0]["leaseOwner"] == dispatcher.owner)
            // On its own database (SQLite) the new one is adopted at once; shared, the key's order holds.
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"]! } == (shared ? ["held", "mine"] : ["mine", "held"]))
        }
    }

    @Test func aSyncExecutionIsLeasedToThisProcess_soNoClaimTakesIt() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"now","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"hi"}}]}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=now", body: #"{"title":"x"}"#)
            #expect(response.status == 200)
            let row = try app.rows("SELECT status, leaseOwner FROM executions")
            #expect(row.count == 1 && row[0]["status"] == "1")
            #expect(row[0]["leaseOwner"] == app.application.workflowRuntime.dispatcher.owner)
        }
    }

    /// An execution of a storage-only workflow queued while the dispatcher holds nothing runs in
    /// the write that queued it: when the create answers, its execution has ended and its record
    /// is written, and that write was the only one.
    @Test func aLocalExecutionQueuedWhileIdleRunsInTheWriteThatQueuedIt() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"log","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}"}}}]}"#)
            let database = app.application.database
            _ = try client.awaitExecution(try client.fire("log", #"{"title":"warm-up"}"#)[0])
            let before = database.writeStatistics.writes
            let id = try client.fire("log", #"{"title":"in the write"}"#)[0]
            let row = try app.rows("SELECT status, leaseOwner FROM executions WHERE id = \(id)")[0]
            if database.isShared {
                #expect(try client.awaitExecution(id)["statusName"] == "resolved")
                #expect(database.writeStatistics.writes - before == 3, "shared: nothing is adopted, so a claim comes between")
            } else {
                #expect(row["status"] == String(ExecutionStatus.resolved.rawValue), "ended before the answer")
                #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"]! } == ["warm-up", "in the write"])
                #expect(database.writeStatistics.writes - before == 1, "the create and its workflow: one write")
                #expect(row["leaseOwner"] == app.application.workflowRuntime.dispatcher.owner)
                // Written once, already ended, with its job.
                let execution = try client.execution(id)
                #expect(execution["startedAt"]?.stringValue != nil && execution["finishedAt"]?.stringValue != nil, "\(execution)")
                let jobs = try #require(execution["jobs"]?.arrayValue)
                #expect(jobs.count == 1 && jobs[0]["nodeId"] == "c" && jobs[0]["statusName"] == "resolved", "\(jobs)")
                #expect(jobs.first?["result"]?["message"] == "in the write")
            }
        }
    }

    /// `options.deleteExecutionOnStatus`: an execution that ends in a listed status leaves no row
    /// (nor jobs), whether it ran in the write that fired it or later; its node's writes stay.
    @Test func anExecutionEndingInAStatusToDeleteLeavesNoRow() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"log","enabled":true,"options":{"deleteExecutionOnStatus":[1]},"config":{"collection":"posts"},"nodes":[{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}"}}}]}"#)
            for title in ["first", "second"] { _ = try client.fire("log", #"{"title":"\#(title)"}"#) }
            for _ in 0..<200 where try app.count("logs") < 2 { Thread.sleep(forTimeInterval: 0.01) }
            for _ in 0..<200 where try app.count("executions") > 0 { Thread.sleep(forTimeInterval: 0.01) }
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"]! } == ["first", "second"])
            #expect(try app.count("executions") == 0 && app.count("jobs") == 0)
        }
    }

    /// An execution that waits outside the writer (a request node) is inserted leased to the
    /// dispatcher and taken after the commit without a claim: the create and the workflow's two
    /// steps (send, then store the answer) are the only writes.
    @Test func anExecutionThatWaitsIsAdoptedWithoutAClaim() throws {
        let receiver = try WebhookReceiver(statuses: [200])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","body":{"title":"{{$context.data.title}}"}}}]}"#)
            let database = app.application.database
            guard !database.isShared else { return }  // shared: covered above, nothing is adopted
            _ = try client.awaitExecution(try client.fire("hook", #"{"title":"warm-up"}"#)[0])
            let before = database.writeStatistics.writes
            let id = try client.fire("hook", #"{"title":"adopted"}"#)[0]
            #expect(try client.awaitExecution(id)["statusName"] == "resolved")
            #expect(database.writeStatistics.writes - before == 3, "the create, then the two steps: no claim in between")
            #expect(receiver.received.count == 2)
        }
    }

    /// While the dispatcher holds an execution (a request waiting for its answer), a storage-only
    /// one is queued for the dispatcher, not run in the write: it still runs, after the answer.
    @Test func whileTheDispatcherHoldsAnExecutionNoneRunsInAWrite() throws {
        let receiver = try WebhookReceiver(statuses: [200], delay: 1.0)
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)"}}]}"#)
            try client.saveWorkflow(#"{"key":"log","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}"}}}]}"#)
            let database = app.application.database
            let slow = try client.fire("hook", #"{"title":"slow"}"#)[0]
            let deadline = Date().addingTimeInterval(10)
            while receiver.received.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            try #require(receiver.received.count == 1, "the request is out")
            let before = database.writeStatistics.writes
            let log = try client.fire("log", #"{"title":"later"}"#)[0]
            #expect(try client.awaitExecution(log)["statusName"] == "resolved")
            #expect(database.writeStatistics.writes - before == (database.isShared ? 3 : 2), "the create, then the dispatcher's step")
            #expect(try client.awaitExecution(slow)["statusName"] == "resolved")
        }
    }

    /// More executions than one claim takes (1000), of a local key and a key with a request node
    /// (`concurrency` 1) whose executions straddle two claims (ids 521…1000 and 1001…1040): each
    /// key still runs in creation order, one request at a time.
    @Test func fifoPerKeyAndConcurrencyHoldAcrossClaimBatches() throws {
        let receiver = try WebhookReceiver(statuses: [200])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"log","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}"}}}]}"#)
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","body":{"title":"{{$context.data.title}}"}}}]}"#)
            let count = 520
            let body = "[" + (0..<count).map { #"{"title":"\#($0)"}"# }.joined(separator: ",") + "]"
            let ids = try client.fire("log,hook", body)
            try #require(ids.count == 2 * count)
            for id in [ids[count - 1], ids[2 * count - 1]] { #expect(try client.awaitExecution(id, timeout: 60)["statusName"] == "resolved") }
            #expect(try client.listExecutions(#"{"statusName":"resolved"}"#).count == 2 * count)
            let titles = (0..<count).map(String.init)
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"]! } == titles, "log ran in creation order")
            let received = receiver.received
            #expect(received.compactMap { $0.body["title"]?.stringValue } == titles, "hook ran in creation order")
            #expect(receiver.maxInFlight == 1, "one at a time")
        }
    }
}
