import JSON
import Storage

/// spec 03: an action granted with scope `own` only ever sees the records its actor created;
/// the others answer 404 as if they did not exist. The one place that rule is written, as a
/// record condition for the store and as a check on a record already read.
package struct OwnScope: Sendable, Equatable {
    /// The actor's user; nil (an actor without a user) owns nothing, so sees nothing.
    package let userID: Int64?

    /// The restriction `grant` puts on `actor`, or nil when the grant's scope is `all`.
    package init?(_ grant: RolePermissions.Grant, actor: Actor) {
        guard grant.scope == .own else { return nil }
        userID = actor.userID
    }

    /// Records whose `createdById` is the actor's (no user: no record).
    package var condition: RecordCondition { .createdBy(userID) }

    /// Whether `record` (with its `createdById`) is one the actor created.
    package func allows(_ record: JSONObject) -> Bool {
        guard let userID else { return false }
        return record["createdById"]?.intValue == userID
    }
}
