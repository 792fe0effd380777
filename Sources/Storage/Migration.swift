/// One numbered schema change (spec 07: "the system tables' DDL … is applied as numbered
/// migrations, recorded in the database"). `sql` may hold several statements but must not
/// manage transactions itself: `StorageBackend.migrate` runs each migration in its own transaction.
public struct Migration: Sendable {
    /// Position in the schema's history; positive and unique.
    public let version: Int
    /// A short human name, recorded next to the version.
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
