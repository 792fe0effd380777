/// One transaction as the layers above storage see it: what a write or a read is handed
/// (`Database.write`, `Database.read`). Its stores are the only way to reach the data; none of
/// them takes SQL. The SQLite connection is the one implementation today; a PostgreSQL backend
/// implements the same protocol over its own connection.
public protocol Transaction: AnyObject {
    /// Runs `body` in a nested savepoint: if it throws, only its changes are undone.
    func inSavepoint<T>(_ body: () throws -> T) throws -> T
    /// Runs `action` once the transaction holding this work has committed (never if it rolls back).
    func afterCommit(_ action: @escaping () -> Void)
    /// Runs `action` if the work of the current write is rolled back, by its own failure or its batch's.
    func onRollback(_ action: @escaping () -> Void)
}

extension SQLiteConnection: Transaction {}
