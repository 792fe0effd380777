import Logging

/// The writer thread's loop: group commit (spec 07: Storage), on either backend.
///
/// It takes every queued command (up to `maxBatchSize`), runs the writes in one transaction
/// (`SQLDialect.beginWrite`), each in its own savepoint, commits once and only then hands each
/// caller its own result.
final class WriterLoop<Connection: SQLSession> {
    private let connection: Connection
    private let writer: Writer<Connection>
    /// The commands being worked through; capacity is recycled between batches.
    private var commands: [WriterCommand<Connection>] = []
    /// Writes run in the open transaction, waiting for its `COMMIT`.
    private var pending: [any WriteRequest] = []
    /// Commands that arrived while a background-only batch waited.
    private var joining: [WriterCommand<Connection>] = []
    /// The statement that opens a batch transaction.
    private let begin: String

    init(connection: Connection, writer: Writer<Connection>) {
        self.connection = connection
        self.writer = writer
        begin = connection.dialect.beginWrite
        commands.reserveCapacity(writer.maxBatchSize)
        pending.reserveCapacity(writer.maxBatchSize)
    }

    /// Serves commands until the queue is closed and drained, then closes the connection.
    func run() {
        defer { connection.close() }
        while writer.queue.take(upTo: writer.maxBatchSize, into: &commands) {
            holdBackgroundBatch()
            for command in commands {
                switch command {
                case .write(let request):
                    perform(request)
                case .exclusive(let body):
                    commitPending()
                    body(connection)
                }
            }
            commands.removeAll(keepingCapacity: true)
            commitPending()
        }
    }

    /// A batch of background writes only waits briefly for a foreground write to share its commit.
    private func holdBackgroundBatch() {
        let delay = writer.backgroundDelayMicroseconds
        guard delay > 0, commands.count < writer.maxBatchSize, commands.allSatisfy({
            if case .write(let request) = $0 { return request.isBackground }
            return false
        }) else { return }
        guard writer.queue.waitForElement(timeoutMicroseconds: delay),
              writer.queue.take(upTo: writer.maxBatchSize - commands.count, into: &joining) else { return }
        commands.append(contentsOf: joining)
        joining.removeAll(keepingCapacity: true)
    }

    /// Runs one write in the batch transaction, opening it if needed.
    private func perform(_ request: any WriteRequest) {
        if !connection.isInTransaction {
            do {
                try connection.run(begin)
            } catch {
                request.fail(error)
                return
            }
        }
        request.perform(on: connection)
        if connection.isInTransaction {
            pending.append(request)
            return
        }
        // The transaction ended inside the write. Either the database rolled it back after an error
        // such as SQLITE_FULL or SQLITE_IOERR ("Response To Errors Within A Transaction",
        // sqlite.org/lang_transaction.html) or a lost PostgreSQL connection, taking the earlier
        // writes' changes with it, or the write ran COMMIT / ROLLBACK itself. Either way the earlier writes cannot be reported as committed.
        let error = request.failure ?? StorageError.misuse(
            "a write ended the batch transaction; writes must not run BEGIN, COMMIT or ROLLBACK")
        connection.transactionDidRollBack()
        failPending(error)
        if request.failure != nil { request.complete() } else { request.fail(error) }
    }

    /// Commits the open transaction, then hands every write its result; if `COMMIT` fails, rolls
    /// back and hands every write that error.
    private func commitPending() {
        guard connection.isInTransaction else { return }
        do {
            try connection.run("COMMIT")
        } catch {
            if connection.isInTransaction { _ = try? connection.run("ROLLBACK") }
            connection.transactionDidRollBack()
            writer.logger?.error("write batch failed to commit", [
                "error": .string(String(describing: error)), "writes": .int(pending.count),
            ])
            failPending(error)
            return
        }
        // Published state, counters and observers first: once a caller has its answer, what it
        // committed is visible, the commit is counted and the dispatcher has been woken.
        connection.transactionDidCommit()
        writer.didCommit(writes: pending.count)
        for request in pending {
            request.complete()
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func failPending(_ error: any Error) {
        for request in pending {
            request.fail(error)
        }
        pending.removeAll(keepingCapacity: true)
    }
}
