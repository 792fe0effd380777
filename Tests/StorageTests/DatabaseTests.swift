import Foundation
import Synchronization
import Testing
@testable import Storage

@Suite(.timeLimit(.minutes(1)))
struct DatabaseTests {
    /// A database with `item(id, name UNIQUE)`.
    static func makeWithItems(_ configure: (inout SQLiteConfiguration) -> Void = { _ in }) async throws -> SQLiteDatabase {
        let database = try SQLiteDatabase.make(configure)
        try database.migrate([Migration(version: 1, name: "item", sql: "CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT UNIQUE)")])
        return database
    }

    static func names(in database: SQLiteDatabase) async throws -> [String] {
        try await database.read { try $0.query("SELECT name FROM item ORDER BY id").compactMap { $0["name"]?.string } }
    }

    @Test func pragmas_walForeignKeysAndSynchronousFullByDefault() async throws {
        let database = try SQLiteDatabase.make()
        defer { database.close() }
        let writer = try await database.write { connection in
            try ["journal_mode", "foreign_keys", "synchronous"].map { try connection.query("PRAGMA \($0)")[0][0] }
        }
        #expect(writer == ["wal", 1, 2])  // synchronous: 2 = FULL
        let reader = try await database.read { try $0.query("PRAGMA journal_mode")[0][0] }
        #expect(reader == "wal")
    }

    @Test func pragmas_synchronousNormalWhenConfigured() async throws {
        let database = try SQLiteDatabase.make { $0.synchronous = .normal }
        defer { database.close() }
        let synchronous = try await database.write { try $0.query("PRAGMA synchronous")[0][0] }
        #expect(synchronous == 1)  // 1 = NORMAL
    }

