import Foundation
import Synchronization
import Testing
@testable import Storage

/// `afterCommit` / `onRollback`: in-memory state follows the transaction's outcome.
@Suite(.timeLimit(.minutes(1)))
struct TransactionHooksTests {
    /// What the hooks did, in order.
    final class Journal: Sendable {
        private let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func nestedSavepointThatThrows_undoesOnlyItsOwnActions() throws {
        let connection = try SQLiteConnection.make()
        let journal = Journal()
        try connection.run("BEGIN IMMEDIATE")
        try connection.inSavepoint {
            connection.afterCommit { journal.add("commit outer") }
            connection.onRollback { journal.add("undo outer") }
            _ = try? connection.inSavepoint {
                connection.afterCommit { journal.add("commit inner") }
                connection.onRollback { journal.add("undo inner 1") }
                connection.onRollback { journal.add("undo inner 2") }
                throw JobFailure()
            }
        }
        #expect(journal.all == ["undo inner 2", "undo inner 1"], "newest first, and only the inner savepoint's")
        try connection.run("COMMIT")
        connection.transactionDidCommit()
        #expect(journal.all == ["undo inner 2", "undo inner 1", "commit outer"])
    }

    @Test func outermostSavepoint_commitsItsActionsWhenItIsTheTransaction() throws {
        let connection = try SQLiteConnection.make()
        let journal = Journal()
        try connection.inSavepoint {
            connection.afterCommit { journal.add("commit") }
            connection.onRollback { journal.add("undo") }
        }
        #expect(journal.all == ["commit"])
        connection.afterCommit { journal.add("at once") }
        #expect(journal.all == ["commit", "at once"], "outside a transaction an afterCommit action runs at once")
    }

    /// Registers `commit <name>` and `undo <name>` in the journal.
    static func register(_ name: String, _ journal: Journal, _ connection: any Transaction) {
        connection.afterCommit { journal.add("commit \(name)") }
        connection.onRollback { journal.add("undo \(name)") }
    }

    /// Runs jobs `a` and `b` in one batch (queued behind a held writer) and waits for both answers.
    static func inOneBatch(_ database: SQLiteDatabase, a: @escaping @Sendable (any Transaction) throws -> Void,
                           b: @escaping @Sendable (any Transaction) throws -> Void) async -> Outcomes {
        let gate = WriterGate()
        gate.hold(database)
        await waitOffPool(gate.started)
        let outcomes = Outcomes()
        database.write(a, completion: outcomes.record("a"))
        database.write(b, completion: outcomes.record("b"))
        gate.open.signal()
        await outcomes.wait(count: 2)
        return outcomes
    }

    @Test func jobThatThrows_undoesItsActions_andItsNeighboursStillCommit() async throws {
        let database = try await DatabaseTests.makeWithItems()
        defer { database.close() }
        let journal = Journal()
        let outcomes = await Self.inOneBatch(database, a: { Self.register("a", journal, $0) }, b: { connection in
            Self.register("b", journal, connection)
            throw JobFailure()
        })
        #expect(journal.all == ["undo b", "commit a"])
        #expect(outcomes.succeeded("a"))
    }

    /// A deferred foreign key is checked at `COMMIT`, so the whole batch fails there.
    @Test func batchWhoseCommitFails_undoesEveryJobsActions_andCommitsNone() async throws {
        let database = try SQLiteDatabase.make()
        defer { database.close() }
        try database.migrate([Migration(version: 1, name: "deferred", sql: """
            CREATE TABLE parent(id INTEGER PRIMARY KEY);
            CREATE TABLE child(id INTEGER PRIMARY KEY, parentId INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)
            """)])
        let journal = Journal()
        let outcomes = await Self.inOneBatch(database, a: { Self.register("a", journal, $0) }, b: { connection in
            try connection.run("INSERT INTO child(parentId) VALUES (42)")
            Self.register("b", journal, connection)
        })
        #expect(outcomes.error("a") != nil && outcomes.error("b") != nil, "the batch did not commit")
        #expect(journal.all == ["undo b", "undo a"])
        // The next batch starts clean: its actions alone run.
        try await database.write { connection in connection.afterCommit { journal.add("commit c") } }
        #expect(journal.all == ["undo b", "undo a", "commit c"])
    }
}
