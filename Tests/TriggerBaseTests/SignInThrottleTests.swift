import Dispatch
import Foundation
import JSON
import Synchronization
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// Issue 13: sign-in abuse is bounded (per-address budget, global cap on hashes) and never holds
/// up writes, because hashing runs on the `PasswordHasher`, not the writer.
@Suite struct SignInThrottleTests {
    // MARK: The per-address budget, with a moved clock

    @Test func anAddressSpendsItsBurst_thenEarnsOneAttemptPerRefill() {
        var budget = AddressBudget(burst: 3, refillSeconds: 2, maxAddresses: 100)
        #expect((0..<3).map { _ in budget.take("10.0.0.1", now: 100) } == [nil, nil, nil])
        #expect(budget.take("10.0.0.1", now: 100) == 2, "Retry-After: seconds to the next attempt")
        #expect(budget.take("10.0.0.2", now: 100) == nil, "another address has its own budget")
        #expect(budget.take("10.0.0.1", now: 101) == 1)
        #expect(budget.take("10.0.0.1", now: 102.5) == nil, "one attempt earned back")
        #expect(budget.take("10.0.0.1", now: 102.5) != nil)
        #expect((0..<3).map { _ in budget.take("10.0.0.1", now: 1000) } == [nil, nil, nil], "refilled up to the burst, no more")
        #expect(budget.take("10.0.0.1", now: 1000) != nil)
    }

    @Test func memoryIsBounded_andASpentAddressIsTheLastForgotten() {
        var budget = AddressBudget(burst: 3, refillSeconds: 60, maxAddresses: 2)
        for _ in 0..<3 { _ = budget.take("spent", now: 0) }
        _ = budget.take("once", now: 0)
        #expect(budget.take("new", now: 0) == nil)
        #expect(budget.trackedAddresses == 2)
        #expect(budget.take("spent", now: 0) != nil, "making room did not give the spent address its burst back")
        for i in 0..<50 { _ = budget.take("visitor-\(i)", now: Double(i)) }
        #expect(budget.trackedAddresses <= 2)
    }

    // MARK: Over HTTP

    static let seed = AuthAPITests.seed
    static let signIn = "/api/auth:signIn"

    static func code(_ r: HTTPTestClient.Response) -> String? { r.json["errors"]?[path: ["0", "code"]]?.stringValue }
    func code(_ r: HTTPTestClient.Response) -> String? { Self.code(r) }