    @Test func concurrentWrites_areGroupCommitted() async throws {
        let database = try await Self.makeWithItems()
        defer { database.close() }
        let before = database.writeStatistics
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<64 {
                group.addTask {
                    try await database.write { connection in
                        try connection.run("INSERT INTO item(name) VALUES (?)", [.text("item \(index)")])
                        return connection.lastInsertRowID
                    }
                }
            }
            return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
        }
        #expect(ids.count == 64)
        #expect(try await Self.names(in: database).count == 64)
        let after = database.writeStatistics
        let batches = after.batches - before.batches
        #expect(after.writes - before.writes == 64)
        #expect(batches >= 1 && batches < 64)
    }

    /// No sleep decides the outcome: the hold is far longer than any scheduling delay, and the
    /// request's job is sent once the writer has taken the background one (the queue is empty).
    @Test func backgroundJob_waitsBrieflySoARequestJobSharesItsCommit() async throws {
        let database = try await Self.makeWithItems { $0.backgroundDelayMicroseconds = 30_000_000 }
        defer { database.close() }
        let before = database.writeStatistics
        let background = Mutex<Bool>(false)
        database.write(background: true, { try $0.run("INSERT INTO item(name) VALUES ('background')") }) { _ in
            background.withLock { $0 = true }
        }
        while database.writeBacklog > 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(background.withLock { $0 } == false, "held for a foreground job")
        try await database.write { try $0.run("INSERT INTO item(name) VALUES ('request')") }
        #expect(database.writeStatistics.batches - before.batches == 1, "one commit for both")
        #expect(try await Self.names(in: database) == ["background", "request"])
    }

    @Test func backgroundJob_alone_stillCommitsOnceTheDelayHasPassed() async throws {
        let database = try await Self.makeWithItems { $0.backgroundDelayMicroseconds = 50_000 }
        defer { database.close() }
        let alone = Mutex<Bool>(false)
        database.write(background: true, { try $0.run("INSERT INTO item(name) VALUES ('alone')") }) { _ in alone.withLock { $0 = true } }
        for _ in 0..<400 where !alone.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(25)) }
        #expect(alone.withLock { $0 })
    }

    @Test func failingJob_inABatch_getsItsOwnErrorWhileTheOthersCommit() async throws {
        let database = try await Self.makeWithItems()
        defer { database.close() }
        try await database.write { try $0.run("INSERT INTO item(name) VALUES ('taken')") }
        // Hold the writer so the next four jobs queue up and are taken as one batch.
        let gate = WriterGate()
        gate.hold(database)
        await waitOffPool(gate.started)
        let before = database.writeStatistics
        let outcomes = Outcomes()
        database.write({ try $0.run("INSERT INTO item(name) VALUES ('a')") }, completion: outcomes.record("a"))
        database.write({ try $0.run("INSERT INTO item(name) VALUES ('taken')") }, completion: outcomes.record("duplicate"))
        database.write({ connection -> Int in
            try connection.run("INSERT INTO item(name) VALUES ('thrown')")
            throw JobFailure()
        }, completion: outcomes.record("thrown"))
        database.write({ try $0.run("INSERT INTO item(name) VALUES ('b')") }, completion: outcomes.record("b"))
        gate.open.signal()
        await outcomes.wait(count: 4)

        #expect(outcomes.succeeded("a"))
        #expect(outcomes.succeeded("b"))
        let duplicate = try #require(outcomes.error("duplicate") as? StorageError)
        #expect(duplicate.isUniqueViolation)
        #expect(duplicate.sql == "INSERT INTO item(name) VALUES ('taken')")
        #expect(outcomes.error("thrown") as? JobFailure == JobFailure())
        #expect(try await Self.names(in: database) == ["taken", "a", "b"])
        // The gate's batch, then one batch of the four jobs.
        let after = database.writeStatistics
        #expect(after.batches - before.batches == 2)
        #expect(after.writes - before.writes == 5)
    }

    @Test func batches_holdAtMostMaxBatchSizeJobs() async throws {
        let database = try await Self.makeWithItems { $0.maxBatchSize = 2 }
        defer { database.close() }
        let gate = WriterGate()
        gate.hold(database)
        await waitOffPool(gate.started)
        let before = database.writeStatistics
        let outcomes = Outcomes()
        for index in 0..<5 {
            database.write({ try $0.run("INSERT INTO item(name) VALUES (?)", [.text("n\(index)")]) }, completion: outcomes.record("\(index)"))
        }
        gate.open.signal()
        await outcomes.wait(count: 5)
        let after = database.writeStatistics
        #expect(after.batches - before.batches == 4)  // the gate, then 2 + 2 + 1
        #expect(after.writes - before.writes == 6)
        #expect(try await Self.names(in: database) == ["n0", "n1", "n2", "n3", "n4"])
    }

    @Test func jobThatEndsTheTransaction_failsTheEarlierJobsOfItsBatch() async throws {
        let database = try await Self.makeWithItems()
        defer { database.close() }
        let gate = WriterGate()
        gate.hold(database)
        await waitOffPool(gate.started)
        let outcomes = Outcomes()
        database.write({ try $0.run("INSERT INTO item(name) VALUES ('earlier')") }, completion: outcomes.record("earlier"))
        database.write({ try $0.execute("ROLLBACK") }, completion: outcomes.record("rollback"))
        database.write({ try $0.run("INSERT INTO item(name) VALUES ('later')") }, completion: outcomes.record("later"))
        gate.open.signal()
        await outcomes.wait(count: 3)
        #expect(outcomes.error("earlier") is StorageError)
        #expect(outcomes.error("rollback") is StorageError)
        #expect(outcomes.succeeded("later"))
        #expect(try await Self.names(in: database) == ["later"])
    }

    @Test func reads_doNotWaitForTheWriterAndSeeOnlyCommittedData() async throws {
        let database = try await Self.makeWithItems()
        defer { database.close() }
        try await database.write { try $0.run("INSERT INTO item(name) VALUES ('committed')") }
        let gate = WriterGate()
        let outcomes = Outcomes()
        gate.hold(database, body: { try $0.run("INSERT INTO item(name) VALUES ('in flight')") }, completion: outcomes.record("held"))
        await waitOffPool(gate.started)
        // The writer is inside its transaction, holding the write lock.
        #expect(try await Self.names(in: database) == ["committed"])
        gate.open.signal()
        await outcomes.wait(count: 1)
        #expect(outcomes.succeeded("held"))
        #expect(try await Self.names(in: database) == ["committed", "in flight"])
    }

    @Test func commitObservers_areCalledAfterEachCommit() async throws {
        let database = try await Self.makeWithItems()
        defer { database.close() }
        let commits = Atomic<Int>(0)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        database.addCommitObserver { continuation.yield(commits.add(1, ordering: .relaxed).newValue) }
        try await database.write { try $0.run("INSERT INTO item(name) VALUES ('x')") }
        #expect(commits.load(ordering: .relaxed) == 1)
        // A job that throws still leaves its batch to commit (empty).
        await #expect(throws: JobFailure.self) { try await database.write { _ in throw JobFailure() } }
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == 1)
        #expect(await iterator.next() == 2)
    }

    @Test func close_finishesQueuedWritesThenRefusesEverything() async throws {
        let database = try await Self.makeWithItems()
        let outcomes = Outcomes()
        for index in 0..<20 {
            database.write({ try $0.run("INSERT INTO item(name) VALUES (?)", [.text("n\(index)")]) }, completion: outcomes.record("\(index)"))
        }
        database.close()
        #expect(outcomes.count == 20)
        #expect((0..<20).allSatisfy { outcomes.succeeded("\($0)") })
        // Every connection is closed, the writer last: it checkpointed and removed the WAL.
        #expect(!FileManager.default.fileExists(atPath: database.configuration.path + "-wal"))
        let reopened = try SQLiteConnection(path: database.configuration.path, mode: .readOnly)
        #expect(try reopened.query("SELECT count(*) FROM item")[0][0] == 20)

        await #expect(throws: StorageError.closed) { try await database.write { _ in 1 } }
        await #expect(throws: StorageError.closed) { try await database.read { _ in 1 } }
        #expect(throws: StorageError.closed) { try database.migrate([]) }
        #expect(throws: StorageError.closed) { try database.backup(to: makeDatabasePath()) }
        database.write({ _ in 1 }, completion: outcomes.record("late"))
        #expect(outcomes.error("late") as? StorageError == .closed)
        database.close()  // again: nothing happens
    }

    @Test func backup_copiesEveryRowIntoASelfContainedFile() async throws {
        let database = try await Self.makeWithItems()
        defer { database.close() }
        try await database.write { connection in
            for index in 0..<100 {
                try connection.run("INSERT INTO item(name) VALUES (?)", [.text("n\(index)")])
            }
        }
        let copyPath = makeDatabasePath()
        try database.backup(to: copyPath)
        let copy = try SQLiteConnection(path: copyPath, mode: .readOnly)
        #expect(try copy.query("SELECT name FROM item ORDER BY id").map { $0[0] } == (0..<100).map { .text("n\($0)") })
        #expect(try copy.query("SELECT version FROM _migrations")[0][0] == 1)
        #expect(try copy.query("PRAGMA journal_mode")[0][0] == "delete")
    }

    @Test func invalidConfiguration_isRefused() {
        #expect(throws: StorageError.self) { try SQLiteDatabase.make { $0.readerCount = 0 } }
        #expect(throws: StorageError.self) { try SQLiteDatabase.make { $0.maxBatchSize = 0 } }
    }

    @Test func unwritableLocation_isReadOnly() {
        let error = #expect(throws: StorageError.self) {
            try SQLiteDatabase.make { $0.path = "/proc/triggerbase-test/db.sqlite" }
        }
        #expect(error?.isReadOnly == true)
    }
}
