import Foundation
import JSON
@testable import Storage
import Testing

/// Spec 06 over HTTP: definitions and their versions, binding, invoking events, history, and the
/// `workflowEvent` action that fires post-action workflows.
@Suite struct RecordWorkflowTests {
    static let ann = "tb_example_ann_0123456789abcdef"
    static let eve = "tb_example_eve_0123456789abcdef"

    /// The examples' approval scenario: the Contensis seed's `approvalWorkflow`, unchanged.
    static var approvalSeed: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("examples/approval.seed.json"), encoding: .utf8)
        }
    }

    static let small = #"""
    {"id":"small","name":{"en-GB":"Small"},"states":[
      {"id":"draft","entryActions":[],"events":[
        {"id":"submit","transitionTo":"review","exitActions":[{"invokeAction":"validateEntry"}],"parameters":[]},
        {"id":"edit","transitionTo":null,"exitActions":[{"invokeAction":"updateEntry"}],"parameters":[]}]},
      {"id":"review","entryActions":[],"events":[
        {"id":"approve","roles":["editor"],"transitionTo":"live","exitActions":[],"parameters":[]},
        {"id":"reject","transitionTo":"draft","exitActions":[],"parameters":[{"id":"why","dataType":"string","default":null,"validations":{"required":{"message":"Say why"}}}]}]},
      {"id":"live","entryActions":[{"invokeAction":"publishEntry"}],"events":[
        {"id":"withdraw","transitionTo":"draft","exitActions":[{"invokeAction":"unpublishEntry"}],"parameters":[]}]}]}
    """#

    @Test func definitionsAreVersioned_validated_andPublished() throws {
        try withTestApp(seed: nil) { app in
            let client = try app.client()
            let base = "/api/management/workflow/definitions"
            let first = try client.request("PUT", "\(base)/small", body: Self.small)
            #expect(first.status == 200 && first.json["version"] == "0.1" && first.json["published"] == false, "\(first.text)")
            let edited = Self.small.replacingOccurrences(of: #""id":"small","#, with: #""id":"small","version":"0.1","#)
            #expect(try client.request("PUT", "\(base)/small", body: edited).json["version"] == "0.2")
            let stale = try client.request("PUT", "\(base)/small", body: edited)
            #expect(stale.status == 409 && stale.json["errors"]?[path: ["0", "code"]] == "NotLatestVersion")

            let broken = #"{"states":[{"id":"a","events":[{"id":"go","transitionTo":"nowhere"},{"id":"go"}],"entryActions":[{"invokeAction":"explode"}]},{"id":"a"}]}"#
            let invalid = try client.request("PUT", "\(base)/broken", body: broken)
            #expect(invalid.status == 422)
            let problems = invalid.json["errors"]?.arrayValue ?? []
            #expect(problems.count == 4 && problems.allSatisfy { $0["code"] == "ValidationError" }, "\(invalid.text)")
            #expect(try client.request("GET", "\(base)/broken").status == 404, "nothing saved")

            #expect(try client.request("POST", "\(base)/small/workflow/events", body: #"{"event":"publish","version":"0.1"}"#).status == 409)
            let published = try client.request("POST", "\(base)/small/workflow/events", body: #"{"event":"publish","version":"0.2"}"#)
            #expect(published.status == 200 && published.json["version"] == "1.0" && published.json["published"] == true)
            #expect(try client.request("POST", "\(base)/small/workflow/events", body: #"{"event":"publish"}"#).status == 422, "already published")
            let missing = try client.request("POST", "\(base)/nope/workflow/events", body: #"{"event":"publish"}"#)
            #expect(missing.status == 404 && missing.json["errors"]?[path: ["0", "code"]] == "NotFound")
            #expect(try client.request("PUT", "\(base)/small", body: Self.small).json["version"] == "1.1")
            #expect(try client.request("GET", base).json.arrayValue?.map { $0["id"] } == ["small"])
            #expect(try app.anonymousClient().request("GET", base).status == 401)
        }
    }

    @Test func theApprovalScenarioRunsEndToEnd_andEveryEventIsHistory() throws {
        try withTestApp(seed: try Self.approvalSeed) { app in
            let root = try app.client()
            let seeded = try root.request("GET", "/api/management/workflow/definitions/approvalWorkflow").json
            #expect(seeded["version"] == "1.0" && seeded["published"] == true)
            var stored = seeded.objectValue ?? [:]
            _ = stored.removeValue(forKey: "version")
            _ = stored.removeValue(forKey: "published")
            let given = try JSON.parse(Array(try Self.approvalSeed.utf8))["recordWorkflows"]?[path: ["0"]]
            #expect(JSON.object(stored) == given, "the Contensis definition loads unchanged")
            let ann = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.ann)"])
            let eve = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.eve)"])
            let article = try ann.request("POST", "/api/articles:create", body: #"{"title":"Hello"}"#).json["data"]
            #expect(article?["workflowState"] == "draft" && article?["workflowVersion"] == 1 && article?["published"] == false)

            let submitted = try ann.request("POST", "/api/articles/1/workflow/events", body: #"{"event":"draft.submit","version":1,"data":{"message":"please"}}"#)
            #expect(submitted.status == 200 && submitted.json["data"]?["workflowState"] == "awaitingApproval")
            let noReason = try eve.request("POST", "/api/articles:invokeWorkflow?filterByTk=1", body: #"{"event":"decline"}"#)
            #expect(noReason.status == 422 && noReason.json["errors"]?[path: ["0", "message"]] == "The decline reason is required")
            #expect(try eve.request("POST", "/api/articles/1/workflow/events", body: #"{"event":"decline","data":{"message":"too short"}}"#)
                .json["data"]?["workflowState"] == "declined")
            #expect(try ann.request("POST", "/api/articles/1/workflow/events", body: #"{"event":"submit"}"#).status == 200)
            let approved = try eve.request("POST", "/api/articles/1/workflow/events", body: #"{"event":"awaitingApproval.approve"}"#)
            #expect(approved.json["data"]?["workflowState"] == "versionComplete" && approved.json["data"]?["published"] == true)
            #expect(approved.json["data"]?["publishedAt"]?.stringValue != nil)

            let history = try ann.request("GET", "/api/articles/1/workflow/history").json["data"]?.arrayValue ?? []
            #expect(history.map { "\($0["from"]?.stringValue ?? "")>\($0["to"]?.stringValue ?? "")" }
                    == ["draft>awaitingApproval", "awaitingApproval>declined", "declined>awaitingApproval", "awaitingApproval>versionComplete"])
            #expect(history[1]["data"] == ["message": "too short"] && history[1]["event"] == "decline" && history[1]["userId"] != .null)
            // The seed's global workflow fired once per event, with $context.event.
            let reviews = try waitForRows(app, "SELECT event FROM reviews ORDER BY id", count: 4)
            #expect(reviews == ["submit", "decline", "submit", "approve"])
        }
    }

    @Test func refusedInvocationsChangeNothingAndFireNothing() throws {
        try withTestApp(seed: try Self.approvalSeed) { app in
            let root = try app.client()
            #expect(try root.request("PUT", "/api/management/workflow/definitions/small", body: Self.small).status == 200)
            #expect(try root.request("POST", "/api/management/workflow/definitions/small/workflow/events", body: #"{"event":"publish"}"#).status == 200)
            #expect(try root.request("POST", "/api/collections:create", body: #"{"name":"notes","workflowDefinition":"small","fields":[{"name":"text","type":"string"}]}"#).status == 200)
            let unpublished = try root.request("PUT", "/api/management/workflow/definitions/draftOnly", body: Self.small.replacingOccurrences(of: #""id":"small""#, with: #""id":"draftOnly""#))
            #expect(unpublished.status == 200)
            #expect(try root.request("POST", "/api/collections:create", body: #"{"name":"other","workflowDefinition":"draftOnly"}"#).status == 400)
            let ann = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.ann)"])
            #expect(try ann.request("POST", "/api/articles:create", body: #"{"title":"A"}"#).status == 200)
            let before = try (app.count("recordWorkflowHistory"), app.count("executions"), app.rows("SELECT workflowState, workflowVersion FROM articles"))
            for (body, status, code) in [(#"{"event":"approve"}"#, 422, "EVENT_NOT_ALLOWED"),
                                         (#"{"event":"awaitingApproval.revoke"}"#, 422, "EVENT_NOT_ALLOWED"),
                                         (#"{"event":"submit","version":7}"#, 409, "NotLatestVersion"),
                                         (#"{"version":1}"#, 400, "VALIDATION_ERROR")] {
                let response = try ann.request("POST", "/api/articles/1/workflow/events", body: body)
                #expect(response.status == status && response.json["errors"]?[path: ["0", "code"]]?.stringValue == code, "\(body): \(response.text)")
            }
            #expect(try ann.request("POST", "/api/articles/99/workflow/events", body: #"{"event":"submit"}"#).status == 404)
            #expect(try app.anonymousClient().request("POST", "/api/articles/1/workflow/events", body: #"{"event":"submit"}"#).status == 401)
            #expect(try ann.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"submit"}"#).status == 403, "no update on notes")
            let after = try (app.count("recordWorkflowHistory"), app.count("executions"), app.rows("SELECT workflowState, workflowVersion FROM articles"))
            #expect(before.0 == after.0 && before.1 == after.1 && before.2 == after.2)
        }
    }

    @Test func rolesVersionsActionsAndTriggerWorkflowsOnTheInvokeURL() throws {
        try withTestApp(seed: try Self.approvalSeed) { app in
            let root = try app.client()
            #expect(try root.request("PUT", "/api/management/workflow/definitions/small", body: Self.small).status == 200)
            #expect(try root.request("POST", "/api/management/workflow/definitions/small/workflow/events", body: #"{"event":"publish"}"#).status == 200)
            #expect(try root.request("POST", "/api/collections:create", body: #"{"name":"notes","workflowDefinition":"small","fields":[{"name":"text","type":"string"},{"name":"why","type":"string"}]}"#).status == 200)
            try root.createWorkflow(#"{"key":"onEvent","enabled":true,"config":{"collection":"notes"},"nodes":[]}"#)
            #expect(try root.request("POST", "/api/workflows:create", body: #"{"key":"bad","enabled":true,"config":{"collection":"reviews","global":true,"actions":["workflowEvent"]}}"#).status == 400,
                    "workflowEvent needs a bound collection")
            let note = try root.request("POST", "/api/notes:create", body: #"{"text":"v1"}"#).json["data"]
            #expect(note?["workflowVersion"] == 1)
            #expect(try root.request("POST", "/api/notes:update?filterByTk=1", body: #"{"text":"v2"}"#).json["data"]?[path: ["0", "workflowVersion"]] == 2,
                    "every write raises workflowVersion")
            let edited = try root.request("POST", "/api/notes/1/workflow/events?triggerWorkflows=onEvent", body: #"{"event":"edit","version":2,"data":{"text":"v3","ignored":1}}"#)
            #expect(edited.status == 200 && edited.json["data"]?["text"] == "v3" && edited.json["data"]?["workflowState"] == "draft", "updateEntry")
            let fired = try #require(edited.executionIDs.first)
            #expect(try root.waitForExecution(fired)["context"]?["event"] == "edit")

            // Two clients with the same version: exactly one wins.
            let version = try #require(edited.json["data"]?["workflowVersion"]?.intValue)
            let body = #"{"event":"edit","version":\#(version),"data":{"text":"race"}}"#
            let raw = "POST /api/notes/1/workflow/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(app.rootToken)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let racers = [try app.client(), try app.client()]
            for racer in racers { racer.send(raw) }  // both are on the wire before either answer is read
            let statuses = try racers.map { try $0.readResponse().status }.sorted()
            #expect(statuses == [200, 409])

            #expect(try root.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"submit"}"#).json["data"]?["workflowState"] == "review")
            let rootApprove = try root.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"reject"}"#)
            #expect(rootApprove.status == 422 && rootApprove.json["errors"]?[path: ["0", "message"]] == "Say why")
            let approved = try root.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"approve"}"#)
            #expect(approved.json["data"]?["published"] == true, "root may invoke any event; live's entry action publishes")
            let withdrawn = try root.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"withdraw"}"#)
            #expect(withdrawn.json["data"]?["published"] == false && withdrawn.json["data"]?["publishedAt"] == .null, "unpublishEntry")
        }
    }

    @Test func perEventRolesAndValidateEntry() throws {
        try withTestApp(seed: try Self.approvalSeed) { app in
            let root = try app.client()
            #expect(try root.request("PUT", "/api/management/workflow/definitions/small", body: Self.small).status == 200)
            #expect(try root.request("POST", "/api/management/workflow/definitions/small/workflow/events", body: #"{"event":"publish"}"#).status == 200)
            #expect(try root.request("POST", "/api/collections:create", body: #"{"name":"notes","workflowDefinition":"small","fields":[{"name":"text","type":"string"},{"name":"summary","type":"string","required":true}]}"#).status == 200)
            #expect(try root.request("POST", "/api/roles:update?filterByTk=member", body: #"{"permissions":{"articles":{"create":{},"view":{},"update":{"scope":"own"}},"notes":{"view":{},"update":{}}}}"#).status == 200)
            #expect(try root.request("POST", "/api/roles:update?filterByTk=editor", body: #"{"permissions":{"articles":{"view":{},"update":{}},"notes":{"view":{},"update":{}}}}"#).status == 200)
            #expect(try root.request("POST", "/api/notes:create", body: #"{"text":"x","summary":"s"}"#).status == 200)
            // The API never stores a record that breaks its rules; a change made outside it can.
            let writer = try app.rawConnection()
            try writer.run("UPDATE notes SET summary = NULL WHERE id = 1")
            writer.close()
            let invalid = try root.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"submit"}"#)
            #expect(invalid.status == 422 && invalid.json["errors"]?[path: ["0", "field"]] == "summary", "\(invalid.text)")
            #expect(try root.request("POST", "/api/notes:update?filterByTk=1", body: #"{"summary":"s"}"#).status == 200)
            #expect(try root.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"submit"}"#).status == 200)
            let ann = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.ann)"])
            let denied = try ann.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"approve"}"#)
            #expect(denied.status == 403 && denied.json["errors"]?[path: ["0", "code"]] == "NO_PERMISSION", "member is not listed: \(denied.text)")
            let eve = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.eve)"])
            #expect(try eve.request("POST", "/api/notes/1/workflow/events", body: #"{"event":"approve"}"#).status == 200, "editor is listed")
            #expect(try eve.request("GET", "/api/notes/1/workflow/history").json["data"]?.arrayValue?.count == 2)
        }
    }
}

/// Rows of `sql` once there are `count` of them (workflows run after the answer).
func waitForRows(_ app: TestApp, _ sql: String, count: Int, timeout: Double = 5) throws -> [String] {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let rows = try app.rows(sql).compactMap { $0.values.first }
        if rows.count >= count || Date() > deadline { return rows }
        usleep(20_000)
    }
}
