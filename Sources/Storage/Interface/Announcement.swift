/// A change other processes sharing the database must learn of (spec 07: "Scale-out"). A write
/// announces it inside its transaction (`Transaction.announce`); when that commits, every other
/// process's backend calls its announcement observers. On a database no other process shares
/// (SQLite) announcing does nothing.
package enum Announcement: String, Sendable, CaseIterable {
    /// Executions became claimable: queued unclaimed, retried, or their leases given back or lapsed.
    case executionsClaimable = "executions"
    /// Users, roles, role holdings or tokens changed: cached authentication results are stale.
    case identitiesChanged = "identities"
    /// Collection definitions changed.
    case catalogueChanged = "catalogue"
    /// Workflow versions changed.
    case workflowsChanged = "workflows"
}
