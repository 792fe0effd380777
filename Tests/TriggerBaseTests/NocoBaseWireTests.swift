import Foundation
import JSON
import Testing

/// Spec 02, "NocoBase wire compatibility": NocoBase's clients, used unchanged. Each test is named
/// after the NocoBase behaviour it pins; the source file it comes from is in its comment.
@Suite struct NocoBaseWireTests {
    // MARK: resourcer/src/utils.ts parseRequest: the action comes from `:<action>`, not the method

    /// `GET /api/posts:create` with a JSON body creates, and fires a named and a global workflow as a
    /// POST would (koa-bodyparser parses the body whatever the method).
    @Test func getWithAnActionSuffixCreatesAndFiresNamedAndGlobalWorkflows() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"notify","enabled":true,"config":{"collection":"posts"},"nodes":[]}"#)
            try client.createWorkflow(#"{"key":"audit","enabled":true,"config":{"collection":"posts","global":true,"actions":["create"]},"nodes":[]}"#)
            let created = try client.request("GET", "/api/posts:create?triggerWorkflows=notify", body: #"{"title":"by GET"}"#)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json["data"]?["title"] == "by GET")
            #expect(created.executionIDs.count == 2)
            #expect(try app.rows("SELECT key FROM executions ORDER BY id").map { $0["key"]! } == ["notify", "audit"])
            #expect(try app.count("posts") == 1)
        }
    }

    @Test func everyMethodRunsTheActionInTheURL() throws {
        try withTestApp { app in
            let client = try app.client()
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let created = try client.request(method, "/api/posts:create", body: #"{"title":"\#(method)"}"#)
                #expect(created.status == 200, "\(method): \(created.text)")
            }
            #expect(try app.count("posts") == 5)
            let updated = try client.request("GET", "/api/posts:update?filterByTk=1", body: #"{"title":"renamed"}"#)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(try app.rows("SELECT title FROM posts WHERE id = 1").first?["title"] == "renamed")
            #expect(try client.request("PUT", "/api/posts:list").json["meta"]?["count"] == .int(5))
            #expect(try client.request("DELETE", "/api/posts:get?filterByTk=2").json["data"]?["title"] == "POST")
            #expect(try client.request("GET", "/api/posts:destroy?filterByTk=2").status == 200)
            #expect(try app.count("posts") == 4)
        }
    }

    @Test func associationActionsIgnoreTheMethodToo() throws {
        try withTestApp { app in
            let client = try app.client()
            let post = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"p"}"#).json["data"]?["id"]?.intValue)
            let comment = try client.request("GET", "/api/posts/\(post)/comments:create", body: #"{"body":"hi"}"#)
            #expect(comment.status == 200, "\(comment.text)")
            #expect(try client.request("DELETE", "/api/posts/\(post)/comments:list").json["meta"]?["count"] == .int(1))
        }
    }
}
