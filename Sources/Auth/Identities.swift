import Foundation
import JSON
import Model
import Storage

/// A user as the API shows it: its row (never the password) and the roles it holds.
package struct UserProfile: Sendable, Equatable {
    package var user: UserRow
    /// In role-name order.
    package var roles: [RoleHolding]

    package var defaultRole: String? { roles.first { $0.isDefault }?.roleName }

    /// The user `id`; 404 when there is none.
    package static func load(_ id: Int64, store: any IdentityStore) throws -> UserProfile {
        guard let user = try store.user(id: id) else { throw DomainError.notFound }
        return UserProfile(user: user, roles: try store.roleHoldings(userID: id))
    }
}

/// The management of users, roles and tokens (spec 03) behind `auth:signOut`, `apiKeys:*`,
/// `users:*`, `roles:*` and the command line, in domain values: who acts, what changes, when.
/// Callers check that the actor may manage (`AccessCheck.requireManager`); `root` itself can
/// never be changed. Each call is one read or one write.
package struct Identities: Sendable {
    package let database: any StorageBackend
    /// Hashes new passwords before the write that stores them (issue 13).
    package let hasher: PasswordHasher

    package init(database: any StorageBackend, hasher: PasswordHasher) {
        self.database = database
        self.hasher = hasher
    }

    // MARK: Tokens

    /// Revokes the token `tokenID` (sign-out).
    package func revokeToken(_ tokenID: Int64) async throws {
        try await database.write { connection in try connection.identities.revokeToken(id: tokenID, at: Timestamp.now()) }
    }

    /// A new API key of `userID` pinned to `role`, which the user must hold; its token is returned once.
    package func createAPIKey(userID: Int64, role: String, name: String, expiresAt: String?) async throws -> (key: TokenRow, token: String) {
        try await database.write { connection in
            let store = connection.identities
            guard try store.holds(userID: userID, role: role) else {
                throw DomainError(.forbidden, code: "NO_PERMISSION", message: "you do not hold the role '\(role)'")
            }
            let key = try Authenticator.issueToken(userID: userID, name: name, role: role, expiresAt: expiresAt, store: store)
            return (TokenRow(id: key.id, userID: userID, name: name, role: role, expiresAt: expiresAt, revokedAt: nil), key.token)
        }
    }

    /// The API keys of `userID` that are not revoked.
    package func apiKeys(userID: Int64) async throws -> [TokenRow] {
        try await database.read { connection in try connection.identities.apiKeys(userID: userID) }
    }

    /// Revokes the API key `id` of `userID` (of anyone's when `anyUser`); 404 when there is no
    /// such key not revoked yet. The number of keys revoked.
    package func revokeAPIKey(_ id: Int64, userID: Int64, anyUser: Bool) async throws -> Int {
        let count = try await database.write { connection in
            try connection.identities.revokeAPIKey(id: id, holder: anyUser ? nil : userID, at: Timestamp.now())
        }
        guard count > 0 else { throw DomainError.notFound }
        return count
    }

    /// A new token for the user called `username`, pinned to `role` (which the user must hold) if given.
    package func issueToken(username: String, role: String?, name: String, expiresAt: String?) async throws -> String {
        try await database.write { connection in
            let store = connection.identities
            guard let userID = try store.userID(named: username) else {
                throw DomainError(.notFound, code: "NOT_FOUND", message: "no user '\(username)'")
            }
            if let role, try !store.holds(userID: userID, role: role) {
                throw DomainError(.forbidden, code: "NO_PERMISSION", message: "user '\(username)' does not hold the role '\(role)'")
            }
            return try Authenticator.issueToken(userID: userID, name: name, role: role, expiresAt: expiresAt, store: store).token
        }
    }

    // MARK: Users

    package func users() async throws -> [UserProfile] {
        try await database.read { connection in
            let store = connection.identities
            return try store.users().map { UserProfile(user: $0, roles: try store.roleHoldings(userID: $0.id)) }
        }
    }

    /// The user `id`; 404 when there is none.
    package func user(_ id: Int64) async throws -> UserProfile {
        try await database.read { connection in try UserProfile.load(id, store: connection.identities) }
    }

    /// Stores `user` as a new user with its roles (its password hashed first); nil, and nothing
    /// stored, when its username is taken.
    package func createUser(_ user: SeedUser) async throws -> UserProfile? {
        let hashed = try await user.hashingPassword(hasher)
        return try await database.write { connection in
            let store = connection.identities
            return try hashed.create(in: store, now: Timestamp.now()).map { try UserProfile.load($0, store: store) }
        }
    }

    /// What an update changes: the email and nickname as given (nil: unchanged), a new password,
    /// and the roles the user holds from now on (nil: unchanged).
    package struct UserUpdate: Sendable {
        package var email: String??
        package var nickname: String??
        package var password: String?
        package var roles: [String]?
        /// The default among `roles` (nil: the first).
        package var defaultRole: String?

        package init(email: String??, nickname: String??, password: String?, roles: [String]?, defaultRole: String?) {
            self.email = email
            self.nickname = nickname
            self.password = password
            self.roles = roles
            self.defaultRole = defaultRole
        }
    }

    /// Changes the user `id` (a new password is hashed first); 404 when there is none.
    package func updateUser(_ id: Int64, _ update: UserUpdate) async throws -> UserProfile {
        var passwordHash: String?
        if let password = update.password { passwordHash = try await PasswordHasher.refusingWhenFull { try await hasher.hash(password) } }
        return try await database.write { [passwordHash] connection in
            let store = connection.identities
            guard try store.user(id: id) != nil else { throw DomainError.notFound }
            try store.updateUser(id: id, UserChanges(email: update.email, nickname: update.nickname, passwordHash: passwordHash), at: Timestamp.now())
            if let roles = update.roles {
                try SeedUser.setRoles(roles, defaultRole: update.defaultRole, ofUser: id, store: store, field: "roles")
            }
            return try UserProfile.load(id, store: store)
        }
    }

    /// Deletes the user `id` (never one holding `root`); its tokens stay and answer NOT_EXIST_USER
    /// (spec 03). 404 when there is none.
    package func deleteUser(_ id: Int64) async throws -> Int {
        let count = try await database.write { connection in
            let store = connection.identities
            if try store.holds(userID: id, role: "root") {
                throw DomainError(.forbidden, code: "NO_PERMISSION", message: "the root user cannot be deleted")
            }
            return try store.deleteUser(id: id)
        }
        guard count > 0 else { throw DomainError.notFound }
        return count
    }

    // MARK: Roles

    package func roles() async throws -> [RoleRow] {
        try await database.read { connection in try connection.identities.roles() }
    }

    /// The role `name`; 404 when there is none.
    package func role(_ name: String) async throws -> RoleRow {
        guard let role = try await database.read({ connection in try connection.identities.role(named: name) }) else { throw DomainError.notFound }
        return role
    }

    /// Creates the role `name` (409 `ROLE_EXISTS` if it exists) or, with `creating` false, replaces
    /// an existing role's permissions and, when given, its title (404 if it does not exist).
    /// `root` cannot be changed.
    package func saveRole(_ name: String, title: JSON?, permissions: JSON?, creating: Bool) async throws -> RoleRow {
        guard Name.isValid(name) else { throw DomainError.invalidName(name) }
        if name == "root" { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "the role root cannot be changed") }
        let permissions = permissions ?? [:]
        _ = try RolePermissions.parse(permissions)
        if let title, title.stringValue == nil && !title.isNull { throw DomainError.validation("title", "title must be a string") }
        let text = title?.stringValue
        return try await database.write { connection in
            let store = connection.identities
            let exists = try store.role(named: name) != nil
            if creating && exists { throw DomainError(.conflict, code: "ROLE_EXISTS", message: "role '\(name)' exists") }
            if !creating && !exists { throw DomainError.notFound }
            try store.saveRole(name: name, title: text, permissions: permissions.serialized(), at: Timestamp.now())
            guard let saved = try store.role(named: name) else { throw DomainError.notFound }
            return saved
        }
    }

    /// Deletes the role `name`: never a built-in role (403) nor one a user holds (409 `ROLE_IN_USE`).
    package func deleteRole(_ name: String) async throws {
        try await database.write { connection in
            let store = connection.identities
            guard let role = try store.role(named: name) else { throw DomainError.notFound }
            if role.builtIn { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "built-in roles cannot be deleted") }
            if try store.isRoleHeld(name) {
                throw DomainError(.conflict, code: "ROLE_IN_USE", message: "users still hold the role '\(name)'")
            }
            try store.deleteRole(named: name)
        }
    }
}
