import Foundation
import JSON
@testable import Storage
import Testing

/// Spec 04's definitions and versions over HTTP.
@Suite struct WorkflowAPITests {
    static let notify = #"""
    {"key":"notify","title":"Notify","type":"action","enabled":true,
     "config":{"collection":"posts","actions":["create"],"appends":["category"]},
     "nodes":[{"id":"n1","key":"check","type":"condition","config":{"filter":{"$context.data.views":{"$gte":1}},
                "then":[{"id":"n2","key":"hook","type":"request","config":{"url":"http://127.0.0.1:1/hook","method":"POST","body":{"title":"{{$context.data.title}}"}}}]}},
              {"id":"n3","type":"create","config":{"collection":"comments","values":{"body":"{{$jobsMapByNodeKey.check}}"}}}]}
    """#

    @Test func createGetListAndVersionRules() throws {
        try withTestApp { app in
            let client = try app.client()
            let created = try client.request("POST", "/api/workflows:create", body: Self.notify)
            #expect(created.status == 200, "\(created.text)")
            let v1 = try #require(created.json["data"])
            #expect(v1["key"] == "notify" && v1["versionNumber"] == .int(1) && v1["current"] == .bool(true) && v1["enabled"] == .bool(true))
            #expect(v1["nodes"]?.arrayValue?.count == 2)
            let id1 = try #require(v1["id"]?.intValue)
            #expect(try client.request("POST", "/api/workflows:create", body: Self.notify).status == 409)

            let revision = try client.request("POST", "/api/workflows:revision?filterByTk=\(id1)&filter=%7B%22key%22%3A%22notify%22%7D")
            let v2 = try #require(revision.json["data"])
            #expect(v2["key"] == "notify" && v2["versionNumber"] == .int(2) && v2["enabled"] == .bool(false) && v2["current"] == .null)
            let id2 = try #require(v2["id"]?.intValue)
            let enabled = try client.request("POST", "/api/workflows:update?filterByTk=\(id2)", body: #"{"enabled":true}"#)
            #expect(enabled.json["data"]?["current"] == .bool(true))
            let old = try client.request("GET", "/api/workflows:get?filterByTk=\(id1)")
            #expect(old.json["data"]?["enabled"] == .bool(false) && old.json["data"]?["current"] == .null, "enabling v2 disabled v1")
            let list = try client.request("GET", "/api/workflows:list?filter=%7B%22key%22%3A%22notify%22%7D&sort=-versionNumber")
            #expect(list.json["data"]?.arrayValue?.compactMap { $0["versionNumber"]?.intValue } == [2, 1])
            #expect(try app.rows("SELECT count(*) AS n FROM workflows WHERE key = 'notify' AND current = 1")[0]["n"] == "1")
        }
    }

    @Test func aVersionWithExecutionsKeepsItsConfigAndNodes_butCanBeDisabled() throws {
        try withTestApp { app in
            let client = try app.client()
            let id = try #require(try client.request("POST", "/api/workflows:create", body: Self.notify).json["data"]?["id"]?.intValue)
            let writer = try app.rawConnection()
            try writer.run("INSERT INTO executions (createdAt, updatedAt, workflowId, key, context) VALUES ('x', 'x', ?, 'notify', '{}')", [.integer(id)])
            writer.close()
            let locked = try client.request("POST", "/api/workflows:update?filterByTk=\(id)", body: #"{"config":{"collection":"posts"}}"#)
            #expect(locked.status == 409)
            #expect(locked.json["errors"]?[path: ["0", "code"]] == "VERSION_HAS_EXECUTIONS")
            #expect(try client.request("POST", "/api/workflows:update?filterByTk=\(id)", body: #"{"enabled":false,"title":"Off"}"#).status == 200)
            #expect(try client.request("POST", "/api/workflows:destroy?filterByTk=\(id)").json["data"] == .int(1))
            #expect(try app.count("executions") == 0, "executions go with their version")
        }
    }

    static let invalid: [(String, String)] = [
        (#"{"type":"schedule","config":{"collection":"posts"}}"#, "type"),
        (#"{"config":{"collection":"nope"}}"#, "config.collection"),
        (#"{"enabled":true,"config":{}}"#, "config.collection"),
        (#"{"config":{"collection":"posts","actions":["create","frobnicate"]}}"#, "config.actions[1]"),
        (#"{"config":{"collection":"posts","appends":["title"]}}"#, "config.appends"),
        (#"{"config":{"collection":"posts"},"nodes":[{"id":"a","type":"teleport"}]}"#, "nodes[0].type"),
        (#"{"config":{"collection":"posts"},"nodes":[{"id":"a","type":"end"},{"id":"a","type":"end"}]}"#, "nodes[1].id"),
        (#"{"config":{"collection":"posts"},"nodes":[{"id":"a","type":"end","config":{"x":"{{$jobsMapByNodeKey.b.id}}"}},{"id":"b","type":"end"}]}"#, "nodes[0].config"),
        (#"{"config":{"collection":"posts"},"nodes":[{"id":"a","type":"end","config":{"x":"{{$secrets.token}}"}}]}"#, "nodes[0].config"),
        (#"{"sync":true,"config":{"collection":"posts"},"nodes":[{"id":"a","type":"delay","config":{"durationMs":10}}]}"#, "nodes[0].type"),
        (#"{"config":{"collection":"posts"},"nodes":[{"id":"a","type":"condition","config":{"filter":{"x":{"$bad":1}}}}]}"#, "nodes[0].config.filter"),
        (#"{"config":{"collection":"posts"},"nodes":[{"id":"a","type":"create","config":{"collection":"ghosts"}}]}"#, "nodes[0].config.collection"),
        (#"{"config":{"collection":"posts"},"options":{"concurrency":0}}"#, "options.concurrency"),
    ]

    @Test(arguments: invalid)
    func invalidDefinitionsAre400NamingThePlace(body: String, place: String) throws {
        try withTestApp { app in
            let r = try app.client().request("POST", "/api/workflows:create", body: body)
            #expect(r.status == 400)
            #expect(r.json["errors"]?[path: ["0", "code"]] == "INVALID_WORKFLOW")
            #expect(r.json["errors"]?[path: ["0", "field"]]?.stringValue == place, "\(r.text)")
            #expect(try app.count("workflows") == 0)
        }
    }

    @Test func onlyRootAndAdminManageWorkflows() throws {
        try withTestApp(seed: AuthAPITests.seed) { app in
            let member = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(AuthAPITests.ann)"])
            #expect(try member.request("GET", "/api/workflows:list").status == 403)
            #expect(try member.request("POST", "/api/workflows:create", body: #"{"config":{"collection":"posts"}}"#).status == 403)
            #expect(try app.anonymousClient().request("GET", "/api/workflows:list").status == 401)
            #expect(try app.count("workflows") == 0)
        }
    }
}
