/// The database as the layers above storage hold it: where writes are queued and reads run
/// (spec 07: Storage). `SQLiteDatabase` is the embedded default; `PostgresDatabase` is the one
/// several processes can share.
///
/// An implementation decides durability and ordering in one place: writes are applied by one
/// writer per process, each in its own savepoint, many of them committed in one transaction (group
/// commit), and each caller learns its own result only after the commit. No storage call runs on
/// the caller's thread or the Swift cooperative pool.
package protocol StorageBackend: Sendable {
    /// Queues `work` for the writer and returns its result once the transaction holding it has
    /// committed. If `work` throws, only its own changes are undone and only its caller gets the
    /// error; if the commit fails, every write of the batch gets that error. Writes must be short,
    /// must not block and must not begin or end transactions. Throws `StorageError.closed` after
    /// `close()`.
    @discardableResult
    func write<T: Sendable>(_ work: @escaping @Sendable (any Transaction) throws -> T) async throws -> T

    /// Same as the async `write`, with `completion` called on the writer's thread after the commit
    /// (or at once with `.closed` after `close()`); it must not block. A `background` write is one
    /// nobody waits on (a workflow step): the writer may hold it briefly so that a request's write
    /// shares its commit.
    func write<T: Sendable>(background: Bool, _ work: @escaping @Sendable (any Transaction) throws -> T,
                            completion: @escaping @Sendable (Result<T, any Error>) -> Void)

    /// Runs `body` in one read transaction on a read-only connection: every query of `body` sees
    /// the same committed snapshot, and reads never wait for the writer.
    func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T

    /// Same as `read`, blocking the calling thread until `body` has run: for start-up and the
    /// command line only, never on an event loop or inside a task.
    func readBlocking<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) throws -> T

    /// Applies this backend's system migrations not yet recorded in the database, in order, each
    /// with its record. Blocks until done; call it at start-up. Throws
    /// `.databaseNewerThanBinary` when the database is newer than this binary.
    func migrate() throws(StorageError)

    /// Answers once a read-only connection has run a trivial query (the health probe).
    func ping() async throws

    /// Adds `observer`, called after each successful commit of a write (e.g. to wake the
    /// dispatcher). It must be quick and must not block.
    func addCommitObserver(_ observer: @escaping @Sendable () -> Void)

    /// Whether other processes may write this database at the same time (PostgreSQL). The
    /// dispatcher then never takes over a lease before it lapses and keeps each execution key to
    /// one process at a time; caches listen for announcements.
    var isShared: Bool { get }

    /// Adds `observer`, called when another process announced a change (`Transaction.announce`),
    /// and with every kind of change after the backend may have missed some (its listening
    /// connection was lost). Called on a storage thread; it must be quick and must not block.
    func addAnnouncementObserver(_ observer: @escaping @Sendable (Announcement) -> Void)

    /// Writes queued and not yet begun: what a new write would wait behind (load shedding, metrics).
    var writeBacklog: Int { get }

    /// Committed batches and the writes in them since opening (metrics: write batch sizes).
    var writeStatistics: (batches: Int, writes: Int) { get }

    /// Runs what is already queued, then stops and closes every connection; later calls throw
    /// `.closed`. Closing again does nothing.
    func close()
}

extension StorageBackend {
    /// `write(background: false, work, completion:)`: a write somebody is waiting on.
    package func write<T: Sendable>(_ work: @escaping @Sendable (any Transaction) throws -> T,
                                    completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        write(background: false, work, completion: completion)
    }
}
