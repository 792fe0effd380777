import Auth
import Foundation
import Model

extension Application {
    private var identities: Identities { Identities(database: database, hasher: passwordHasher) }

    /// `triggerbase user create`: adds a user with `roles` (the first is the default).
    public func createUser(name: String, roles: [String], password: String?) throws {
        let user = SeedUser(username: name, email: nil, nickname: nil, password: password, roles: roles, defaultRole: roles.first, tokens: [])
        try runBlocking { [identities] in
            guard try await identities.createUser(user) != nil else {
                throw DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "user '\(name)' already exists", field: "username")
            }
        }
    }

    /// `triggerbase token create`: a new token for `user`, pinned to `role` if given; returned once.
    public func createToken(user: String, role: String?, expires: String?) throws -> String {
        var expiresAt: String?
        if let expires {
            guard let seconds = IdentityService.duration(expires) else {
                throw DomainError.validation("expires", "--expires takes <n>s, <n>m, <n>h or <n>d")
            }
            expiresAt = Timestamp.format(Date(timeIntervalSinceNow: seconds))
        }
        return try runBlocking { [identities, expiresAt] in
            try await identities.issueToken(username: user, role: role, name: "cli", expiresAt: expiresAt)
        }
    }
}
