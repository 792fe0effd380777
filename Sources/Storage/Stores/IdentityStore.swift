/// A user as stored, without its password hash (spec 03).
package struct UserRow: Sendable, Equatable {
    package var id: Int64
    package var username: String
    package var email: String?
    package var nickname: String?
    package var createdAt: String
    package var updatedAt: String

    package init(id: Int64, username: String, email: String?, nickname: String?, createdAt: String, updatedAt: String) {
        self.id = id
        self.username = username
        self.email = email
        self.nickname = nickname
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a sign-in checks a password against: the user and its stored hash (nil: no password).
package struct UserCredential: Sendable, Equatable {
    package var userID: Int64
    package var passwordHash: String?

    package init(userID: Int64, passwordHash: String?) {
        self.userID = userID
        self.passwordHash = passwordHash
    }
}

/// The changes of one user update; a nil field is left as it is. `email` and `nickname` hold
/// `.some(nil)` to clear the field.
package struct UserChanges: Sendable, Equatable {
    package var email: String??
    package var nickname: String??
    package var passwordHash: String?

    package init(email: String?? = nil, nickname: String?? = nil, passwordHash: String? = nil) {
        self.email = email
        self.nickname = nickname
        self.passwordHash = passwordHash
    }
}

/// One role a user holds, and whether it is the user's default role.
package struct RoleHolding: Sendable, Equatable {
    package var roleName: String
    package var isDefault: Bool

    package init(roleName: String, isDefault: Bool) {
        self.roleName = roleName
        self.isDefault = isDefault
    }
}

/// A role as stored: its permissions are the JSON text given (see `RolePermissions`); built-in
/// roles (root, admin, member, anonymous) cannot be deleted.
package struct RoleRow: Sendable, Equatable {
    package var name: String
    package var title: String?
    package var permissions: String
    package var builtIn: Bool

    package init(name: String, title: String?, permissions: String, builtIn: Bool) {
        self.name = name
        self.title = title
        self.permissions = permissions
        self.builtIn = builtIn
    }
}

/// A token as stored: only its digest is known. `role` set makes it an API key pinned to that role.
package struct TokenRow: Sendable, Equatable {
    package var id: Int64
    package var userID: Int64
    package var name: String?
    package var role: String?
    package var expiresAt: String?
    package var revokedAt: String?

    package init(id: Int64, userID: Int64, name: String?, role: String?, expiresAt: String?, revokedAt: String?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.role = role
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// Users, roles, the roles users hold, and tokens (spec 03), inside the caller's transaction.
/// Times are RFC 3339 UTC text (`Timestamp`). Writes that break a uniqueness rule (a username or
/// email taken, a token digest stored twice) throw the `StorageError` whose `constraint` is
/// `.unique(table:columns:)`.
package protocol IdentityStore {
    // MARK: Users

    /// The user `id`, or nil when there is none.
    func user(id: Int64) throws -> UserRow?
    /// Every user, in id order.
    func users() throws -> [UserRow]
    /// The id of the user called `username`, or nil.
    func userID(named username: String) throws -> Int64?
    /// The first user whose username or email is `account`, with its password hash; nil when none.
    func credential(account: String) throws -> UserCredential?
    /// The user `id` with its password hash; nil when the user is gone.
    func credential(userID: Int64) throws -> UserCredential?
    /// Stores a new user and returns its id.
    func insertUser(username: String, email: String?, nickname: String?, passwordHash: String?, at now: String) throws -> Int64
    /// Changes the user `id` (its `updatedAt` becomes `now`).
    func updateUser(id: Int64, _ changes: UserChanges, at now: String) throws
    /// Deletes the user `id` with the roles it holds (its tokens stay); the number of users deleted.
    func deleteUser(id: Int64) throws -> Int

    // MARK: Roles

    /// The role `name`, or nil.
    func role(named name: String) throws -> RoleRow?
    /// Every role, in name order.
    func roles() throws -> [RoleRow]
    /// Creates the role `name`, or for an existing one replaces its permissions and, when `title`
    /// is not nil, its title.
    func saveRole(name: String, title: String?, permissions: String, at now: String) throws
    /// Deletes the role `name`.
    func deleteRole(named name: String) throws
    /// Whether any user holds the role `name`.
    func isRoleHeld(_ name: String) throws -> Bool

    // MARK: Roles users hold

    /// The roles the user holds, in role-name order.
    func roleHoldings(userID: Int64) throws -> [RoleHolding]
    /// Whether the user holds the role `role`.
    func holds(userID: Int64, role: String) throws -> Bool
    /// Makes the user hold the role `role` (it must not hold it yet).
    func addRoleHolding(userID: Int64, role: String, isDefault: Bool) throws
    /// Takes every role from the user.
    func removeRoleHoldings(userID: Int64) throws

    // MARK: Tokens

    /// Stores a token by its digest and returns its id.
    func insertToken(digest: String, userID: Int64, name: String?, role: String?, expiresAt: String?, at now: String) throws -> Int64
    /// The token whose digest is `digest`, revoked and expired ones included; nil when none.
    func token(digest: String) throws -> TokenRow?
    /// Marks the token `id` revoked at `now`.
    func revokeToken(id: Int64, at now: String) throws
    /// The user's API keys (tokens with a role) that are not revoked, in id order.
    func apiKeys(userID: Int64) throws -> [TokenRow]
    /// Revokes the API key `id` if it is not revoked yet and belongs to `holder` (nil: any user);
    /// the number of keys revoked (0 or 1).
    func revokeAPIKey(id: Int64, holder: Int64?, at now: String) throws -> Int
}
