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

extension SQLiteConnection {
    /// Runs `action` once the open transaction commits (see `TransactionHooks`). Outside a
    /// transaction it runs at once.
    public func afterCommit(_ action: @escaping () -> Void) {
        guard isInTransaction else { action(); return }
        hooks.commitActions.append(action)
    }

    /// Runs `action` if the changes made from now on in the open transaction are rolled back
    /// (see `TransactionHooks`). Outside a transaction it is ignored.
    public func onRollback(_ action: @escaping () -> Void) {
        guard isInTransaction else { return }
        hooks.rollbackActions.append(action)
    }

    /// The transaction committed: runs the commit actions.
    func transactionDidCommit() {
        for action in hooks.commit() { action() }
    }

    /// The transaction rolled back: undoes everything registered in it.
    func transactionDidRollBack() {
        for action in hooks.rollBack(to: TransactionHooks.Mark(commits: 0, rollbacks: 0)) { action() }
    }

    /// A savepoint begun at `mark` rolled back: undoes what was registered inside it.
    func savepointDidRollBack(to mark: TransactionHooks.Mark) {
        for action in hooks.rollBack(to: mark) { action() }
    }
}
