import Foundation
import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import RecordWorkflows
@testable import Storage

/// A migrated database in a temporary directory, for the stores' own tests.
final class StoreFixture: @unchecked Sendable {
    // @unchecked: `database` is Sendable; nothing else changes after init.
    let database: any StorageBackend
    let directory = ServerProcess.temporaryDirectory()

    init() throws {
        database = try TestBackend.open(directory: directory)
        try database.migrate()
    }

    deinit {
        database.close()
        TestBackend.dropDatabase(forDataDirectory: directory)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// `IdentityStore` over SQLite and the identity rules written on it (issue 15, item 2).
@Suite struct IdentityStoreTests {
    let now = "2026-01-02T03:04:05.000Z"

    @Test func aTakenUsernameIsKnownByItsUniqueConstraint_andCreatingStoresNothing() async throws {
        let f = try StoreFixture()
        let outcome = try await f.database.write { [now] c -> (first: Int64?, again: Int64?, users: Int, holdings: Int, email: StorageError.Constraint?) in
            let store = c.identities
            let first = try SeedUser(username: "ann", email: "a@example.com", roles: ["member"], tokens: []).create(in: store, now: now)
            let again = try SeedUser(username: "ann", roles: ["admin"], tokens: []).create(in: store, now: now)
            // Only the username is answered as taken; another unique column stays a storage error.
            var email: StorageError.Constraint?
            do { _ = try SeedUser(username: "bob", email: "a@example.com", roles: [], tokens: []).create(in: store, now: now) } catch let error as StorageError {
                email = error.constraint
            }
            return (first, again, try store.users().count, try store.roleHoldings(userID: first ?? 0).count, email)
        }
        #expect(outcome.first != nil && outcome.again == nil)
        #expect(outcome.users == 1 && outcome.holdings == 1, "the second create changed nothing")
        #expect(outcome.email == .unique(table: "users", columns: ["email"]))
    }

    @Test func usersCreateAndTheCommandLineAnswerATakenUsernameAs409() throws {
        try withTestApp(seed: AuthAPITests.seed) { app in
            let taken = try app.client().request("POST", "/api/users:create", body: #"{"username":"ann"}"#)
            #expect(taken.status == 409 && taken.json["errors"]?[path: ["0", "code"]] == "UNIQUE_VIOLATION")
            #expect(taken.json["errors"]?[path: ["0", "field"]] == "username")
            #expect(throws: DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "user 'ann' already exists", field: "username")) {
                try app.application.createUser(name: "ann", roles: ["member"], password: nil)
            }
        }
    }

    @Test func anAPIKeyIsRevokedOnlyForItsHolderOrAManager_andOnlyOnce() async throws {
        let f = try StoreFixture()
        let counts = try await f.database.write { [now] c -> [Int] in
            let store = c.identities
            let ann = try store.insertUser(username: "ann", email: nil, nickname: nil, passwordHash: nil, at: now)
            let bob = try store.insertUser(username: "bob", email: nil, nickname: nil, passwordHash: nil, at: now)
            let key = try Authenticator.issueToken(userID: ann, name: "k", role: "member", expiresAt: nil, store: store, now: now).id
            let session = try Authenticator.issueToken(userID: ann, name: nil, role: nil, expiresAt: nil, store: store, now: now).id
            return [try store.revokeAPIKey(id: key, holder: bob, at: now), try store.revokeAPIKey(id: session, holder: nil, at: now),
                    try store.apiKeys(userID: ann).count, try store.revokeAPIKey(id: key, holder: ann, at: now),
                    try store.revokeAPIKey(id: key, holder: nil, at: now), try store.apiKeys(userID: ann).count]
        }
        #expect(counts == [0, 0, 1, 1, 0, 0], "not bob's; a session token is no API key; revoked once; then not listed")
    }

    @Test func rootIsCreatedOnceWithOnlyTheRootRole() async throws {
        let f = try StoreFixture()
        let result = try await f.database.write { [now] c -> (String?, String?, [RoleHolding], Actor) in
            let store = c.identities
            let token = try Bootstrap.createRoot(in: store, now: now)
            let again = try Bootstrap.createRoot(in: store, now: now)
            let id = try #require(try store.userID(named: "root"))
            return (token, again, try store.roleHoldings(userID: id),
                    try Authenticator.authenticate(token: token, requestedRole: nil, store: store, now: now))
        }
        #expect(result.0 != nil && result.1 == nil)
        #expect(result.2 == [RoleHolding(roleName: "root", isDefault: true)])
        #expect(result.3.roleName == "root")
    }
}

/// `RecordWorkflowStore` over SQLite and the version rules written on it.
@Suite struct RecordWorkflowStoreTests {
    let now = "2026-01-02T03:04:05.000Z"
    static let definition: JSON = ["id": "d", "states": [["id": "draft", "events": []]]]

    @Test func savesAreMinorVersions_publishingCopiesTheLatestAsTheNextMajor() async throws {
        let f = try StoreFixture()
        let parsed = try RecordWorkflowDefinition.parse(Self.definition, id: "d")
        let result = try await f.database.write { [now] c -> [String] in
            let store = c.recordWorkflows
            var seen: [String] = []
            for _ in 0..<2 {
                seen.append(try RecordWorkflowVersions.save("d", Self.definition, parsed: parsed, claimedVersion: nil, actorID: 7, store: store, now: now)?.version ?? "-")
            }
            seen.append(try RecordWorkflowVersions.save("d", Self.definition, parsed: parsed, claimedVersion: nil, actorID: 7, store: store, now: now,
                                                        skipIdentical: true)?.version ?? "skipped")
            seen.append(try RecordWorkflowVersions.publish("d", claimedVersion: "0.2", store: store, now: now).version)
            seen.append(try store.latestVersion(of: "d", publishedOnly: true)?.version ?? "-")
            seen.append(try store.definitionIDs().joined(separator: ","))
            seen.append(try c.query("SELECT createdById FROM recordWorkflowDefinitions WHERE major = 1")[0][0].int.map(String.init) ?? "null")
            return seen
        }
        #expect(result == ["0.1", "0.2", "skipped", "1.0", "1.0", "d", "7"])
    }

    @Test func aTransitionMovesTheRecord_andTheHistoryReadsBackInOrder() async throws {
        let f = try StoreFixture()
        let result = try await f.database.write { [now] c -> ([String], [RecordWorkflowHistoryEntry]) in
            try c.execute("""
                CREATE TABLE notes (id INTEGER PRIMARY KEY, workflowState TEXT, workflowVersion INTEGER NOT NULL DEFAULT 1,
                                    published INTEGER NOT NULL DEFAULT 0, publishedAt TEXT, updatedAt TEXT, updatedById INTEGER);
                INSERT INTO notes (id, workflowState) VALUES (1, 'draft');
                """)
            let store = c.recordWorkflows
            try store.setState("live", collection: "notes", recordID: 1, at: now, by: 3)
            try store.setPublished(true, collection: "notes", recordID: 1, at: now)
            try store.appendHistory(RecordWorkflowHistoryEntry(collection: "notes", recordID: 1, event: "go", from: "draft", to: "live",
                                                               data: ["why": "ok"], userID: 3, at: now))
            try store.appendHistory(RecordWorkflowHistoryEntry(collection: "notes", recordID: 1, event: "back", from: "live", to: "draft",
                                                               data: [:], userID: nil, at: now))
            let row = try c.query("SELECT workflowState, workflowVersion, published, publishedAt, updatedById FROM notes")[0]
            return (row.values.map { $0.string ?? $0.int.map(String.init) ?? "null" }, try store.history(collection: "notes", recordID: 1))
        }
        #expect(result.0 == ["live", "2", "1", now, "3"])
        #expect(result.1.map(\.event) == ["go", "back"] && result.1.map(\.id) == [1, 2])
        #expect(result.1[0].data == ["why": "ok"] && result.1[1].userID == nil)
    }
}
