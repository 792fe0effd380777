import Model

/// One transaction as the layers above storage see it: what a write or a read is handed
/// (`StorageBackend.write`, `StorageBackend.read`). Its stores are the only way to reach the data; none of
/// them takes SQL. SQLite's and PostgreSQL's connections implement it, with the same SQL stores
/// over their own `SQLDialect`.
package protocol Transaction: AnyObject {
    /// The records of `catalogue`'s collections, and the join tables of their relations.
    func records(_ catalogue: Catalogue) -> any RecordStore
    /// Collection definitions and the DDL that creates and alters their tables.
    var schema: any SchemaStore { get }
    /// Users, roles, the roles users hold, and tokens.
    var identities: any IdentityStore { get }
    /// Workflow versions.
    var workflows: any WorkflowStore { get }
    /// Executions, their jobs (a node's result), and the dispatcher's claims.
    var executions: any ExecutionStore { get }
    /// Record-workflow definitions, record states and their history.
    var recordWorkflows: any RecordWorkflowStore { get }

    /// Runs `body` in a nested savepoint: if it throws, only its changes are undone.
    func inSavepoint<T>(_ body: () throws -> T) throws -> T
    /// Runs `action` once the transaction holding this work has committed (never if it rolls back).
    func afterCommit(_ action: @escaping () -> Void)
    /// Runs `action` if the work of the current write is rolled back, by its own failure or its batch's.
    func onRollback(_ action: @escaping () -> Void)
    /// Tells the other processes sharing the database of `change` once this transaction commits
    /// (never if it rolls back); does nothing on a database no other process shares.
    func announce(_ change: Announcement) throws
}
