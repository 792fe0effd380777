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

    static var systemMigrations: [Migration] { PostgresMigrations.all }

    /// Connects the writer and the readers; throws if the server cannot be reached.
    public init(configuration: PostgresConfiguration, logger: Logger? = nil) throws(StorageError) {
        self.configuration = configuration
        self.logger = logger
        let url = configuration.url
        threads = try SessionThreads(
            readerCount: configuration.readerCount, maxBatchSize: configuration.maxBatchSize,
            backgroundDelayMicroseconds: configuration.backgroundDelayMicroseconds, logger: logger,
            openWriter: { () throws(StorageError) in
                try PostgresConnection(url: url, setup: ["SET synchronous_commit TO on"])
            },
            openReader: { () throws(StorageError) in
                try PostgresConnection(url: url, setup: [
                    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                ])
            })
    }

    deinit { close() }
}
