import Foundation
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// Spec 03's 401 table, in its order, against a migrated database.
struct AuthenticatorTests {
    /// A database with users ann (member default, editor), bob (no roles) and tokens for each case.
    final class Fixture: @unchecked Sendable {
        // @unchecked: `database` is Sendable; `tokens` is written in init only.
        let database: any StorageBackend
        var tokens: [String: String] = [:]
        let directory = ServerProcess.temporaryDirectory()

        init() async throws {
            database = try TestBackend.open(directory: directory)
            try database.migrate()
            tokens = try await database.write { c -> [String: String] in
                try c.execute("""
                    INSERT INTO roles (name, createdAt, updatedAt) VALUES ('editor', 'x', 'x');
                    INSERT INTO users (id, createdAt, updatedAt, username) VALUES (1, 'x', 'x', 'ann'), (2, 'x', 'x', 'bob'), (3, 'x', 'x', 'gone');
                    INSERT INTO userRoles (userId, roleName, isDefault) VALUES (1, 'member', 1), (1, 'editor', 0);
                    """)
                var t: [String: String] = [:]
                t["ann"] = try Authenticator.issueToken(userID: 1, name: nil, role: nil, expiresAt: nil, store: c.identities).token
                t["pinned"] = try Authenticator.issueToken(userID: 1, name: "k", role: "member", expiresAt: nil, store: c.identities).token
                t["expired"] = try Authenticator.issueToken(userID: 1, name: nil, role: nil, expiresAt: "2000-01-01T00:00:00.000Z", store: c.identities).token
                let revoked = try Authenticator.issueToken(userID: 1, name: nil, role: nil, expiresAt: nil, store: c.identities)
                try c.run("UPDATE tokens SET revokedAt = 'x' WHERE id = ?", [.integer(revoked.id)])
                t["revoked"] = revoked.token
                t["bob"] = try Authenticator.issueToken(userID: 2, name: nil, role: nil, expiresAt: nil, store: c.identities).token
                t["gone"] = try Authenticator.issueToken(userID: 3, name: nil, role: nil, expiresAt: nil, store: c.identities).token
                try c.run("DELETE FROM users WHERE id = 3")
                return t
            }
        }

        func authenticate(_ token: String?, role: String? = nil) async throws -> Actor {
            try await database.read { c in
                try Authenticator.authenticate(token: token, requestedRole: role, store: c.identities, now: Timestamp.now())
            }
        }

        deinit {
            database.close()
            TestBackend.dropDatabase(forDataDirectory: directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func code(_ body: () async throws -> Actor) async -> String? {
        do { _ = try await body(); return nil } catch let error as DomainError { return error.status == 401 ? error.code : "status \(error.status)" } catch { return "\(error)" }
    }

    @Test func everyRowOfThe401Table() async throws {
        let f = try await Fixture()
        #expect(await code { try await f.authenticate("tb_nope") } == "INVALID_TOKEN")
        #expect(await code { try await f.authenticate("has space") } == "INVALID_TOKEN")
        #expect(await code { try await f.authenticate(f.tokens["revoked"]) } == "BLOCKED_TOKEN")
        #expect(await code { try await f.authenticate(f.tokens["expired"]) } == "EXPIRED_SESSION")
        #expect(await code { try await f.authenticate(f.tokens["gone"]) } == "NOT_EXIST_USER")
        #expect(await code { try await f.authenticate(f.tokens["bob"]) } == "USER_HAS_NO_ROLES_ERR")
        #expect(await code { try await f.authenticate(f.tokens["ann"], role: "admin") } == "ROLE_NOT_FOUND_FOR_USER")
    }

    @Test func rolesFollowXRoleDefaultAndPinning() async throws {
        let f = try await Fixture()
        #expect(try await f.authenticate(nil) == .anonymous)
        #expect(try await f.authenticate(f.tokens["ann"]).roleName == "member")
        #expect(try await f.authenticate(f.tokens["ann"], role: "editor").roleName == "editor")
        #expect(try await f.authenticate(f.tokens["ann"], role: "anonymous").roleName == "anonymous")
        #expect(try await f.authenticate(f.tokens["pinned"], role: "editor").roleName == "member", "a pinned key ignores X-Role")
        #expect(try await f.authenticate(f.tokens["ann"]).userID == 1)
    }

    @Test func tokenComesFromBearerThenQuery() {
        #expect(Authenticator.token(authorization: "Bearer abc", queryToken: "q") == "abc")
        #expect(Authenticator.token(authorization: "bearer  abc", queryToken: nil) == "abc")
        #expect(Authenticator.token(authorization: nil, queryToken: "q") == "q")
        #expect(Authenticator.token(authorization: "Basic xyz", queryToken: nil) == "")
        #expect(Authenticator.token(authorization: "  BEARER\tabc ", queryToken: nil) == "", "the scheme ends at a space")
        #expect(Authenticator.token(authorization: "  BeArEr abc\t ", queryToken: nil) == "abc")
        #expect(Authenticator.token(authorization: "Bearer", queryToken: "q") == "", "a scheme alone is a bad token, not none")
        #expect(Authenticator.token(authorization: "Bearer   ", queryToken: nil) == "")
        #expect(Authenticator.token(authorization: "Bearers abc", queryToken: nil) == "")
        #expect(Authenticator.token(authorization: "", queryToken: "q") == nil)
        #expect(Authenticator.token(authorization: nil, queryToken: nil) == nil)
    }

    @Test func tokensAreStoredOnlyAsDigests() async throws {
        let f = try await Fixture()
        let token = try #require(f.tokens["ann"])
        let stored = try await f.database.read { c in try c.query("SELECT digest FROM tokens").compactMap { $0[0].string } }
        #expect(!stored.contains(token))
        #expect(stored.contains(Crypto.tokenDigest(token)))
    }
}
