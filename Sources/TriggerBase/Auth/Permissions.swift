import JSON
import Storage

/// What a role may do per collection (spec 03): actions `create`, `view`, `update`, `destroy`,
/// each with a scope (`all` or `own`) and optionally the fields it may write. `*` applies to every
/// collection that has no entry of its own.
struct RolePermissions: Sendable, Equatable {
    enum Scope: String, Sendable { case all, own }

    struct Grant: Sendable, Equatable {
        var scope: Scope = .all
        /// nil: every field.
        var fields: Set<String>?
    }

    static let actions = ["create", "view", "update", "destroy"]

    var grants: [String: [String: Grant]] = [:]

    /// The permission action an API action needs (`list` and `get` are `view`).
    static func permissionAction(_ action: String) -> String {
        action == "list" || action == "get" ? "view" : action
    }

    func grant(collection: String, action: String) -> Grant? {
        let needed = Self.permissionAction(action)
        return grants[collection]?[needed] ?? grants["*"]?[needed]
    }

    /// Parses `{"posts": {"create": {"scope": "all", "fields": [...]}, "view": {}}}`.
    static func parse(_ json: JSON, path: String = "permissions") throws(APIError) -> RolePermissions {
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
    static func load(role: String, connection: SQLiteConnection) throws -> RolePermissions? {
        guard let text = try connection.query("SELECT \"permissions\" FROM \"roles\" WHERE \"name\" = ?", [.text(role)]).first?[0].string else {
            return nil
        }
        return try parse((try? JSON.parse(text)) ?? [:])
    }
}

/// The checks made before an action runs: permission, scope, writable fields, nested writes.
struct AccessCheck: Sendable {
    let actor: Actor
    let permissions: RolePermissions
    let hadToken: Bool
    /// The acting user's record without hidden fields (null for anonymous), for workflow contexts;
    /// cached with the rest, and dropped with it whenever users change.
    var user: JSON = .null

    var isRoot: Bool { actor.roleName == "root" }
    var isManager: Bool { actor.roleName == "root" || actor.roleName == "admin" }

    /// 401 EMPTY_TOKEN for a request without token that anonymous may not make; else 403.
    func denied(_ message: String) -> APIError {
        if !hadToken { return APIError(status: 401, code: "EMPTY_TOKEN", message: "this action needs a token") }
        return APIError(status: 403, code: "NO_PERMISSION", message: message)
    }

    /// Management APIs (collections, users, roles, …) are for root and admin only.
    func requireManager() throws(APIError) {
        guard isManager else { throw denied("only root and admin may use this API") }
    }

    /// The grant for `action` on `collection`, or the denial.
    func require(_ action: String, on collection: String) throws(APIError) -> RolePermissions.Grant {
        if isRoot { return RolePermissions.Grant() }
        guard let grant = permissions.grant(collection: collection, action: action) else {
            throw denied("role '\(actor.roleName)' may not \(RolePermissions.permissionAction(action)) '\(collection)'")
        }
        return grant
    }

    /// Checks a create / update body: top-level fields against the grant's list, and every nested
    /// write against the related collection's `create` permission (spec 03).
    func checkWrite(_ body: JSON, collection: String, grant: RolePermissions.Grant, catalogue: Catalogue) throws(APIError) {
        for item in body.arrayValue ?? [body] {
            guard case .object(let values) = item else { continue }
            for (key, value) in values {
                if let fields = grant.fields, !fields.contains(key) {
                    throw APIError(status: 403, code: "FIELD_NOT_ALLOWED", message: "role '\(actor.roleName)' may not write '\(key)'", field: key)
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
