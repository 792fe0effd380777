import Dispatch
import Logging
import Synchronization

/// The SQLite backend: one writer thread with group commit and a pool of read-only connections,
/// each on its own thread (spec 07: Storage; ARCHITECTURE: "one place where durability and ordering
/// are decided").
///
/// - Writes are queued to the single writer, which commits many writes in one transaction, a
///   savepoint each, and answers each caller with its own result or error after the commit.
/// - Reads run on read-only connections in WAL mode: they see the last committed state and never
///   wait for the writer.
/// - No SQLite call runs on the caller's thread or the Swift cooperative pool; async callers are
///   resumed by the owning thread.
public final class SQLiteDatabase: StorageBackend {
    public let configuration: SQLiteConfiguration
    let logger: Logger?
    let writer: Writer
    let writerThread: ConnectionThread
    let readQueue: BlockingQueue<ReadRequest>
    let readerThreads: [ConnectionThread]
    private let isClosed = Atomic<Bool>(false)

    /// Opens the writer connection (WAL, `foreign_keys = ON`, the configured `synchronous` and
    /// busy timeout) on its thread, then the read-only connections on theirs.
    public init(configuration: SQLiteConfiguration, logger: Logger? = nil) throws(StorageError) {
        guard configuration.readerCount >= 1, configuration.maxBatchSize >= 1 else {
            throw .misuse("readerCount and maxBatchSize must be at least 1")
        }
        let writer = Writer(maxBatchSize: configuration.maxBatchSize,
                            backgroundDelayMicroseconds: configuration.backgroundDelayMicroseconds, logger: logger)
        let writerThread = try ConnectionThread(
            name: "triggerbase.writer",
            open: { () throws(StorageError) -> WriterLoop in
                WriterLoop(connection: try Self.openWriter(configuration), writer: writer)
            },
            serve: { $0.run() })
        let readQueue = BlockingQueue<ReadRequest>()
        var readerThreads: [ConnectionThread] = []
        do {
            for index in 0..<configuration.readerCount {
                readerThreads.append(try ConnectionThread(
                    name: "triggerbase.reader.\(index)",
                    open: { () throws(StorageError) -> ReaderLoop in
                        let connection = try SQLiteConnection(
                            path: configuration.path, mode: .readOnly,
                            busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
                        return ReaderLoop(connection: connection, queue: readQueue)
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
        self.configuration = configuration
        self.logger = logger
        self.writer = writer
        self.writerThread = writerThread
        self.readQueue = readQueue
        self.readerThreads = readerThreads
    }

    deinit { close() }

    /// Queues `work` for the writer and returns its result once the batch holding it has
    /// committed (so, with `synchronous = FULL`, once it is on disk).
    ///
    /// The write runs on the writer thread inside its own savepoint within the batch transaction:
    /// if it throws, only its changes are rolled back and only its caller gets the error; if the
    /// `COMMIT` fails, every write of the batch gets that error. Writes must be short, must not block
    /// and must not run `BEGIN`, `COMMIT` or `ROLLBACK`. A queued write is not cancelled with its
    /// task. Throws `StorageError.closed` after `close()`.
    @discardableResult
    package func write<T: Sendable>(_ work: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(TypedWriteRequest(work: work, delivery: .continuation(continuation)))
        }
    }

    /// Same as the async `write`, with `completion` called on the writer thread after the commit
    /// (or at once on the caller's thread with `.closed` after `close()`). It must not block.
    ///
    /// A `background` write is one nobody waits on (a workflow step): when a batch holds only such
    /// writes, the writer waits up to `backgroundDelayMicroseconds` for a request's write to join it,
    /// so the two share one commit instead of the request waiting behind the background commit.
    package func write<T: Sendable>(
        background: Bool,
        _ work: @escaping @Sendable (any Transaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        submit(TypedWriteRequest(work: work, delivery: .callback(completion), isBackground: background))
    }

    private func submit(_ request: any WriteRequest) {
        if !writer.queue.enqueue(.write(request)) {
            request.fail(StorageError.closed)
        }
    }

    /// Runs `body` on one of the read-only connections, on its reader thread, inside one read
    /// transaction: every query of `body` sees the same committed snapshot. Readers never wait for
    /// the writer (WAL). Throws `StorageError.closed` after `close()`.
    package func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = readQueue.enqueue { connection in
                continuation.resume(with: Result { try connection.inSavepoint { try body(connection) } })
            }
            if !accepted { continuation.resume(throwing: StorageError.closed) }
        }
    }

    /// Same as `read`, blocking the calling thread until `body` has run: for start-up and the
    /// command line only, never on an event loop or inside a task.
    package func readBlocking<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let accepted = readQueue.enqueue { connection in
            outcome.withLock { $0 = Result { try connection.inSavepoint { try body(connection) } } }
            done.signal()
        }
        guard accepted else { throw StorageError.closed }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Answers once a read-only connection has run a trivial query: the database is there and
    /// readable (the health probe). Throws what the read met.
    package func ping() async throws {
        _ = try await read { try ($0 as! SQLiteConnection).query("SELECT 1") }
    }

    /// Adds `observer`, called on the writer thread after each successful `COMMIT` (e.g. to wake
    /// the dispatcher). It must be quick and must not block.
    package func addCommitObserver(_ observer: @escaping @Sendable () -> Void) {
        writer.addCommitObserver(observer)
    }

    /// Writes queued for the writer and not yet begun: what a caller's new write would wait
    /// behind (for load shedding and `/metrics`).
    package var writeBacklog: Int { writer.queue.count }

    /// Committed batches and the writes in them since opening; `writes / batches` is the average
    /// batch size (spec 07: metrics "write batch sizes").
    package var writeStatistics: (batches: Int, writes: Int) { writer.writeStatistics }

    /// Runs the reads and writes already queued, stops the threads and closes the connections,
    /// waiting for all of it (the readers first, so the writer closes last and checkpoints the
    /// WAL). Later calls to `write`, `read`, `migrate` and `backup` throw `.closed`; closing again
    /// does nothing.
    package func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        readQueue.close()
        for thread in readerThreads { thread.join() }
        writer.queue.close()
        writerThread.join()
    }

    /// The writer connection: WAL (sqlite.org/wal.html), foreign keys, `synchronous`.
    private static func openWriter(_ configuration: SQLiteConfiguration) throws(StorageError) -> SQLiteConnection {
        let connection = try SQLiteConnection(
            path: configuration.path, mode: .readWrite,
            busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
        let journalMode = try connection.query("PRAGMA journal_mode = WAL").first?[0].string
        guard journalMode?.lowercased() == "wal" else {
            throw .misuse("\(configuration.path) cannot use WAL mode (journal_mode is \(journalMode ?? "unknown"))")
        }
        try connection.execute("PRAGMA synchronous = \(configuration.synchronous.rawValue)")
        // Statement journals of the per-write savepoints stay in memory instead of temporary files.
        try connection.execute("PRAGMA temp_store = MEMORY")
        return connection
    }
}
