import Auth
import Foundation
import Model

extension Application {
    /// `triggerbase user create`: adds a user with `roles` (the first is the default).
    public func createUser(name: String, roles: [String], password: String?) throws {
        let user = SeedUser(username: name, email: nil, nickname: nil, password: password, roles: roles, defaultRole: roles.first, tokens: [])
        try runBlocking { [database, passwordHasher] in
            let hashed = try await user.hashingPassword(passwordHasher)
            try await database.write { connection in
                guard try connection.query("SELECT 1 FROM \"users\" WHERE \"username\" = ?", [.text(name)]).isEmpty else {
                    throw DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "user '\(name)' already exists", field: "username")
                }
                try hashed.apply(connection)
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
        return try runBlocking { [database, expiresAt] in
            try await database.write { connection -> String in
                guard let userID = try connection.query("SELECT \"id\" FROM \"users\" WHERE \"username\" = ?", [.text(user)]).first?[0].int64 else {
                    throw DomainError(.notFound, code: "NOT_FOUND", message: "no user '\(user)'")
                }
                if let role, try connection.query("SELECT 1 FROM \"userRoles\" WHERE \"userId\" = ? AND \"roleName\" = ?",
                                                   [.integer(userID), .text(role)]).isEmpty {
                    throw DomainError(.forbidden, code: "NO_PERMISSION", message: "user '\(user)' does not hold the role '\(role)'")
                }
                return try Authenticator.issueToken(userID: userID, name: "cli", role: role, expiresAt: expiresAt, connection: connection).token
            }
        }
    }
}
