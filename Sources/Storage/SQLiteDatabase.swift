import Logging

/// The SQLite backend, the embedded default: one writer connection with group commit and a pool
/// of read-only connections, each on its own thread (spec 07: Storage; ARCHITECTURE: "one place
/// where durability and ordering are decided").
///
/// - Writes are queued to the single writer, which commits many writes in one `BEGIN IMMEDIATE`
///   transaction, a savepoint each, and answers each caller with its own result or error after
///   the commit (so, with `synchronous = FULL`, once it is on disk).
/// - Reads run on read-only connections in WAL mode: they see the last committed state and never
///   wait for the writer.
public final class SQLiteDatabase: ThreadedBackend {
    public let configuration: SQLiteConfiguration
    let logger: Logger?
    let threads: SessionThreads<SQLiteConnection>

    static var systemMigrations: [Migration] { SystemMigrations.all }

    /// Opens the writer connection (WAL, `foreign_keys = ON`, the configured `synchronous` and
    /// busy timeout) on its thread, then the read-only connections on theirs.
    public init(configuration: SQLiteConfiguration, logger: Logger? = nil) throws(StorageError) {
        self.configuration = configuration
        self.logger = logger
        threads = try SessionThreads(
            readerCount: configuration.readerCount, maxBatchSize: configuration.maxBatchSize,
            backgroundDelayMicroseconds: configuration.backgroundDelayMicroseconds, logger: logger,
            openWriter: { () throws(StorageError) in try Self.openWriter(configuration) },
            openReader: { () throws(StorageError) in
                try SQLiteConnection(path: configuration.path, mode: .readOnly,
                                     busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
            })
    }

    deinit { close() }

    /// One writer at a time: a SQLite database is this process's alone.
    package var isShared: Bool { false }

    /// No other process announces anything here.
    package func addAnnouncementObserver(_ observer: @escaping @Sendable (Announcement) -> Void) {}

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
