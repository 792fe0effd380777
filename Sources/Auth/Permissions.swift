import JSON
import Model
import Storage

/// What a role may do per collection (spec 03): actions `create`, `view`, `update`, `destroy`,
/// each with a scope (`all` or `own`) and optionally the fields it may write. `*` applies to every
/// collection that has no entry of its own.
package struct RolePermissions: Sendable, Equatable {
    package enum Scope: String, Sendable { case all, own }

    package struct Grant: Sendable, Equatable {
        package var scope: Scope = .all
        /// nil: every field.
        package var fields: Set<String>?

        package init(scope: Scope = .all, fields: Set<String>? = nil) {
            self.scope = scope
            self.fields = fields
        }
    }

    package static let actions = ["create", "view", "update", "destroy"]

    package var grants: [String: [String: Grant]] = [:]

    package init(grants: [String: [String: Grant]] = [:]) {
        self.grants = grants
    }

    /// The permission action an API action needs (`list` and `get` are `view`).
    package static func permissionAction(_ action: String) -> String {
        action == "list" || action == "get" ? "view" : action
    }

    package func grant(collection: String, action: String) -> Grant? {
        let needed = Self.permissionAction(action)
        return grants[collection]?[needed] ?? grants["*"]?[needed]
    }

    /// Parses `{"posts": {"create": {"scope": "all", "fields": [...]}, "view": {}}}`.
    package static func parse(_ json: JSON, path: String = "permissions") throws(DomainError) -> RolePermissions {
        guard case .object(let object) = json else { throw .validation(path, "permissions must be an object") }
        var result = RolePermissions()
        for (collection, actions) in object {
            guard collection == "*" || Name.isValid(collection) else { throw .invalidName(collection) }
            guard case .object(let actionObject) = actions else { throw .validation("\(path).\(collection)", "must be an object") }
            for (action, grantJSON) in actionObject {
                guard Self.actions.contains(action) else { throw .validation("\(path).\(collection).\(action)", "unknown action '\(action)'") }
                guard case .object(let grantObject) = grantJSON else { throw .validation("\(path).\(collection).\(action)", "must be an object") }
                var grant = Grant()
                if let scope = grantObject["scope"] {
                    guard let text = scope.stringValue, let parsed = Scope(rawValue: text) else {
                        throw .validation("\(path).\(collection).\(action).scope", "scope is 'all' or 'own'")
                    }
                    grant.scope = parsed
                }
                if let fields = grantObject["fields"] {
                    guard let list = fields.arrayValue?.compactMap(\.stringValue), list.count == fields.arrayValue?.count else {
                        throw .validation("\(path).\(collection).\(action).fields", "fields is an array of names")
                    }
                    grant.fields = Set(list)
                }
                result.grants[collection, default: [:]][action] = grant
            }
        }
        return result
    }

    /// Loads a role's permissions; nil when the role does not exist.
    package static func load(role: String, store: any IdentityStore) throws -> RolePermissions? {
        guard let stored = try store.role(named: role) else { return nil }
        return try parse((try? JSON.parse(stored.permissions)) ?? [:])
    }
}

/// The checks made before an action runs: permission, scope, writable fields, nested writes.
package struct AccessCheck: Sendable {
    package let actor: Actor
    package let permissions: RolePermissions
    package let hadToken: Bool
    /// The acting user's record without hidden fields (null for anonymous), for workflow contexts;
    /// cached with the rest, and dropped with it whenever users change.
    package var user: JSON = .null

    package init(actor: Actor, permissions: RolePermissions, hadToken: Bool, user: JSON = .null) {
        self.actor = actor
        self.permissions = permissions
        self.hadToken = hadToken
        self.user = user
    }

    package var isRoot: Bool { actor.roleName == "root" }
    package var isManager: Bool { actor.roleName == "root" || actor.roleName == "admin" }

    /// 401 EMPTY_TOKEN for a request without token that anonymous may not make; else 403.
    package func denied(_ message: String) -> DomainError {
        if !hadToken { return DomainError(.unauthenticated, code: "EMPTY_TOKEN", message: "this action needs a token") }
        return DomainError(.forbidden, code: "NO_PERMISSION", message: message)
    }

    /// Management APIs (collections, users, roles, …) are for root and admin only.
    package func requireManager() throws(DomainError) {
        guard isManager else { throw denied("only root and admin may use this API") }
    }

    /// The grant for `action` on `collection`, or the denial.
    package func require(_ action: String, on collection: String) throws(DomainError) -> RolePermissions.Grant {
        if isRoot { return RolePermissions.Grant() }
        guard let grant = permissions.grant(collection: collection, action: action) else {
            throw denied("role '\(actor.roleName)' may not \(RolePermissions.permissionAction(action)) '\(collection)'")
        }
        return grant
    }

    /// Checks a create / update body: top-level fields against the grant's list, and every nested
    /// write against the related collection's `create` permission (spec 03).
    package func checkWrite(_ body: JSON, collection: String, grant: RolePermissions.Grant, catalogue: Catalogue) throws(DomainError) {
        for item in body.arrayValue ?? [body] {
            guard case .object(let values) = item else { continue }
            for (key, value) in values {
                if let fields = grant.fields, !fields.contains(key) {
                    throw DomainError(.forbidden, code: "FIELD_NOT_ALLOWED", message: "role '\(actor.roleName)' may not write '\(key)'", field: key)
                }
                guard let field = catalogue.collection(collection)?.field(key), field.type.isRelation, let target = field.target else { continue }
                for nested in value.arrayValue ?? [value] {
                    guard case .object(let object) = nested, object["id"] == nil else { continue }
                    let nestedGrant = try require("create", on: target)
                    try checkWrite(nested, collection: target, grant: nestedGrant, catalogue: catalogue)
                }
            }
        }
    }
}
