import Auth
import Foundation
import HTTPServer
import JSON
import Model
import Storage
import Synchronization

/// `auth:signIn|signOut`, `apiKeys:create|list|destroy`, and the `users` / `roles` management
/// APIs of spec 03. Management needs root or admin; `root` itself can never be changed.
package struct IdentityService: Sendable {
    package let database: Database
    package let failures: SignInFailures
    package let throttle: SignInThrottle
    package let hasher: PasswordHasher
    package let authCache: AuthCache

    package func handle(resource: String, action: String, id: Int64?, request: HTTPRequest, query: QueryParameters,
                access: AccessCheck) async throws -> HTTPResponse {
        let table = APIRoutes.identities.first { $0.resource == resource }?.actions ?? []
        try APIRoutes.check(request.method, action: action, in: table, resource: resource)
        // Any identity change may change who a cached token is or what its role may do.
        defer { if !(resource == "auth" && action == "signIn") && action != "list" && action != "get" { authCache.invalidate() } }
        switch (resource, action) {
        case ("auth", "signIn"): return try await signIn(request)
        case ("auth", "signOut"): return try await signOut(access)
        case ("apiKeys", "create"): return try await createKey(request, access)
        case ("apiKeys", "list"): return try await listKeys(access)
        case ("apiKeys", "destroy"): return try await destroyKey(id ?? query.primaryKeys()?.first, access)
        case ("users", _): try access.requireManager(); return try await users(action, id: id, request: request, query: query)
        case ("roles", _): try access.requireManager(); return try await roles(action, request: request, query: query)
        default: throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action '\(resource):\(action)'")
        }
    }

    // MARK: Sign-in

    /// Spec 03 and issue 13: the address budget, the per-account slow-down and the global cap are
    /// checked before any hashing; the user is read on a read connection, the password verified on
    /// the `PasswordHasher` (against a dummy hash for an unknown account, so both failures cost the
    /// same), and only a right password reaches the writer, for a short job that stores the token.
    private func signIn(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try ResourceService.parseBody(request.body)
        guard let account = body["account"]?.stringValue, let password = body["password"]?.stringValue else {
            throw DomainError.badRequest("signIn takes {\"account\", \"password\"}")
        }
        try throttle.admit(address: request.remoteAddress)
        // Repeated failures for one account are slowed (spec 03), before a hash slot is taken.
        let delay = failures.delay(for: account)
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        let verified = try await throttle.withHashSlot { () async throws -> (id: Int64, stored: String)? in
            let row = try await database.read { connection in
                try connection.query("SELECT \"id\", \"password\" FROM \"users\" WHERE \"username\" = ? OR \"email\" = ? LIMIT 1",
                                     [.text(account), .text(account)]).first
            }
            let stored = row?["password"]?.string
            let matches = try await PasswordHasher.refusingWhenFull { try await hasher.perform { Crypto.verifyPassword(password, stored: stored ?? Self.dummyHash) } }
            guard matches, let stored, let id = row?["id"]?.int64 else { return nil }
            return (id, stored)
        }
        var result: JSON?
        if let user = verified {
            result = try await database.write { connection -> JSON? in
                // The password may have changed (or the user gone) since it was verified.
                guard try connection.query("SELECT 1 FROM \"users\" WHERE \"id\" = ? AND \"password\" = ?",
                                           [.integer(user.id), .text(user.stored)]).first != nil else { return nil }
                let token = try Authenticator.issueToken(userID: user.id, name: nil, role: nil, expiresAt: nil, connection: connection).token
                return ["token": .string(token), "user": try IdentityService.user(user.id, connection)]
            }
        }
        guard let result else {
            failures.record(account)
            throw DomainError(.unauthenticated, code: "INVALID_CREDENTIALS", message: "the account or password is wrong")
        }
        failures.reset(account)
        return ResourceService.ok(result)
    }

    /// Verified against for an unknown account or a user without password, so those cost one full
    /// hash like a known account (no enumeration by timing). A constant: the hash of 128 random
    /// bits that were thrown away (nothing can match it, and a match would still be refused, as
    /// there is no stored password), so no process start or first sign-in pays to make one.
    package static let dummyHash = "pbkdf2-sha256$\(Crypto.passwordIterations)$2261726bec601627b97f1cbfca79b6dc$c876514329d94ea8f77acd5f362b5406d138a9271773a6c869cc3ec1d9fdfd48"

    private func signOut(_ access: AccessCheck) async throws -> HTTPResponse {
        guard let tokenID = access.actor.tokenID else { throw access.denied("signing out needs a token") }
        try await database.write { connection in
            try connection.run("UPDATE \"tokens\" SET \"revokedAt\" = ? WHERE \"id\" = ?", [.text(Timestamp.now()), .integer(tokenID)])
        }
        return ResourceService.ok(.null)
    }

    // MARK: API keys

    private func createKey(_ request: HTTPRequest, _ access: AccessCheck) async throws -> HTTPResponse {
        guard let userID = access.actor.userID else { throw access.denied("API keys belong to a user") }
        let body = try ResourceService.parseBody(request.body)
        guard let role = body["role"]?.stringValue, Name.isValid(role) else { throw DomainError.validation("role", "an API key needs a role") }
        let name = body["name"]?.stringValue ?? "api key"
        var expiresAt: String?
        if let text = body["expiresIn"]?.stringValue {
            guard let seconds = Self.duration(text) else { throw DomainError.validation("expiresIn", "expiresIn takes <n>s, <n>m, <n>h or <n>d") }
            expiresAt = Timestamp.format(Date(timeIntervalSinceNow: seconds))
        }
        let created = try await database.write { [expiresAt] connection -> JSON in
            let holds = try !connection.query("SELECT 1 FROM \"userRoles\" WHERE \"userId\" = ? AND \"roleName\" = ?",
                                              [.integer(userID), .text(role)]).isEmpty
            guard holds else { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "you do not hold the role '\(role)'") }
            let key = try Authenticator.issueToken(userID: userID, name: name, role: role, expiresAt: expiresAt, connection: connection)
            return ["id": .int(key.id), "name": .string(name), "role": .string(role),
                    "expiresAt": expiresAt.map { .string($0) } ?? .null, "token": .string(key.token)]
        }
        return ResourceService.ok(created)
    }

    private func listKeys(_ access: AccessCheck) async throws -> HTTPResponse {
        guard let userID = access.actor.userID else { throw access.denied("API keys belong to a user") }
        let keys = try await database.read { connection -> [JSON] in
            try connection.query("""
                SELECT "id", "name", "role", "expiresAt" FROM "tokens"
                WHERE "userId" = ? AND "role" IS NOT NULL AND "revokedAt" IS NULL ORDER BY "id"
                """, [.integer(userID)]).map { row in
                ["id": .int(row["id"]?.int64 ?? 0), "name": row["name"]?.string.map { .string($0) } ?? .null,
                 "role": row["role"]?.string.map { .string($0) } ?? .null, "expiresAt": row["expiresAt"]?.string.map { .string($0) } ?? .null]
            }
        }
        return ResourceService.ok(.array(keys), meta: ["count": .int(Int64(keys.count)), "page": 1, "pageSize": .int(Int64(max(keys.count, 1))), "totalPage": 1])
    }

    private func destroyKey(_ id: Int64?, _ access: AccessCheck) async throws -> HTTPResponse {
        guard let id else { throw DomainError.invalidParameter("filterByTk", "the key id is required") }
        guard let userID = access.actor.userID else { throw access.denied("API keys belong to a user") }
        let manager = access.isManager
        let count = try await database.write { connection -> Int in
            try connection.run("""
                UPDATE "tokens" SET "revokedAt" = ? WHERE "id" = ? AND "role" IS NOT NULL AND "revokedAt" IS NULL AND ("userId" = ? OR ?)
                """, [.text(Timestamp.now()), .integer(id), .integer(userID), .integer(manager ? 1 : 0)])
        }
        guard count > 0 else { throw DomainError.notFound }
        return ResourceService.ok(.int(Int64(count)))
    }

    /// `30d`, `12h`, `5m`, `10s` in seconds.
    package static func duration(_ text: String) -> Double? {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0, text.dropLast().allSatisfy(\.isNumber) else { return nil }
        switch unit {
        case "s": return Double(n)
        case "m": return Double(n) * 60
        case "h": return Double(n) * 3600
        case "d": return Double(n) * 86_400
        default: return nil
        }
    }

    // MARK: Users and roles

    /// A user as the API shows it: never the password.
    package static func user(_ id: Int64, _ connection: SQLiteConnection) throws -> JSON {
        guard let row = try connection.query("SELECT \"id\", \"username\", \"email\", \"nickname\", \"createdAt\", \"updatedAt\" FROM \"users\" WHERE \"id\" = ?", [.integer(id)]).first else {
            throw DomainError.notFound
        }
        let roles = try connection.query("SELECT \"roleName\", \"isDefault\" FROM \"userRoles\" WHERE \"userId\" = ? ORDER BY \"roleName\"", [.integer(id)])
        var object: JSONObject = [:]
        for column in ["id", "username", "email", "nickname"] {
            object[column] = RecordCodec.decode(row[column] ?? .null, type: column == "id" ? .integer : .string)
        }
        object["roles"] = .array(roles.compactMap { $0["roleName"]?.string }.map(JSON.string))
        object["defaultRole"] = roles.first { $0["isDefault"]?.int64 == 1 }?["roleName"]?.string.map(JSON.string) ?? .null
        object["createdAt"] = RecordCodec.decode(row["createdAt"] ?? .null, type: .string)
        object["updatedAt"] = RecordCodec.decode(row["updatedAt"] ?? .null, type: .string)
        return .object(object)
    }

    private func users(_ action: String, id: Int64?, request: HTTPRequest, query: QueryParameters) async throws -> HTTPResponse {
        let targetID = try id ?? query.primaryKeys()?.first
        switch action {
        case "list":
            let all = try await database.read { connection in
                try connection.query("SELECT \"id\" FROM \"users\" ORDER BY \"id\"").compactMap { $0[0].int64 }.map { try Self.user($0, connection) }
            }
            return ResourceService.ok(.array(all), meta: ["count": .int(Int64(all.count)), "page": 1, "pageSize": .int(Int64(max(all.count, 1))), "totalPage": 1])
        case "get":
            guard let targetID else { throw DomainError.invalidParameter("filterByTk", "the user id is required") }
            return ResourceService.ok(try await database.read { try Self.user(targetID, $0) })
        case "create", "update":
            let body = try ResourceService.parseBody(request.body)
            if action == "update" && targetID == nil { throw DomainError.invalidParameter("filterByTk", "the user id is required") }
            var seedUser = try SeedUser.parse(action == "create" ? body : (body.objectValue.map { var o = $0; o["username"] = "-"; return .object(o) } ?? body))
            seedUser.tokens = []
            // Hashed here, before the write job, which only stores the hash (issue 13).
            if let password = seedUser.password { seedUser.passwordHash = try await PasswordHasher.refusingWhenFull { try await hasher.hash(password) } }
            let explicitRoles = body["roles"]?.arrayValue != nil
            let result = try await database.write { [seedUser] connection -> JSON in
                if action == "create" {
                    guard try connection.query("SELECT 1 FROM \"users\" WHERE \"username\" = ?", [.text(seedUser.username)]).isEmpty else {
                        throw DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "username '\(seedUser.username)' is taken", field: "username")
                    }
                    try seedUser.apply(connection)
                    let id = try connection.query("SELECT \"id\" FROM \"users\" WHERE \"username\" = ?", [.text(seedUser.username)])[0][0].int64!
                    return try Self.user(id, connection)
                }
                guard let targetID, try !connection.query("SELECT 1 FROM \"users\" WHERE \"id\" = ?", [.integer(targetID)]).isEmpty else {
                    throw DomainError.notFound
                }
                try Self.updateUser(targetID, body: body, passwordHash: seedUser.passwordHash, roles: explicitRoles ? seedUser.roles : nil,
                                    defaultRole: seedUser.defaultRole, connection)
                return try Self.user(targetID, connection)
            }
            return ResourceService.ok(result)
        case "destroy":
            guard let targetID else { throw DomainError.invalidParameter("filterByTk", "the user id is required") }
            let count = try await database.write { connection -> Int in
                if try connection.query("SELECT 1 FROM \"userRoles\" WHERE \"userId\" = ? AND \"roleName\" = 'root'", [.integer(targetID)]).isEmpty == false {
                    throw DomainError(.forbidden, code: "NO_PERMISSION", message: "the root user cannot be deleted")
                }
                // Token rows stay: they answer NOT_EXIST_USER (spec 03).
                return try connection.run("DELETE FROM \"users\" WHERE \"id\" = ?", [.integer(targetID)])
            }
            guard count > 0 else { throw DomainError.notFound }
            return ResourceService.ok(.int(Int64(count)))
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action 'users:\(action)'")
        }
    }

    private static func updateUser(_ id: Int64, body: JSON, passwordHash: String?, roles: [String]?, defaultRole: String?,
                                   _ connection: SQLiteConnection) throws {
        var sets = ["\"updatedAt\" = ?"]
        var parameters: [SQLiteValue] = [.text(Timestamp.now())]
        for column in ["email", "nickname"] {
            if let value = body[column] { sets.append("\(Name.quoted(column)) = ?"); parameters.append(value.stringValue.map { .text($0) } ?? .null) }
        }
        if let passwordHash { sets.append("\"password\" = ?"); parameters.append(.text(passwordHash)) }
        try connection.run("UPDATE \"users\" SET \(sets.joined(separator: ", ")) WHERE \"id\" = ?", parameters + [.integer(id)])
        if let roles {
            try connection.run("DELETE FROM \"userRoles\" WHERE \"userId\" = ?", [.integer(id)])
            for role in roles {
                guard try !connection.query("SELECT 1 FROM \"roles\" WHERE \"name\" = ?", [.text(role)]).isEmpty else {
                    throw DomainError.validation("roles", "unknown role '\(role)'")
                }
                try connection.run("INSERT INTO \"userRoles\" (\"userId\", \"roleName\", \"isDefault\") VALUES (?, ?, ?)",
                                   [.integer(id), .text(role), .integer(role == (defaultRole ?? roles.first) ? 1 : 0)])
            }
        }
    }

    private func roles(_ action: String, request: HTTPRequest, query: QueryParameters) async throws -> HTTPResponse {
        @Sendable func role(_ row: Row) -> JSON {
            ["name": .string(row["name"]?.string ?? ""), "title": row["title"]?.string.map(JSON.string) ?? .null,
             "permissions": (row["permissions"]?.string).flatMap { try? JSON.parse($0) } ?? [:]]
        }
        let select = "SELECT \"name\", \"title\", \"permissions\" FROM \"roles\""
        switch action {
        case "list":
            let all = try await database.read { try $0.query(select + " ORDER BY \"name\"").map(role) }
            return ResourceService.ok(.array(all), meta: ["count": .int(Int64(all.count)), "page": 1, "pageSize": .int(Int64(max(all.count, 1))), "totalPage": 1])
        case "get":
            let name = try Self.roleName(query)
            guard let found = try await database.read({ try $0.query(select + " WHERE \"name\" = ?", [.text(name)]).first.map(role) }) else {
                throw DomainError.notFound
            }
            return ResourceService.ok(found)
        case "create", "update":
            let body = try ResourceService.parseBody(request.body)
            let name = action == "create" ? (body["name"]?.stringValue ?? "") : try Self.roleName(query)
            guard Name.isValid(name) else { throw DomainError.invalidName(name) }
            if name == "root" { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "the role root cannot be changed") }
            let permissions = body["permissions"] ?? [:]
            _ = try RolePermissions.parse(permissions)
            if let title = body["title"], title.stringValue == nil && !title.isNull { throw DomainError.validation("title", "title must be a string") }
            let title = body["title"]?.stringValue
            let result = try await database.write { connection -> JSON in
                let exists = try !connection.query("SELECT 1 FROM \"roles\" WHERE \"name\" = ?", [.text(name)]).isEmpty
                if action == "create" && exists { throw DomainError(.conflict, code: "ROLE_EXISTS", message: "role '\(name)' exists") }
                if action == "update" && !exists { throw DomainError.notFound }
                let now = Timestamp.now()
                try connection.run("""
                    INSERT INTO "roles" ("name", "title", "permissions", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT("name") DO UPDATE SET "permissions" = excluded."permissions",
                        "title" = coalesce(excluded."title", "roles"."title"), "updatedAt" = excluded."updatedAt"
                    """, [.text(name), title.map { .text($0) } ?? .null, .text(permissions.serialized()), .text(now), .text(now)])
                return role(try connection.query(select + " WHERE \"name\" = ?", [.text(name)])[0])
            }
            return ResourceService.ok(result)
        case "destroy":
            let name = try Self.roleName(query)
            try await database.write { connection in
                guard let row = try connection.query("SELECT \"builtIn\" FROM \"roles\" WHERE \"name\" = ?", [.text(name)]).first else { throw DomainError.notFound }
                if row[0].int64 == 1 { throw DomainError(.forbidden, code: "NO_PERMISSION", message: "built-in roles cannot be deleted") }
                if try !connection.query("SELECT 1 FROM \"userRoles\" WHERE \"roleName\" = ?", [.text(name)]).isEmpty {
                    throw DomainError(.conflict, code: "ROLE_IN_USE", message: "users still hold the role '\(name)'")
                }
                try connection.run("DELETE FROM \"roles\" WHERE \"name\" = ?", [.text(name)])
            }
            return ResourceService.ok(.int(1))
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action 'roles:\(action)'")
        }
    }

    private static func roleName(_ query: QueryParameters) throws(DomainError) -> String {
        guard let name = query["filterByTk"], Name.isValid(name) else { throw .invalidParameter("filterByTk", "the role name is required") }
        return name
    }
}

/// Failed sign-ins per account, to slow repeated guessing: from the 4th failure on, each attempt
/// waits 250 ms more (at most 5 s). Held in memory; a success resets it.
package final class SignInFailures: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    package func delay(for account: String) -> Int {
        let failures = counts.withLock { $0[account] ?? 0 }
        return failures < 3 ? 0 : min(5000, (failures - 2) * 250)
    }

    package func record(_ account: String) {
        counts.withLock { counts in
            if counts.count > 100_000 { counts.removeAll() }
            counts[account, default: 0] += 1
        }
    }

    package func reset(_ account: String) { _ = counts.withLock { $0.removeValue(forKey: account) } }
}

