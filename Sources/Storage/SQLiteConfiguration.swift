/// `PRAGMA synchronous` for the writer (sqlite.org/pragma.html#pragma_synchronous). In WAL mode
/// `FULL` syncs the log on every commit, so a commit survives power loss; `NORMAL` may lose the
/// last commits on power loss but never corrupts (spec 07: Storage).
public enum SynchronousMode: String, Sendable {
    case full = "FULL"
    case normal = "NORMAL"
}

/// How `SQLiteDatabase` opens and runs its connections.
public struct SQLiteConfiguration: Sendable {
    /// The database file; its parent directory is created if missing.
    public var path: String
    /// Durability of commits; `.full` by default, so a 2xx answer means the write is on disk.
    public var synchronous: SynchronousMode = .full
    /// Read-only connections, each on its own thread; at least 1. Default 4.
    public var readerCount: Int = 4
    /// How long a connection waits for a lock held by another process before `SQLITE_BUSY`.
    /// Default 5000.
    public var busyTimeoutMilliseconds: Int = 5000
    /// Most writes committed in one transaction; at least 1. Default 512.
    public var maxBatchSize: Int = 512
    /// How long the writer holds a batch made only of background writes (`write(background: true)`)
    /// so that a request's write arriving meanwhile shares its commit; 0 disables it. Default 2000.
    public var backgroundDelayMicroseconds: Int = 2000

    public init(path: String) {
        self.path = path
    }
}
