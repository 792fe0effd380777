import JSON
import Model
import Storage

/// A seed file's role (spec 07): created with its permissions, or, for an existing role (built-in
/// ones included), the listed permissions are added. `root` cannot be changed.
package struct SeedRole: Sendable {
    package var name: String
    package var title: String?
    package var permissions: JSON

    package static func parse(_ json: JSON) throws -> SeedRole {
        guard let name = json["name"]?.stringValue, Name.isValid(name) else { throw DomainError.invalidName(json["name"]?.stringValue ?? "") }
        let permissions = json["permissions"] ?? [:]
        _ = try RolePermissions.parse(permissions, path: "roles.\(name).permissions")
        return SeedRole(name: name, title: json["title"]?.stringValue, permissions: permissions)
    }

    package func apply(to store: any IdentityStore, now: String) throws {
        guard name != "root" else { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "the role root cannot be changed") }
        let existing = try store.role(named: name)?.permissions
        var merged = existing.flatMap { try? JSON.parse($0) }?.objectValue ?? JSONObject()
        for (collection, actions) in permissions.objectValue ?? JSONObject() {
            var current = merged[collection]?.objectValue ?? JSONObject()
            for (action, grant) in actions.objectValue ?? JSONObject() { current[action] = grant }
            merged[collection] = .object(current)
        }
        try store.saveRole(name: name, title: title, permissions: JSON.object(merged).serialized(), at: now)
    }
}

/// A seed file's user (spec 07): `users:create` fields plus `tokens` — fixed tokens for test
/// harnesses, stored hashed like any other (at least 24 characters; `role` pins one like an API key).
/// `password` is hashed into `passwordHash` before `apply`, off the writer (`hashingPassword`).
package struct SeedUser: Sendable {
    package var username: String
    package var email: String?
    package var nickname: String?
    package var password: String?
    /// The stored form of `password`, computed on the `PasswordHasher`; `apply` only stores it.
    package var passwordHash: String? = nil
    package var roles: [String]
    package var defaultRole: String?
    package var tokens: [(token: String, role: String?)]

    package init(username: String, email: String? = nil, nickname: String? = nil, password: String? = nil, passwordHash: String? = nil, roles: [String], defaultRole: String? = nil, tokens: [(token: String, role: String?)]) {
        self.username = username
        self.email = email
        self.nickname = nickname
        self.password = password
        self.passwordHash = passwordHash
        self.roles = roles
        self.defaultRole = defaultRole
        self.tokens = tokens
    }

    package static func parse(_ json: JSON) throws -> SeedUser {
        guard let username = json["username"]?.stringValue, !username.isEmpty else { throw DomainError.validation("users.username", "a user needs a username") }
        var tokens: [(String, String?)] = []
        for item in json["tokens"]?.arrayValue ?? [] {
            guard let token = item["token"]?.stringValue, token.count >= 24, token.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw DomainError.validation("users.\(username).tokens", "a fixed token has at least 24 printable characters")
            }
            tokens.append((token, item["role"]?.stringValue))
        }
        // Found by schemathesis: non-string roles were dropped silently; they are an error.
        for field in ["email", "nickname", "password", "defaultRole"] where json[field].map({ $0.stringValue == nil && !$0.isNull }) == true {
            throw DomainError.validation("users.\(field)", "\(field) must be a string")
        }
        if let roles = json["roles"], roles.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            throw DomainError.validation("users.roles", "roles must be an array of role names")
        }
        return SeedUser(username: username, email: json["email"]?.stringValue, nickname: json["nickname"]?.stringValue,
                        password: json["password"]?.stringValue, roles: json["roles"]?.arrayValue?.compactMap(\.stringValue) ?? ["member"],
                        defaultRole: json["defaultRole"]?.stringValue, tokens: tokens)
    }

    /// This user with `passwordHash` set from `password` (awaited on the hasher, never in a write).
    package func hashingPassword(_ hasher: PasswordHasher) async throws -> SeedUser {
        guard let password, passwordHash == nil else { return self }
        var user = self
        user.passwordHash = try await PasswordHasher.refusingWhenFull { try await hasher.hash(password) }
        return user
    }

    /// Stores the user (a new one with `passwordHash`; an existing one keeps its password), its roles and tokens.
    package func apply(to store: any IdentityStore, now: String) throws {
        if let existing = try store.userID(named: username) {
            try store.updateUser(id: existing, UserChanges(email: email.map { .some($0) }, nickname: nickname.map { .some($0) }), at: now)
            try finish(existing, store: store, now: now)
        } else {
            try finish(try insert(store, now: now), store: store, now: now)
        }
    }

    /// Stores the user as a new one with its roles and tokens and returns its id; nil (nothing
    /// stored) when its username is taken.
    package func create(in store: any IdentityStore, now: String) throws -> Int64? {
        let userID: Int64
        do {
            userID = try insert(store, now: now)
        } catch let error as StorageError where error.constraint == .unique(table: "users", columns: ["username"]) {
            return nil
        }
        try finish(userID, store: store, now: now)
        return userID
    }

    /// Stores the user row of a new user.
    private func insert(_ store: any IdentityStore, now: String) throws -> Int64 {
        if password != nil && passwordHash == nil {
            // Hashing here would stall the writer; the user existed when the hashes were made.
            throw DomainError(.conflict, code: "CONFLICT", message: "user '\(username)' was removed meanwhile; apply the seed again")
        }
        return try store.insertUser(username: username, email: email, nickname: nickname, passwordHash: passwordHash, at: now)
    }

    /// The roles and tokens of the stored user `userID`.
    private func finish(_ userID: Int64, store: any IdentityStore, now: String) throws {
        try Self.setRoles(roles, defaultRole: defaultRole, ofUser: userID, store: store, field: "users.\(username).roles")
        for (token, role) in tokens {
            guard try store.token(digest: Crypto.tokenDigest(token)) == nil else { continue }
            _ = try Authenticator.issueToken(userID: userID, name: "seed", role: role, expiresAt: nil, store: store, now: now, token: token)
        }
    }

    /// Replaces the roles the user holds by `roles`, `defaultRole` (else the first) its default; an
    /// unknown role is a validation error of `field`.
    package static func setRoles(_ roles: [String], defaultRole: String?, ofUser userID: Int64, store: any IdentityStore, field: String) throws {
        try store.removeRoleHoldings(userID: userID)
        let defaultRole = defaultRole ?? roles.first
        for role in roles {
            guard try store.role(named: role) != nil else { throw DomainError.validation(field, "unknown role '\(role)'") }
            try store.addRoleHolding(userID: userID, role: role, isDefault: role == defaultRole)
        }
    }
}