    @Test func oneAddressBeyondItsBudgetIs429WithRetryAfter_evenWithTheRightPassword() throws {
        try withTestApp(seed: Self.seed, application: { $0.signIn.perAddressBurst = 3; $0.signIn.perAddressRefillSeconds = 3600 }) { app in
            let client = try app.anonymousClient()
            for n in 0..<3 {
                let r = try client.request("POST", Self.signIn, body: #"{"account":"ghost-\#(n)","password":"x"}"#)
                #expect(r.status == 401 && code(r) == "INVALID_CREDENTIALS")
            }
            let refused = try client.request("POST", Self.signIn, body: #"{"account":"ann","password":"secret-ann"}"#)
            #expect(refused.status == 429 && code(refused) == "TOO_MANY_REQUESTS")
            #expect((3500...3600).contains(Int(refused.headers["retry-after"] ?? "") ?? 0), "about an hour to the next attempt")
            // Forwarding headers are the client's word: they do not buy a new budget.
            let forwarded = try client.request("POST", Self.signIn, body: #"{"account":"ann","password":"secret-ann"}"#,
                                               headers: ["X-Forwarded-For": "198.51.100.7"])
            #expect(forwarded.status == 429)
            #expect(try client.request("GET", "/api/posts:list?token=\(AuthAPITests.bob)").status == 200, "only sign-in is budgeted")
            let metrics = try client.request("GET", "/metrics").text
            #expect(metrics.contains(#"triggerbase_signin_refused_total{reason="address"} 2"#))
        }
    }

    /// The issue's acceptance test. Both hashing threads are held (as two slow hashes would hold
    /// them), then several clients flood sign-in with made-up accounts: `maxConcurrentSignIns` of
    /// them are admitted and wait for a hash, the rest are answered 429 at once. While those
    /// sign-ins (and a `users:create`, which hashes too) are still waiting for their hashes, every
    /// `posts:create` answers 200: no write waits behind a hash. Hashing inside a write job could
    /// not pass this: the sign-ins would not wait for the hashing threads, and the creates would
    /// wait for them.
    @Test func aSignInFloodNeverHoldsUpCreates_andItsExcessIs429() throws {
        let cap = 4, floodClients = 7
        try withTestApp(seed: Self.seed, application: {
            $0.signIn.hashThreads = 2
            $0.signIn.maxConcurrentSignIns = cap
            $0.signIn.perAddressBurst = 1_000  // the flood comes from one loopback address; this test is about the global cap
        }) { app in
            let hasher = app.application.passwordHasher, throttle = app.application.signInThrottle
            let gate = DispatchSemaphore(value: 0)
            // Queued directly (not from a Task): the cooperative pool may be busy with other tests.
            for _ in 0..<hasher.threads { #expect(hasher.enqueue { gate.wait() }) }
            eventuallyBlocking { hasher.load.running == hasher.threads }

            let answers = Shared<[(client: Int, status: Int, code: String?, retryAfter: String?)]>([])
            let flood = DispatchGroup(), port = app.port, rootToken = app.rootToken
            for i in 0..<floodClients {
                DispatchQueue.global().async(group: flood) {
                    guard let client = try? HTTPTestClient(port: port),
                          let r = try? client.request("POST", Self.signIn, body: #"{"account":"ghost-\#(i)@example.com","password":"guess"}"#)
                    else { answers.withLock { $0.append((i, -1, nil, nil)) }; return }
                    answers.withLock { $0.append((i, r.status, Self.code(r), r.headers["retry-after"])) }
                }
            }
            // The excess is refused at once; the admitted ones wait for a hashing thread.
            eventuallyBlocking { answers.withLock { $0.count } == floodClients - cap && throttle.signInsInProgress == cap }
            let refused = answers.withLock { $0 }
            #expect(refused.allSatisfy { $0.status == 429 && $0.code == "TOO_MANY_REQUESTS" && $0.retryAfter == "1" })

            // users:create hashes its password too: it waits for the hasher, not in a write job.
            let userCreated = Shared<Int?>(nil)
            let manager = DispatchGroup()
            DispatchQueue.global().async(group: manager) {
                let root = try? HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(rootToken)"])
                let status = (try? root?.request("POST", "/api/users:create", body: #"{"username":"dan","password":"pw-dan"}"#))??.status
                userCreated.withLock { $0 = status ?? -1 }
            }
            eventuallyBlocking { hasher.load.waiting == cap + 1 }

            let writer = try app.client()
            for n in 0..<20 {
                let created = try writer.request("POST", "/api/posts:create", body: #"{"title":"during the flood \#(n)"}"#)
                #expect(created.status == 200, "\(created.text)")
            }
            #expect(answers.withLock { $0.count } == floodClients - cap, "every create answered while the admitted sign-ins still waited for a hash")
            #expect(throttle.signInsInProgress == cap && userCreated.withLock { $0 } == nil)
            #expect(try app.count("posts") == 20)
            let metrics = try writer.request("GET", "/metrics").text
            #expect(metrics.contains(#"triggerbase_signin_refused_total{reason="busy"} \#(floodClients - cap)"#))
            #expect(metrics.contains("triggerbase_signin_in_progress \(cap)"))

            // Released, the hashes really run (an unknown account is verified against a dummy hash).
            for _ in 0..<hasher.threads { gate.signal() }
            #expect(flood.wait(timeout: .now() + 120) == .success)
            #expect(manager.wait(timeout: .now() + 120) == .success)
            let admitted = answers.withLock { $0 }.filter { $0.status != 429 }
            #expect(admitted.count == cap && admitted.allSatisfy { $0.status == 401 && $0.code == "INVALID_CREDENTIALS" })
            #expect(userCreated.withLock { $0 } == 200)
            let signIn = try app.anonymousClient().request("POST", Self.signIn, body: #"{"account":"dan","password":"pw-dan"}"#)
            #expect(signIn.status == 200 && signIn.json["data"]?["token"]?.stringValue != nil)
        }
    }

    @Test func passwordsSetThroughTheAPIOrASeedAreStoredAsHashes_andAReappliedSeedKeepsThem() throws {
        try withTestApp(seed: Self.seed) { app in
            let root = try app.client()
            let created = try root.request("POST", "/api/users:create", body: #"{"username":"eve","password":"first"}"#)
            let id = try #require(created.json["data"]?["id"]?.intValue)
            #expect(try root.request("POST", "/api/users:update?filterByTk=\(id)", body: #"{"password":"second"}"#).status == 200)
            let stored = try app.rows("SELECT password FROM users WHERE id = \(id)")[0]["password"] ?? ""
            #expect(stored.hasPrefix("pbkdf2-sha256$") && Crypto.verifyPassword("second", stored: stored))
            let anonymous = try app.anonymousClient()
            #expect(try anonymous.request("POST", Self.signIn, body: #"{"account":"eve","password":"first"}"#).status == 401)
            #expect(try anonymous.request("POST", Self.signIn, body: #"{"account":"eve","password":"second"}"#).status == 200)
            #expect(try root.request("POST", "/api/users:update?filterByTk=\(id)", body: #"{"nickname":"E"}"#).status == 200)
            #expect(try app.rows("SELECT password FROM users WHERE id = \(id)")[0]["password"] == stored, "no password, no change")
            // A re-applied seed keeps an existing user's password (and hashes nothing for it).
            let ann = try app.rows("SELECT password FROM users WHERE username = 'ann'")[0]["password"]
            let path = app.dataDirectory + "/again.json"
            try Self.seed.write(toFile: path, atomically: true, encoding: .utf8)
            _ = try app.application.applySeedFile(path)
            #expect(try app.rows("SELECT password FROM users WHERE username = 'ann'")[0]["password"] == ann)
        }
    }
}

/// A `Mutex` in a class, so test threads can share it.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout sending Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
