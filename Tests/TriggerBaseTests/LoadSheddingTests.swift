import Foundation
import HTTPServer
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

/// Issue 13, load shedding: past a limit new work is answered 503 `OVERLOADED` with `Retry-After`,
/// reads keep being served, and everything already accepted is committed.
@Suite struct LoadSheddingTests {
    /// Holds the writer inside a job until `release()`, so writes queue up behind it.
    final class WriterHold: Sendable {
        private let held = DispatchSemaphore(value: 0)
        private let open = DispatchSemaphore(value: 0)

        init(_ app: TestApp) {
            app.application.database.write({ [held, open] _ in held.signal(); open.wait() }, completion: { _ in })
            held.wait()
        }

        func release() { open.signal() }
    }

    /// Statuses of requests answered on other threads.
    final class Statuses: Sendable {
        private let values = Mutex<[Int]>([])
        func append(_ status: Int) { values.withLock { $0.append(status) } }
        var all: [Int] { values.withLock { $0 } }
    }

    /// Sends `count` requests from their own connections on other threads; their statuses arrive in `statuses`.
    static func sendInBackground(_ app: TestApp, count: Int, _ method: String, _ target: (Int) -> String, body: String?,
                                 group: DispatchGroup, statuses: Statuses) {
        let token = app.rootToken, port = app.port
        for index in 0..<count {
            let target = target(index)
            DispatchQueue.global().async(group: group) {
                let client = try? HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(token)"])
                let status = (try? client?.request(method, target, body: body))??.status ?? 0
                statuses.append(status)
            }
        }
    }

    /// Polls (bounded) until `condition` holds.
    static func waitUntil(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<1000 {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    static func metric(_ app: TestApp, _ line: String) throws -> Int? {
        let text = try app.client().request("GET", "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    @Test func writesPastTheWriteBacklogAre503_readsAreServed_andNothingAcceptedIsLost() throws {
        let app = try TestApp(seed: TestSeeds.blog, configureApplication: { $0.maxWriteBacklog = 3 })
        try withExtendedLifetime(app) {
            let client = try app.client()
            let before = try app.count("posts")
            let id = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"warm"}"#).json["data"]?["id"]?.intValue)
            let hold = WriterHold(app)
            let group = DispatchGroup(), statuses = Statuses()
            Self.sendInBackground(app, count: 3, "POST", { _ in "/api/posts:create" }, body: #"{"title":"queued"}"#, group: group, statuses: statuses)
            #expect(Self.waitUntil { app.application.database.writeBacklog == 3 })

            let refused = try client.request("POST", "/api/posts:create", body: #"{"title":"refused"}"#)
            #expect(refused.status == 503)
            #expect(refused.json["errors"]?[path: ["0", "code"]] == "OVERLOADED")
            #expect(refused.headers["retry-after"] == "1")
            #expect(try client.request("POST", "/api/posts:update?filterByTk=\(id)", body: #"{"title":"refused"}"#).status == 503)
            #expect(try client.request("POST", "/api/posts:destroy?filterByTk=\(id)").status == 503)
            #expect(try client.request("GET", "/api/posts:list").status == 200, "reads never wait for the writer")
            #expect(try client.request("GET", "/api/posts:get?filterByTk=\(id)").status == 200)
            #expect(try Self.metric(app, "triggerbase_write_queue_depth") == 3)
            #expect(try Self.metric(app, #"triggerbase_requests_shed_total{reason="write_backlog"}"#) == 3)

            hold.release()
            group.wait()
            #expect(statuses.all == [200, 200, 200])
            #expect(try app.count("posts") == before + 4, "the warm-up and the three accepted creates, none refused")
            #expect(try app.rows("SELECT title FROM posts WHERE title = 'refused'").isEmpty)
            #expect(try client.request("POST", "/api/posts:create", body: #"{"title":"after"}"#).status == 200)
        }
    }

    @Test func requestsPastTheInFlightLimitAre503() throws {
        let app = try TestApp(seed: TestSeeds.blog, configureApplication: { $0.maxRequestsInFlight = 1 })
        try withExtendedLifetime(app) {
            let client = try app.client()
            let id = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"p"}"#).json["data"]?["id"]?.intValue)
            let hold = WriterHold(app)
            let group = DispatchGroup(), statuses = Statuses()
            // An update is handled as a task, which waits behind the held writer.
            Self.sendInBackground(app, count: 1, "POST", { _ in "/api/posts:update?filterByTk=\(id)" }, body: #"{"title":"slow"}"#,
                                  group: group, statuses: statuses)
            #expect(try Self.waitUntil { try Self.metric(app, "triggerbase_requests_in_flight") == 1 })
            let refused = try client.request("GET", "/api/posts:list")
            #expect(refused.status == 503 && refused.headers["retry-after"] == "1")
            #expect(try Self.metric(app, #"triggerbase_requests_shed_total{reason="requests_in_flight"}"#) == 1)
            hold.release()
            group.wait()
            #expect(statuses.all == [200])
            #expect(try client.request("GET", "/api/posts:list").status == 200)
        }
    }

    static let writeRule: [(String, String, Bool)] = [
        ("GET", "/api/posts:list", false), ("POST", "/api/posts:get?filterByTk=1", false), ("GET", "/api/posts:create", true),
        ("POST", "/api/posts:update", true), ("GET", "/api/posts/1", false), ("DELETE", "/api/posts/1", true),
        ("GET", "/api/workflow/processinstance", false), ("POST", "/api/workflow/processinstance?_action=create", true),
        ("POST", "/api/posts/1/tags:list", false), ("POST", "/api/auth:signIn", true),
    ]

    /// Which requests count as writes: the action decides, whatever the method; without one, the method.
    @Test(arguments: writeRule)
    func aRequestWritesUnlessItIsAListOrGet(method: String, target: String, writes: Bool) {
        #expect(LoadShedder.writes(HTTPRequest(method: method, target: target)) == writes)
    }
}
