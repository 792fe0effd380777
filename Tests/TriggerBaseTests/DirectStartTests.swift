import Foundation
import JSON
import Testing

/// Spec 05 over HTTP: process definitions, starting by key or by exact version, business keys,
/// start roles, instance queries, and NocoBase's `workflows:execute`.
@Suite struct DirectStartTests {
    static let member = "tb_test_member_0123456789abcdef"
    static let seed: String = {
        WorkflowSeeds.blogWithLogs.replacingOccurrences(of: #""records":"#, with: #"""
            "roles": [ { "name": "member", "permissions": { "posts": { "view": {} } } } ],
            "users": [ { "username": "meg", "roles": ["member"], "tokens": [ { "token": "\#(member)" } ] } ],
            "records":
            """#)
    }()
    static let logNode = #"[{"id":"n1","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.note}} by {{$context.user.username}}"}}}]"#

    @Test func definitionsAreListed_andAStartByKeyRunsTheCurrentVersionWithItsBusinessKey() throws {
        try withTestApp(seed: Self.seed) { app in
            let client = try app.client()
            let v1 = try client.createWorkflow(#"{"key":"onboard","title":"Onboarding","enabled":true,"config":{"collection":"posts"},"nodes":\#(Self.logNode)}"#)
            let v1ID = try #require(v1["id"]?.intValue)
            let definitions = try client.request("GET", "/api/workflow/processdefinition")
            #expect(definitions.status == 200)
            #expect(definitions.json["result"] == [["_id": .string("onboard:1:\(v1ID)"), "key": "onboard", "name": "Onboarding", "version": 1]])

            let started = try client.request("POST", "/api/workflow/processinstance?_action=create",
                                             body: #"{"_key":"onboard","_businessKey":"case-7","note":"hello"}"#)
            #expect(started.status == 200, "\(started.text)")
            let id = try #require(started.json["_id"]?.stringValue)
            #expect(started.json["processInstanceId"]?.stringValue == id)
            #expect(started.json["status"] == "suspended" && started.json["businessKey"] == "case-7")
            #expect(started.json["processDefinitionId"]?.stringValue == "onboard:1:\(v1ID)")
            let execution = try client.waitForExecution(Int64(id)!)
            #expect(execution["statusName"] == "resolved" && execution["businessKey"] == "case-7")
            #expect(execution["context"]?["data"] == ["note": "hello"], "the body without the _ parameters")
            #expect(try app.rows("SELECT message FROM logs").map { $0["message"] } == ["hello by root"])

            let byKey = try client.request("GET", "/api/workflow/processinstance?businessKey=case-7")
            #expect(byKey.json["resultCount"] == 1 && byKey.json["pagedResultsCookie"] == .null && byKey.json["remainingPagedResults"] == -1)
            #expect(byKey.json["result"]?[path: ["0", "_id"]]?.stringValue == id)
            #expect(byKey.json["result"]?[path: ["0", "status"]] == "ended")
            let filtered = try client.request("GET", "/api/workflow/processinstance?_queryFilter=processDefinitionId%20eq%20%22onboard:1:\(v1ID)%22")
            #expect(filtered.json["resultCount"] == 1)
            let one = try client.request("GET", "/api/workflow/processinstance/\(id)")
            #expect(one.status == 200 && one.json["jobs"]?.arrayValue?.count == 1 && one.json["startTime"]?.stringValue != nil)
            #expect(try client.request("GET", "/api/workflow/processinstance/999").status == 404)
            #expect(try client.request("GET", "/api/workflow/processinstance?_queryFilter=nonsense").status == 400)
        }
    }

    @Test func anExactVersionWins_andMismatchesAndUnknownsChangeNothing() throws {
        try withTestApp(seed: Self.seed) { app in
            let client = try app.client()
            let v1 = try #require(try client.createWorkflow(#"{"key":"k","enabled":true,"config":{"collection":"posts"},"nodes":\#(Self.logNode)}"#)["id"]?.intValue)
            let v2 = try #require(client.request("POST", "/api/workflows:revision?filterByTk=\(v1)").json["data"]?["id"]?.intValue)
            #expect(try client.request("POST", "/api/workflows:update?filterByTk=\(v2)", body: #"{"enabled":true}"#).status == 200)
            // v1 is now disabled, but an exact id still starts it.
            let exact = try client.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_processDefinitionId":"k:1:\#(v1)","_key":"k"}"#)
            #expect(exact.status == 200 && exact.json["processDefinitionId"]?.stringValue == "k:1:\(v1)")
            let latest = try client.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"k"}"#)
            #expect(latest.json["processDefinitionId"]?.stringValue == "k:2:\(v2)")
            let before = try app.count("executions")
            for (body, status, code) in [(#"{"_key":"other","_processDefinitionId":"k:1:\#(v1)"}"#, 400, "INVALID_PARAMETER"),
                                         (#"{"_processDefinitionId":"k-1-\#(v1)"}"#, 400, "INVALID_PARAMETER"),
                                         (#"{"note":"no id"}"#, 400, "INVALID_PARAMETER"),
                                         (#"{"_key":"nope"}"#, 404, "WORKFLOW_NOT_FOUND"),
                                         (#"{"_processDefinitionId":"k:3:\#(v1)"}"#, 404, "WORKFLOW_NOT_FOUND")] {
                let response = try client.request("POST", "/api/workflow/processinstance?_action=create", body: body)
                #expect(response.status == status, "\(body): \(response.text)")
                #expect(response.json["errors"]?[path: ["0", "code"]]?.stringValue == code, "\(body)")
            }
            #expect(try app.count("executions") == before, "nothing ran")
        }
    }

    @Test func startRolesAreCheckedOnTheVersionActuallyResolved() throws {
        try withTestApp(seed: Self.seed) { app in
            let root = try app.client()
            let closed = try #require(try root.createWorkflow(#"{"key":"closed","enabled":true,"config":{"collection":"posts"}}"#)["id"]?.intValue)
            try root.createWorkflow(#"{"key":"open","enabled":true,"options":{"startRoles":["member"]},"config":{"collection":"posts"}}"#)
            let meg = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.member)"])
            #expect(try meg.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"open"}"#).status == 200)
            let denied = try meg.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"closed"}"#)
            #expect(denied.status == 403 && denied.json["errors"]?[path: ["0", "code"]] == "NO_PERMISSION")
            // A permitted key beside the id of a forbidden version is refused (unlike open-source PingIDM).
            let smuggled = try meg.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_processDefinitionId":"closed:1:\#(closed)"}"#)
            #expect(smuggled.status == 403)
            let listed = try meg.request("GET", "/api/workflow/processdefinition").json["result"]?.arrayValue?.compactMap { $0["key"]?.stringValue }
            #expect(listed == ["open"], "a member sees what it may start")
            #expect(try app.count("executions") == 1)
        }
    }

    /// Issue 13: without a token, starting is spec 03's 401 EMPTY_TOKEN (it was 403), unless the
    /// version resolved lets `anonymous` start it.
    @Test func withoutATokenStartingIs401EmptyToken_unlessAnonymousMayStartIt() throws {
        try withTestApp(seed: Self.seed) { app in
            let root = try app.client(), anonymous = try app.anonymousClient()
            try root.createWorkflow(#"{"key":"closed","enabled":true,"config":{"collection":"posts"}}"#)
            for (method, target, body) in [("POST", "/api/workflow/processinstance?_action=create", #"{"_key":"closed"}"#),
                                           ("POST", "/api/workflow/processinstance", nil), ("GET", "/api/workflow/processdefinition", nil),
                                           ("GET", "/api/workflow/processinstance?businessKey=x", nil)] {
                let r = try anonymous.request(method, target, body: body)
                #expect(r.status == 401 && r.json["errors"]?[path: ["0", "code"]] == "EMPTY_TOKEN", "\(method) \(target): \(r.text)")
            }
            try root.createWorkflow(#"{"key":"public","enabled":true,"options":{"startRoles":["anonymous"]},"config":{"collection":"posts"}}"#)
            #expect(try anonymous.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"public"}"#).status == 200)
            let closed = try anonymous.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"closed"}"#)
            #expect(closed.status == 401 && closed.json["errors"]?[path: ["0", "code"]] == "EMPTY_TOKEN")
            #expect(try app.count("executions") == 1)
        }
    }

    @Test func syncStartsAnswerEndedOrFailed_andWorkflowsExecuteRunsAVersionNow() throws {
        try withTestApp(seed: Self.seed) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"quick","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":\#(Self.logNode)}"#)
            try client.createWorkflow(#"{"key":"picky","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.note":"yes"}}}]}"#)
            #expect(try client.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"quick","note":"now"}"#).json["status"] == "ended")
            #expect(try client.request("POST", "/api/workflow/processinstance?_action=create", body: #"{"_key":"picky","note":"no"}"#).json["status"] == "failed")

            let post = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"T"}"#).json["data"]?["id"]?.intValue)
            let async = try #require(try client.createWorkflow(#"{"key":"onPost","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"n","type":"create","config":{"collection":"logs","values":{"message":"post {{$context.data.title}}"}}}]}"#)["id"]?.intValue)
            let executed = try client.request("POST", "/api/workflows:execute?filterByTk=\(async)", body: #"{"values":{"data":\#(post)}}"#)
            #expect(executed.status == 200)
            #expect(executed.json["data"]?["execution"]?["status"] == .int(1), "run in the request: \(executed.text)")
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").last?["message"] == "post T")
            let missing = try client.request("POST", "/api/workflows:execute?filterByTk=\(async)", body: #"{"values":{"data":999}}"#)
            #expect(missing.status == 200 && missing.json["data"]?["execution"] == .null)
            #expect(try client.request("POST", "/api/workflows:execute?filterByTk=9999", body: #"{"values":{}}"#).status == 404)
        }
    }
}
