import Dispatch
import Logging
import Synchronization

/// The threads of a SQL backend: one writer connection with group commit and a pool of read
/// connections, each opened, used and closed on a thread of its own (STYLE habit 6). Both
/// backends are built on it; what differs is how a connection is opened.
///
/// No database call runs on the caller's thread or the Swift cooperative pool: async callers are
/// resumed by the owning thread.
final class SessionThreads<Connection: SQLSession>: Sendable {
    let writer: Writer<Connection>
    let writerThread: ConnectionThread
    let readQueue: BlockingQueue<ReaderLoop<Connection>.Request>
    let readerThreads: [ConnectionThread]
    private let isClosed = Atomic<Bool>(false)

    /// Opens the writer connection with `openWriter` on its thread, then `readerCount` read
    /// connections with `openReader` on theirs; if one fails, the threads already started are
    /// stopped and the error rethrown.
    init(readerCount: Int, maxBatchSize: Int, backgroundDelayMicroseconds: Int, logger: Logger?,
         openWriter: @escaping @Sendable () throws(StorageError) -> Connection,
         openReader: @escaping @Sendable () throws(StorageError) -> Connection) throws(StorageError) {
        guard readerCount >= 1, maxBatchSize >= 1 else {
            throw .misuse("readerCount and maxBatchSize must be at least 1")
        }
        let writer = Writer<Connection>(maxBatchSize: maxBatchSize, backgroundDelayMicroseconds: backgroundDelayMicroseconds,
                                        logger: logger)
        let writerThread = try ConnectionThread(
            name: "triggerbase.writer",
            open: { () throws(StorageError) -> WriterLoop<Connection> in
                WriterLoop(connection: try openWriter(), writer: writer)
            },
            serve: { $0.run() })
        let readQueue = BlockingQueue<ReaderLoop<Connection>.Request>()
        var readerThreads: [ConnectionThread] = []
        do {
            for index in 0..<readerCount {
                readerThreads.append(try ConnectionThread(
                    name: "triggerbase.reader.\(index)",
                    open: { () throws(StorageError) -> ReaderLoop<Connection> in
                        ReaderLoop(connection: try openReader(), queue: readQueue)
                    },
                    serve: { $0.run() }))
            }
        } catch {
            readQueue.close()
            for thread in readerThreads { thread.join() }
            writer.queue.close()
            writerThread.join()
            throw error
        }
        self.writer = writer
        self.writerThread = writerThread
        self.readQueue = readQueue
        self.readerThreads = readerThreads
    }

    /// Queues a write; `StorageBackend.write` documents the contract.
    func submit(_ request: any WriteRequest) {
        if !writer.queue.enqueue(.write(request)) {
            request.fail(StorageError.closed)
        }
    }

    /// Runs `body` on a read connection inside one read transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = readQueue.enqueue { connection in
                continuation.resume(with: Result { try connection.inSavepoint { try body(connection) } })
            }
            if !accepted { continuation.resume(throwing: StorageError.closed) }
        }
    }

    /// Runs `body` on a read connection, outside any transaction, blocking the caller until done.
    func onReader<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) throws -> T {
        guard !readerThreads.contains(where: \.isCurrent) else { throw StorageError.misuse("a read cannot wait for another read") }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let accepted = readQueue.enqueue { connection in
            outcome.withLock { $0 = Result { try body(connection) } }
            done.signal()
        }
        guard accepted else { throw StorageError.closed }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Runs `body` on the writer connection between batches (no transaction open), blocking the
    /// caller until done: migrations.
    func onWriter(_ body: @escaping @Sendable (Connection) throws(StorageError) -> Void) throws(StorageError) {
        guard !writerThread.isCurrent else { throw .misuse("the writer cannot wait for itself") }
        let outcome = Handoff<StorageError?>()
        let accepted = writer.queue.enqueue(.exclusive { connection in
            do throws(StorageError) {
                try body(connection)
                outcome.put(nil)
            } catch {
                outcome.put(error)
            }
        })
        guard accepted else { throw .closed }
        if let error = outcome.wait() { throw error }
    }

    /// Runs what is queued, stops the threads and closes the connections, readers first.
    func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        readQueue.close()
        for thread in readerThreads { thread.join() }
        writer.queue.close()
        writerThread.join()
    }
}

/// A backend built on `SessionThreads`: everything of `StorageBackend` but opening and migrations.
protocol ThreadedBackend: StorageBackend {
    associatedtype Connection: SQLSession
    var threads: SessionThreads<Connection> { get }
    /// The system migrations in this backend's dialect.
    static var systemMigrations: [Migration] { get }
    var logger: Logger? { get }
}

extension ThreadedBackend {
    @discardableResult
    package func write<T: Sendable>(_ work: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threads.submit(TypedWriteRequest(work: work, delivery: .continuation(continuation)))
        }
    }

    package func write<T: Sendable>(
        background: Bool,
        _ work: @escaping @Sendable (any Transaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        threads.submit(TypedWriteRequest(work: work, delivery: .callback(completion), isBackground: background))
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await threads.read(body)
    }

    package func readBlocking<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) throws -> T {
        try threads.onReader { connection in try connection.inSavepoint { try body(connection) } }
    }

    package func ping() async throws {
        _ = try await threads.read { transaction in try (transaction as! Connection).query("SELECT 1") }
    }

    package func migrate() throws(StorageError) {
        try migrate(Self.systemMigrations)
    }

    /// Applies the `migrations` not yet recorded in `_migrations`, in version order, each in its
    /// own transaction together with its record (spec 07: numbered migrations, recorded in the
    /// database), on the writer between batches. Blocks the caller until done: call it at start-up.
    ///
    /// Throws `.databaseNewerThanBinary` when the database records a version above the highest
    /// in `migrations` (spec 07: "a newer database than the binary refuses to start").
    package func migrate(_ migrations: [Migration]) throws(StorageError) {
        let logger = self.logger
        try threads.onWriter { connection throws(StorageError) in
            try MigrationRunner(connection: connection, logger: logger).apply(migrations)
        }
    }

    package func addCommitObserver(_ observer: @escaping @Sendable () -> Void) {
        threads.writer.addCommitObserver(observer)
    }

    package var writeBacklog: Int { threads.writer.queue.count }

    package var writeStatistics: (batches: Int, writes: Int) { threads.writer.writeStatistics }

    package func close() { threads.close() }
}
