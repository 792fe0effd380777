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

    package func apply(_ connection: SQLiteConnection) throws {
        guard name != "root" else { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "the role root cannot be changed") }
        let now = Timestamp.now()
        let existing = try connection.query("SELECT \"permissions\" FROM \"roles\" WHERE \"name\" = ?", [.text(name)]).first?[0].string
        var merged = existing.flatMap { try? JSON.parse($0) }?.objectValue ?? JSONObject()
        for (collection, actions) in permissions.objectValue ?? JSONObject() {
            var current = merged[collection]?.objectValue ?? JSONObject()
            for (action, grant) in actions.objectValue ?? JSONObject() { current[action] = grant }
            merged[collection] = .object(current)
        }
        try connection.run("""
            INSERT INTO "roles" ("name", "title", "permissions", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)
            ON CONFLICT("name") DO UPDATE SET "permissions" = excluded."permissions", "title" = coalesce(excluded."title", "roles"."title"), "updatedAt" = excluded."updatedAt"
            """, [.text(name), title.map { .text($0) } ?? .null, .text(JSON.object(merged).serialized()), .text(now), .text(now)])
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

    /// This user with `passwordHash` set from `password` (awaited on the hasher, never in a write job).
    package func hashingPassword(_ hasher: PasswordHasher) async throws -> SeedUser {
        guard let password, passwordHash == nil else { return self }
        var user = self
        user.passwordHash = try await PasswordHasher.refusingWhenFull { try await hasher.hash(password) }
        return user
    }

    /// Stores the user (a new one with `passwordHash`; an existing one keeps its password), its roles and tokens.
    package func apply(_ connection: SQLiteConnection) throws {
        let now = Timestamp.now()
        let userID: Int64
        if let existing = try connection.query("SELECT \"id\" FROM \"users\" WHERE \"username\" = ?", [.text(username)]).first?[0].int64 {
            userID = existing
            try connection.run("UPDATE \"users\" SET \"email\" = coalesce(?, \"email\"), \"nickname\" = coalesce(?, \"nickname\"), \"updatedAt\" = ? WHERE \"id\" = ?",
                               [email.map { .text($0) } ?? .null, nickname.map { .text($0) } ?? .null, .text(now), .integer(userID)])
        } else {
            if password != nil && passwordHash == nil {
                // Hashing here would stall the writer; the user existed when the hashes were made.
                throw DomainError(.conflict, code: "CONFLICT", message: "user '\(username)' was removed meanwhile; apply the seed again")
            }
            try connection.run("""
                INSERT INTO "users" ("createdAt", "updatedAt", "username", "email", "nickname", "password") VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(now), .text(now), .text(username), email.map { .text($0) } ?? .null, nickname.map { .text($0) } ?? .null,
                      passwordHash.map { .text($0) } ?? .null])
            userID = connection.lastInsertRowID
        }
        try connection.run("DELETE FROM \"userRoles\" WHERE \"userId\" = ?", [.integer(userID)])
        let defaultRole = defaultRole ?? roles.first
        for role in roles {
            guard try !connection.query("SELECT 1 FROM \"roles\" WHERE \"name\" = ?", [.text(role)]).isEmpty else {
                throw DomainError.validation("users.\(username).roles", "unknown role '\(role)'")
            }
            try connection.run("INSERT INTO \"userRoles\" (\"userId\", \"roleName\", \"isDefault\") VALUES (?, ?, ?)",
                               [.integer(userID), .text(role), .integer(role == defaultRole ? 1 : 0)])
        }
        for (token, role) in tokens {
            let digest = Crypto.tokenDigest(token)
            guard try connection.query("SELECT 1 FROM \"tokens\" WHERE \"digest\" = ?", [.text(digest)]).isEmpty else { continue }
            _ = try Authenticator.issueToken(userID: userID, name: "seed", role: role, expiresAt: nil, connection: connection, token: token)
        }
    }
}
