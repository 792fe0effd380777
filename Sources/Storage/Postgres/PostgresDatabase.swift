import Logging

/// How `PostgresDatabase` opens and runs its connections.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection URI (`postgres://user:password@host:port/database?…`) or keyword string.
    public var url: String
    /// Read connections, each on its own thread; at least 1. Default 4.
    public var readerCount: Int = 4
    /// Most writes committed in one transaction; at least 1. Default 512.
    public var maxBatchSize: Int = 512
    /// How long the writer holds a batch made only of background writes so that a request's write
    /// arriving meanwhile shares its commit; 0 disables it. Default 2000.
    public var backgroundDelayMicroseconds: Int = 2000

    public init(url: String) {
        self.url = url
    }

    /// Whether `location` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgresURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }
}

/// The PostgreSQL backend (spec 07: "Scale-out"): the same writer with group commit as SQLite's,
/// over one libpq connection per thread, so several TriggerBase processes can share one database.
///
/// - The writer commits many writes in one transaction (READ COMMITTED), a savepoint each, with
///   `synchronous_commit = on`: a caller's answer comes after PostgreSQL has flushed the commit.
/// - Reads run in `REPEATABLE READ READ ONLY` transactions, so every query of one read sees one
///   snapshot, as a SQLite read transaction does.
public final class PostgresDatabase: ThreadedBackend {
    public let configuration: PostgresConfiguration
    let logger: Logger?
    let threads: SessionThreads<PostgresConnection>
    private let listener: PostgresListener

    static var systemMigrations: [Migration] { PostgresMigrations.all }

    /// Connects the writer, the readers and the listener; throws if the server cannot be reached.
    public init(configuration: PostgresConfiguration, logger: Logger? = nil) throws(StorageError) {
        self.configuration = configuration
        self.logger = logger
        let url = configuration.url
        let channel = try Self.announcementChannel(url)
        let listener = PostgresListener(url: url, channel: channel)
        do {
            threads = try SessionThreads(
                readerCount: configuration.readerCount, maxBatchSize: configuration.maxBatchSize,
                backgroundDelayMicroseconds: configuration.backgroundDelayMicroseconds, logger: logger,
                openWriter: { () throws(StorageError) in
                    let writer = try PostgresConnection(url: url, setup: ["SET synchronous_commit TO on"])
                    writer.announcementChannel = channel
                    listener.ignoredPID.store(writer.backendPID, ordering: .relaxed)
                    return writer
                },
                openReader: { () throws(StorageError) in
                    try PostgresConnection(url: url, setup: [
                        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                    ])
                })
        } catch {
            listener.close()
            throw error
        }
        self.listener = listener
    }

    deinit { close() }

    /// Other TriggerBase processes may share the database.
    package var isShared: Bool { true }

    package func addAnnouncementObserver(_ observer: @escaping @Sendable (Announcement) -> Void) {
        listener.addObserver(observer)
    }

    /// Stops the listener, then runs what is queued and closes the connections.
    package func close() {
        listener.close()
        threads.close()
    }

    /// The notification channel of the database and schema `url` names: processes on one database
    /// but different schemas are different TriggerBases.
    private static func announcementChannel(_ url: String) throws(StorageError) -> String {
        let probe = try PostgresConnection(url: url)
        defer { probe.close() }
        let schema = try probe.query("SELECT current_schema()").first?[0].string ?? "public"
        return String("triggerbase." + schema).prefix(63).description
    }
}
