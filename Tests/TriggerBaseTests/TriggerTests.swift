import Foundation
import JSON
import Testing

/// Spec 04's post-action trigger over HTTP: which workflows fire, how often, with which subject.
@Suite struct TriggerTests {
    @Test func aNamedWorkflowFiresOnceWithItsContext_andItsNodeRuns() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"logPost","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"n1","type":"create","config":{"collection":"logs","values":{"message":"new {{$context.data.title}}","count":"{{$context.data.views}}"}}}]}"#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=logPost", body: #"{"title":"Hello","views":3,"secret":"s3"}"#)
            #expect(created.status == 200, "\(created.text)")
            let ids = created.executionIDs
            #expect(ids.count == 1)
            #expect(created.headers["x-workflows-ignored"] == nil)
            let execution = try client.waitForExecution(ids[0])
            #expect(execution["statusName"] == "resolved" && execution["status"] == .int(1))
            let context = try #require(execution["context"])
            #expect(context["data"]?["title"] == "Hello" && context["roleName"] == "root")
            #expect(context["data"]?["secret"] == nil, "hidden fields are never part of the subject")
            #expect(context["user"]?["username"] == "root" && context["user"]?["password"] == nil)
            let logs = try app.rows("SELECT message, count FROM logs")
            #expect(logs.count == 1 && logs[0]["message"] == "new Hello" && logs[0]["count"] == "3")
        }
    }

    @Test func keysAreTrimmed_emptyItemsSkipped_duplicatesFireOnce_andIgnoredKeysAreListed() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"a","enabled":true,"config":{"collection":"posts"}}"#)
            try client.createWorkflow(#"{"key":"b","enabled":true,"config":{"collection":"posts"}}"#)
            try client.createWorkflow(#"{"key":"off","enabled":false,"config":{"collection":"posts"}}"#)
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            try client.createWorkflow(#"{"key":"glob","enabled":true,"config":{"collection":"posts","global":true,"actions":["update"]}}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=%20a%20,,b,a,nope,off,cat,glob", body: #"{"title":"x"}"#)
            #expect(response.status == 200)
            #expect(response.executionIDs.count == 2, "a once, b once")
            #expect(response.headers["x-workflows-ignored"] == "nope=unknown,off=disabled,cat=collection,glob=global")
            let keys = try app.rows("SELECT key FROM executions ORDER BY id").map { $0["key"] }
            #expect(keys == ["a", "b"])
        }
    }

    @Test func badTriggersAre400AndWriteNothing() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"a","enabled":true,"config":{"collection":"posts"}}"#)
            for (query, code) in [("a,a!category", "INVALID_TRIGGER"), ("a!nope", "INVALID_TRIGGER_PATH"),
                                  ("a!title", "INVALID_TRIGGER_PATH"), ("a!category.nope", "INVALID_TRIGGER_PATH")] {
                let response = try client.request("POST", "/api/posts:create?triggerWorkflows=\(query)", body: #"{"title":"x"}"#)
                #expect(response.status == 400, "\(query)")
                #expect(response.json["errors"]?[path: ["0", "code"]]?.stringValue == code, "\(query): \(response.text)")
            }
            #expect(try app.count("posts") == 0 && app.count("executions") == 0)
            let update = try client.request("POST", "/api/posts:update?filterByTk=1&triggerWorkflows=a!secret", body: #"{"title":"y"}"#)
            #expect(update.status == 400, "a hidden field is no relation path")
        }
    }

    @Test func globalWorkflowsFireOnceWhetherNamedOrNot_andOnlyForTheirActions() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"g","enabled":true,"config":{"collection":"posts","global":true,"actions":["create"]}}"#)
            try client.createWorkflow(#"{"key":"never","enabled":true,"config":{"collection":"posts","global":true}}"#)
            #expect(try client.request("POST", "/api/posts:create", body: #"{"title":"x"}"#).executionIDs.count == 1)
            let named = try client.request("POST", "/api/posts:create?triggerWorkflows=g", body: #"{"title":"y"}"#)
            #expect(named.executionIDs.count == 1, "named and global: once")
            #expect(named.headers["x-workflows-ignored"] == nil)
            #expect(try client.request("POST", "/api/posts:update?filterByTk=1", body: #"{"title":"z"}"#).executionIDs.isEmpty)
            #expect(try app.rows("SELECT key FROM executions").allSatisfy { $0["key"] == "g" })
        }
    }

    @Test func oneExecutionPerAffectedRecord_onBulkCreateUpdateAndDestroy() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"w","enabled":true,"config":{"collection":"posts","actions":["create"]}}"#)
            let bulk = try client.request("POST", "/api/posts:create?triggerWorkflows=w", body: #"[{"title":"a"},{"title":"b"},{"title":"c"}]"#)
            #expect(bulk.executionIDs.count == 3)
            let filter = "%7B%22title%22%3A%7B%22%24in%22%3A%5B%22a%22%2C%22b%22%5D%7D%7D"  // {"title":{"$in":["a","b"]}}
            let update = try client.request("POST", "/api/posts:update?filter=\(filter)&triggerWorkflows=w", body: #"{"views":5}"#)
            #expect(update.status == 200 && update.executionIDs.count == 2, "a named workflow ignores config.actions")
            let none = try client.request("POST", "/api/posts:update?filter=%7B%22title%22%3A%22zzz%22%7D&triggerWorkflows=w", body: #"{"views":5}"#)
            #expect(none.status == 200 && none.executionIDs.isEmpty && none.headers["x-workflow-executions"] == nil)
            let destroyed = try client.request("POST", "/api/posts:destroy?filterByTk=3&triggerWorkflows=w")
            #expect(destroyed.status == 200 && destroyed.executionIDs.count == 1)
            let execution = try client.waitForExecution(destroyed.executionIDs[0])
            #expect(execution["context"]?["data"]?["title"] == "c", "the subject is the record as it was before deletion")
            #expect(try app.count("posts") == 2 && app.count("executions") == 6)
        }
    }

    @Test func pathsPickTheRelatedRecord_toOneToManyAndNested() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            try client.createWorkflow(#"{"key":"com","enabled":true,"config":{"collection":"comments","appends":["post"]}}"#)
            let viaCategory = try client.request("POST", "/api/posts:create?triggerWorkflows=cat!category",
                                                 body: #"{"title":"Hello","category":{"title":"Fresh"}}"#)
            #expect(viaCategory.executionIDs.count == 1)
            let subject = try client.waitForExecution(viaCategory.executionIDs[0])["context"]?["data"]
            #expect(subject?["title"] == "Fresh")
            let postID = try #require(viaCategory.json["data"]?["id"]?.intValue)

            let deep = try client.request("POST", "/api/comments:create?triggerWorkflows=cat!post.category", body: #"{"body":"hi","postId":\#(postID)}"#)
            #expect(try client.waitForExecution(deep.executionIDs.first ?? -1)["context"]?["data"]?["title"] == "Fresh")

            let toMany = try client.request("POST", "/api/posts:create?triggerWorkflows=com!comments",
                                            body: #"{"title":"Two","comments":[{"body":"one"},{"body":"two"}]}"#)
            #expect(toMany.executionIDs.count == 2, "one execution per related record")
            let first = try client.waitForExecution(toMany.executionIDs[0])["context"]?["data"]
            #expect(first?["body"] == "one" && first?["post"]?["title"] == "Two", "with the workflow's appends")

            let missing = try client.request("POST", "/api/posts:create?triggerWorkflows=cat!category", body: #"{"title":"No category"}"#)
            #expect(missing.status == 200 && missing.executionIDs.isEmpty)
            #expect(missing.headers["x-workflows-ignored"] == "cat=no-record")
        }
    }

    @Test func nestedRecordsFireTheirOwnCollectionsGlobalWorkflows_andAppendsAreEmbedded() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"newCategory","enabled":true,"config":{"collection":"categories","global":true,"actions":["create"]}}"#)
            try client.createWorkflow(#"{"key":"withCategory","enabled":true,"config":{"collection":"posts","appends":["category"]}}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=withCategory",
                                              body: #"{"title":"Hello","category":{"title":"Nested"}}"#)
            #expect(response.executionIDs.count == 2)
            let rows = try app.rows("SELECT key FROM executions ORDER BY id").map { $0["key"] ?? "" }
            #expect(rows == ["withCategory", "newCategory"], "named first, then global")
            let named = try client.waitForExecution(response.executionIDs[0])
            #expect(named["context"]?["data"]?["category"]?["title"] == "Nested")
        }
    }
}

/// Seeds and helpers shared by the workflow suites.
enum WorkflowSeeds {
    /// The blog seed plus a `logs` collection for node writes.
    static let blogWithLogs: String = {
        var seed = TestSeeds.blog
        let marker = #"{ "name": "tags", "fields": [ { "name": "name", "type": "string" } ] } ],"#
        seed = seed.replacingOccurrences(of: marker, with: #"{ "name": "tags", "fields": [ { "name": "name", "type": "string" } ] },"#
            + #"{ "name": "logs", "fields": [ { "name": "message", "type": "string" }, { "name": "count", "type": "integer" } ] } ],"#)
        return seed
    }()
}

extension HTTPTestClient.Response {
    /// `X-Workflow-Executions` as ids.
    var executionIDs: [Int64] {
        (headers["x-workflow-executions"] ?? "").split(separator: ",").compactMap { Int64($0) }
    }
}

extension HTTPTestClient {
    @discardableResult
    func createWorkflow(_ body: String) throws -> JSON {
        let response = try request("POST", "/api/workflows:create", body: body)
        guard response.status == 200, let data = response.json["data"] else {
            throw Failure(description: "workflows:create answered \(response.status): \(response.text)")
        }
        return data
    }

    /// The execution once it has ended (polls `executions:get` for up to `timeout` seconds).
    func waitForExecution(_ id: Int64, timeout: Double = 10, appends: String = "jobs") throws -> JSON {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let response = try request("GET", "/api/executions:get?filterByTk=\(id)&appends=\(appends)")
            let execution = response.json["data"] ?? .null
            if let name = execution["statusName"]?.stringValue, name != "queued", name != "started" { return execution }
            if Date() > deadline { throw Failure(description: "execution \(id) did not end: \(response.status) \(response.text)") }
            usleep(20_000)
        }
    }
}
