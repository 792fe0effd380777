import Auth
import Foundation
import HTTPServer
import JSON
import Model
import Storage

/// `auth:signIn|signOut`, `apiKeys:create|list|destroy`, and the `users` / `roles` management
/// APIs of spec 03, as HTTP: each request is parsed, handed to `PasswordSignIn` or `Identities`,
/// and the answer written in the NocoBase shape. Management needs root or admin.
package struct IdentityService: Sendable {
    package let database: any StorageBackend
    package let failures: SignInFailures
    package let throttle: SignInThrottle
    package let hasher: PasswordHasher
    package let authCache: AuthCache

    private var identities: Identities { Identities(database: database, hasher: hasher) }

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

    private func signIn(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try ResourceService.parseBody(request.body)
        guard let account = body["account"]?.stringValue, let password = body["password"]?.stringValue else {
            throw DomainError.badRequest("signIn takes {\"account\", \"password\"}")
        }
        let session = try await PasswordSignIn(database: database, hasher: hasher, throttle: throttle, failures: failures)
            .signIn(account: account, password: password, address: request.remoteAddress)
        return ResourceService.ok(["token": .string(session.token), "user": Self.json(session.user)])
    }


    private func signOut(_ access: AccessCheck) async throws -> HTTPResponse {
        guard let tokenID = access.actor.tokenID else { throw access.denied("signing out needs a token") }
        try await identities.revokeToken(tokenID)
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
        let created = try await identities.createAPIKey(userID: userID, role: role, name: name, expiresAt: expiresAt)
        return ResourceService.ok(["id": .int(created.key.id), "name": .string(name), "role": .string(role),
                                   "expiresAt": expiresAt.map { .string($0) } ?? .null, "token": .string(created.token)])
    }

    private func listKeys(_ access: AccessCheck) async throws -> HTTPResponse {
        guard let userID = access.actor.userID else { throw access.denied("API keys belong to a user") }
        let keys: [JSON] = try await identities.apiKeys(userID: userID).map { key in
            ["id": .int(key.id), "name": key.name.map { .string($0) } ?? .null,
             "role": key.role.map { .string($0) } ?? .null, "expiresAt": key.expiresAt.map { .string($0) } ?? .null]
        }
        return Self.list(keys)
    }

    private func destroyKey(_ id: Int64?, _ access: AccessCheck) async throws -> HTTPResponse {
        guard let id else { throw DomainError.invalidParameter("filterByTk", "the key id is required") }
        guard let userID = access.actor.userID else { throw access.denied("API keys belong to a user") }
        let count = try await identities.revokeAPIKey(id, userID: userID, anyUser: access.isManager)
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

    /// A whole list as one page.
    private static func list(_ items: [JSON]) -> HTTPResponse {
        ResourceService.ok(.array(items), meta: ["count": .int(Int64(items.count)), "page": 1, "pageSize": .int(Int64(max(items.count, 1))), "totalPage": 1])
    }

    // MARK: Users and roles

    /// A user as the API shows it: never the password.
    private static func json(_ profile: UserProfile) -> JSON {
        let user = profile.user
        return ["id": .int(user.id), "username": .string(user.username), "email": user.email.map(JSON.string) ?? .null,
                "nickname": user.nickname.map(JSON.string) ?? .null, "roles": .array(profile.roles.map { .string($0.roleName) }),
                "defaultRole": profile.defaultRole.map(JSON.string) ?? .null,
                "createdAt": .string(user.createdAt), "updatedAt": .string(user.updatedAt)]
    }

    private func users(_ action: String, id: Int64?, request: HTTPRequest, query: QueryParameters) async throws -> HTTPResponse {
        let targetID = try id ?? query.primaryKeys()?.first
        switch action {
        case "list":
            return Self.list(try await identities.users().map(Self.json))
        case "get":
            guard let targetID else { throw DomainError.invalidParameter("filterByTk", "the user id is required") }
            return ResourceService.ok(Self.json(try await identities.user(targetID)))
        case "create":
            let body = try ResourceService.parseBody(request.body)
            var user = try SeedUser.parse(body)
            user.tokens = []
            guard let created = try await identities.createUser(user) else {
                throw DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "username '\(user.username)' is taken", field: "username")
            }
            return ResourceService.ok(Self.json(created))
        case "update":
            let body = try ResourceService.parseBody(request.body)
            guard let targetID else { throw DomainError.invalidParameter("filterByTk", "the user id is required") }
            // Checked like a new user's fields; the username cannot change.
            let checked = try SeedUser.parse(body.objectValue.map { var o = $0; o["username"] = "-"; return .object(o) } ?? body)
            let update = Identities.UserUpdate(email: body["email"].map { $0.stringValue }, nickname: body["nickname"].map { $0.stringValue },
                                               password: checked.password, roles: body["roles"]?.arrayValue != nil ? checked.roles : nil,
                                               defaultRole: checked.defaultRole)
            return ResourceService.ok(Self.json(try await identities.updateUser(targetID, update)))
        case "destroy":
            guard let targetID else { throw DomainError.invalidParameter("filterByTk", "the user id is required") }
            return ResourceService.ok(.int(Int64(try await identities.deleteUser(targetID))))
        default:
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action 'users:\(action)'")
        }
    }

    /// A role as the API shows it.
    private static func json(_ role: RoleRow) -> JSON {
        ["name": .string(role.name), "title": role.title.map(JSON.string) ?? .null, "permissions": (try? JSON.parse(role.permissions)) ?? [:]]
    }

    private func roles(_ action: String, request: HTTPRequest, query: QueryParameters) async throws -> HTTPResponse {
        switch action {
        case "list":
            return Self.list(try await identities.roles().map(Self.json))
        case "get":
            return ResourceService.ok(Self.json(try await identities.role(try Self.roleName(query))))
        case "create", "update":
            let body = try ResourceService.parseBody(request.body)
            let name = action == "create" ? (body["name"]?.stringValue ?? "") : try Self.roleName(query)
            let saved = try await identities.saveRole(name, title: body["title"], permissions: body["permissions"], creating: action == "create")
            return ResourceService.ok(Self.json(saved))
        case "destroy":
            try await identities.deleteRole(try Self.roleName(query))
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
