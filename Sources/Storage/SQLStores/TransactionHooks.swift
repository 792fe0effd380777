/// Work tied to the outcome of the open transaction, the way GRDB's transaction observers are:
/// in-memory state that mirrors the database (the catalogue, the workflow registry) changes inside
/// a write and must become visible only once that write commits, and must be put back if it does
/// not.
///
/// - `afterCommit` actions run, in registration order, once the transaction commits (for the
///   writer: right after the batch's `COMMIT`, before any caller hears of it and before the next
///   batch begins, so what they publish is exactly the committed state).
/// - `onRollback` actions run, in reverse order, when the changes made since they were registered
///   are undone: the enclosing `inSavepoint` throws, or the whole transaction rolls back (a failed
///   `COMMIT`, or SQLite ending it after `SQLITE_FULL`). Their `afterCommit` actions are dropped.
///
/// Both run on the connection's own thread and must be quick and must not touch the database.
struct TransactionHooks {
    var commitActions: [() -> Void] = []
    var rollbackActions: [() -> Void] = []

    /// How many actions of each kind were registered when a savepoint began.
    struct Mark {
        let commits: Int
        let rollbacks: Int
    }

    var mark: Mark { Mark(commits: commitActions.count, rollbacks: rollbackActions.count) }

    /// Takes the actions registered since `mark` for rolling back (newest first) and forgets them.
    mutating func rollBack(to mark: Mark) -> [() -> Void] {
        let undo = Array(rollbackActions[mark.rollbacks...].reversed())
        rollbackActions.removeSubrange(mark.rollbacks...)
        commitActions.removeSubrange(mark.commits...)
        return undo
    }

    /// Takes every commit action (oldest first) and forgets all actions.
    mutating func commit() -> [() -> Void] {
        defer { self = TransactionHooks() }
        return commitActions
    }
}
