import Foundation
import JSON
import Testing

/// Spec 04's sync answers, nodes, templates, the executions API and the dispatcher, over HTTP.
@Suite struct ExecutionTests {
    @Test func syncWorkflowsDecideTheAnswer_andTheWriteStandsInEveryCase() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"hi","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"Hi {{$context.data.title}}"}}]}"#)
            try client.createWorkflow(#"{"key":"bye","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"Bye"}}]}"#)
            let ok = try client.request("POST", "/api/posts:create?triggerWorkflows=hi,bye", body: #"{"title":"Ann"}"#)
            #expect(ok.status == 200)
            #expect(ok.json["messages"] == [["message": "Hi Ann"], ["message": "Bye"]])
            #expect(ok.json["data"]?["title"] == "Ann")
            #expect(try app.rows("SELECT statusName FROM executions").allSatisfy { $0["statusName"] == "resolved" }, "run before the answer")

            try client.createWorkflow(#"{"key":"deny","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"not allowed"}},{"id":"e","type":"end","config":{"endStatus":"failed"}}]}"#)
            let denied = try client.request("POST", "/api/posts:create?triggerWorkflows=deny,hi", body: #"{"title":"Bob"}"#)
            #expect(denied.status == 400)
            #expect(denied.json["errors"] == [["message": "not allowed"]])

            try client.createWorkflow(#"{"key":"broken","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":100}},"rejectOnFalse":true}}]}"#)
            let failed = try client.request("POST", "/api/posts:create?triggerWorkflows=broken", body: #"{"title":"Cy"}"#)
            #expect(failed.status == 500 && failed.json["errors"]?[path: ["0", "code"]] == "WORKFLOW_FAILED")

            try client.createWorkflow(#"{"key":"stop","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"e","type":"end","config":{"endStatus":"resolved"}}]}"#)
            let stopped = try client.request("POST", "/api/posts:create?triggerWorkflows=stop,hi", body: #"{"title":"Di"}"#)
            #expect(stopped.status == 200 && stopped.json["messages"] == [])
            let ids = stopped.executionIDs
            #expect(ids.count == 2)
            #expect(try client.waitForExecution(ids[1])["statusName"] == "canceled", "the rest never runs")
            #expect(try app.rows("SELECT title FROM posts").map { $0["title"] } == ["Ann", "Bob", "Cy", "Di"])
            #expect(try client.request("POST", "/api/workflows:create",
                                       body: #"{"key":"slow","sync":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":10}}]}"#).status == 400)
        }
    }

    @Test func storageNodesConditionsAndTemplates() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"""
            {"key":"flow","enabled":true,"config":{"collection":"posts"},"nodes":[
              {"id":"1","key":"log","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}","count":"{{$context.data.views}}"}}},
              {"id":"2","key":"big","type":"condition","config":{"filter":{"$context.data.views":{"$gte":10}},
                "then":[{"id":"3","type":"update","config":{"collection":"logs","filter":{"id":"{{$jobsMapByNodeKey.log.id}}"},"values":{"message":"big {{$context.data.title}}"}}}],
                "else":[{"id":"4","type":"create","config":{"collection":"logs","values":{"message":"small, missing='{{$context.data.nothing}}'"}}}]}},
              {"id":"5","key":"found","type":"query","config":{"collection":"logs","filter":{"id":"{{$jobsMapByNodeKey.log.id}}"}}},
              {"id":"6","key":"all","type":"query","config":{"collection":"logs","multiple":true,"sort":["-id"]}},
              {"id":"7","key":"gone","type":"destroy","config":{"collection":"logs","filter":{"message":{"$startsWith":"small"}}}}]}
            """#)
            let big = try client.request("POST", "/api/posts:create?triggerWorkflows=flow", body: #"{"title":"B","views":12}"#)
            let bigRun = try client.waitForExecution(big.executionIDs[0])
            #expect(bigRun["statusName"] == "resolved", "\(bigRun.serialized())")
            let jobs = bigRun["jobs"]?.arrayValue ?? []
            #expect(jobs.map { $0["nodeId"]?.stringValue ?? "" } == ["1", "2", "3", "5", "6", "7"], "then-branch, then the outer list")
            #expect(jobs.first { $0["nodeId"] == "1" }?["result"]?["count"] == .int(12), "a whole-string template keeps its type")
            #expect(jobs.first { $0["nodeId"] == "2" }?["result"] == .bool(true))
            #expect(jobs.first { $0["nodeId"] == "3" }?["result"] == .int(1))
            #expect(jobs.first { $0["nodeId"] == "5" }?["result"]?["message"] == "big B")
            #expect(jobs.first { $0["nodeId"] == "6" }?["result"]?.arrayValue?.count == 1)
            #expect(jobs.allSatisfy { $0["statusName"] == "resolved" && $0["nodeKey"] != nil })

            let small = try client.request("POST", "/api/posts:create?triggerWorkflows=flow", body: #"{"title":"S","views":1}"#)
            let smallRun = try client.waitForExecution(small.executionIDs[0])
            let smallJobs = smallRun["jobs"]?.arrayValue ?? []
            #expect(smallJobs.map { $0["nodeId"]?.stringValue ?? "" } == ["1", "2", "4", "5", "6", "7"])
            #expect(smallJobs.first { $0["nodeId"] == "4" }?["result"]?["message"] == "small, missing=''", "a missing path is empty text")
            #expect(smallJobs.first { $0["nodeId"] == "7" }?["result"] == .int(1))
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"] } == ["big B", "S"])
        }
    }

    @Test func failingNodesEndTheExecution_failedOrError() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"reject","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":5}}}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"never"}}}]}"#)
            try client.createWorkflow(#"{"key":"empty","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"q","type":"query","config":{"collection":"logs","filter":{"message":"none"},"failOnEmpty":true}}]}"#)
            try client.createWorkflow(#"{"key":"bad","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"u","type":"update","config":{"collection":"logs","values":{"message":"all"}}}]}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=reject,empty,bad", body: #"{"title":"x"}"#)
            let statuses = try response.executionIDs.map { try client.waitForExecution($0)["statusName"]?.stringValue ?? "" }
            #expect(statuses == ["failed", "failed", "error"])
            #expect(try app.count("logs") == 0)
        }
    }

    @Test func requestNodeSendsTheTemplatedBody_retriesWithOneIdempotencyKey() throws {
        let receiver = try WebhookReceiver(statuses: [500, 500, 200])
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","key":"call","type":"request","config":{"url":"\#(receiver.url)","method":"POST","headers":{"X-Source":"tb"},"body":{"title":"{{$context.data.title}}","views":"{{$context.data.views}}"},"retries":3}}]}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=hook", body: #"{"title":"Hello","views":2}"#)
            let id = try #require(response.executionIDs.first)
            let execution = try client.waitForExecution(id)
            #expect(execution["statusName"] == "resolved")
            let received = receiver.received
            #expect(received.count == 3, "two failures, then success")
            #expect(received.allSatisfy { $0.headers["idempotency-key"] == "\(id)-r" && $0.headers["x-source"] == "tb" })
            #expect(received.last?.body == ["title": "Hello", "views": 2])
            #expect(execution["jobs"]?[path: ["0", "result", "status"]] == .int(200))
        }
    }

    @Test func ignoreFailResolves_queryFindsNothingAsNull_andSystemNowIsATimestamp() throws {
        let receiver = try WebhookReceiver(statuses: [404])
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"lenient","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","method":"GET","retries":0,"ignoreFail":true}},{"id":"q","key":"none","type":"query","config":{"collection":"logs","filter":{"message":"absent"}}},{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"at {{$system.now}} found {{$jobsMapByNodeKey.none}}"}}}]}"#)
            let id = try #require(try client.request("POST", "/api/posts:create?triggerWorkflows=lenient", body: #"{"title":"x"}"#).executionIDs.first)
            let execution = try client.waitForExecution(id)
            #expect(execution["statusName"] == "resolved")
            let jobs = execution["jobs"]?.arrayValue ?? []
            #expect(jobs.first { $0["nodeId"] == "r" }?["result"]?["status"] == .int(404), "ignoreFail keeps the answer")
            #expect(jobs.first { $0["nodeId"] == "q" }?["result"] == .null)
            #expect(receiver.received.count == 1 && receiver.received[0].method == "GET")
            let message = try app.rows("SELECT message FROM logs")[0]["message"] ?? ""
            #expect(message.range(of: #"^at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z found $"#, options: .regularExpression) != nil, "\(message)")
        }
    }

    @Test func aFailedRequestCanBeRetried_keepingItsIdAndFinishedJobs() throws {
        let receiver = try WebhookReceiver(statuses: [503, 200])
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"before"}}},{"id":"r","type":"request","config":{"url":"\#(receiver.url)","retries":0}}]}"#)
            let id = try #require(try client.request("POST", "/api/posts:create?triggerWorkflows=hook", body: #"{"title":"x"}"#).executionIDs.first)
            #expect(try client.waitForExecution(id)["statusName"] == "failed")
            #expect(try client.request("POST", "/api/executions:cancel?filterByTk=\(id)").status == 409, "a finished execution cannot be canceled")
            let retried = try client.request("POST", "/api/executions:retry?filterByTk=\(id)")
            #expect(retried.status == 200 && retried.json["data"]?["id"] == .int(id))
            #expect(try client.waitForExecution(id)["statusName"] == "resolved")
            #expect(try app.count("logs") == 1, "the create node ran once")
            #expect(try client.request("POST", "/api/executions:retry?filterByTk=\(id)").status == 409)
            let list = try client.request("GET", "/api/executions:list?filter=%7B%22key%22%3A%22hook%22%2C%22status%22%3A1%7D")
            #expect(list.json["meta"]?["count"] == .int(1))
        }
    }

    @Test func delayTimeoutAndCancel() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"later","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":300}},{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"after"}}}]}"#)
            try client.createWorkflow(#"{"key":"tooSlow","enabled":true,"config":{"collection":"posts"},"options":{"timeoutMs":200},"nodes":[{"id":"d","type":"delay","config":{"durationMs":5000}}]}"#)
            try client.createWorkflow(#"{"key":"held","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":800}},{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"canceled"}}}]}"#)
            let ids = try client.request("POST", "/api/posts:create?triggerWorkflows=later,tooSlow,held", body: #"{"title":"x"}"#).executionIDs
            #expect(ids.count == 3)
            usleep(100_000)
            let canceled = try client.request("POST", "/api/executions:cancel?filterByTk=\(ids[2])")
            #expect(canceled.status == 200 && canceled.json["data"]?["statusName"] == "canceled")
            #expect(try client.waitForExecution(ids[0])["statusName"] == "resolved")
            let aborted = try client.waitForExecution(ids[1])
            #expect(aborted["statusName"] == "aborted" && aborted["reason"] == "timeout")
            usleep(900_000)
            #expect(try app.rows("SELECT message FROM logs").map { $0["message"] } == ["after"], "a canceled execution never resumes")
        }
    }

    @Test func oneKeyRunsInOrderOneAtATime_unlessConcurrencyAllowsMore() throws {
        let receiver = try WebhookReceiver(delay: 0.15)
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"serial","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","body":{"title":"{{$context.data.title}}"}}}]}"#)
            let ids = try client.request("POST", "/api/posts:create?triggerWorkflows=serial", body: #"[{"title":"1"},{"title":"2"},{"title":"3"}]"#).executionIDs
            for id in ids { _ = try client.waitForExecution(id) }
            #expect(receiver.received.map { $0.body["title"] } == ["1", "2", "3"])
            #expect(receiver.maxInFlight == 1)
        }
        let parallel = try WebhookReceiver(delay: 0.3)
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"two","enabled":true,"options":{"concurrency":2},"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(parallel.url)"}}]}"#)
            let ids = try client.request("POST", "/api/posts:create?triggerWorkflows=two", body: #"[{"title":"1"},{"title":"2"},{"title":"3"}]"#).executionIDs
            for id in ids { _ = try client.waitForExecution(id) }
            #expect(parallel.maxInFlight == 2)
        }
    }
}

/// The real binary killed mid-workflow resumes after a restart (spec 04: The dispatcher).
@Suite(.serialized) struct ExecutionCrashTests {
    @Test func aKilledServerResumesStartedAndQueuedExecutions_withoutRunningAStorageNodeTwice() throws {
        let data = ServerProcess.temporaryDirectory()
        let seedPath = data + "/seed.json"
        try WorkflowSeeds.blogWithLogs.replacingOccurrences(of: #""records":"#, with: #""workflows": [{"key":"slow","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"first {{$context.data.title}}"}}},{"id":"d","type":"delay","config":{"durationMs":1500}},{"id":"b","type":"create","config":{"collection":"logs","values":{"message":"second {{$context.data.title}}"}}}]}], "records":"#)
            .write(toFile: seedPath, atomically: true, encoding: .utf8)
        var ids: [Int64] = []
        // Kept until the end: a ServerProcess removes its data folder when it goes away.
        let first = try ServerProcess(arguments: ["--seed", seedPath], dataDirectory: data)
        do {
            let server = first
            let token = try String(contentsOfFile: data + "/root.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let client = try HTTPTestClient(port: server.port, defaultHeaders: ["Authorization": "Bearer \(token)"])
            ids = try client.request("POST", "/api/posts:create?triggerWorkflows=slow", body: #"[{"title":"A"},{"title":"B"}]"#).executionIDs
            #expect(ids.count == 2)
            usleep(400_000)
            let midway = try client.request("GET", "/api/executions:get?filterByTk=\(ids[0])").json["data"]
            #expect(midway?["statusName"] == "started", "killed in the middle of the workflow")
            server.signal(SIGKILL)
            _ = server.waitForExit()
        }
        let server = try ServerProcess(dataDirectory: data)
        defer { server.signal(SIGTERM); _ = server.waitForExit(); withExtendedLifetime(first) {} }
        let token = try String(contentsOfFile: data + "/root.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let client = try HTTPTestClient(port: server.port, defaultHeaders: ["Authorization": "Bearer \(token)"])
        for id in ids { #expect(try client.waitForExecution(id)["statusName"] == "resolved") }
        let messages = try client.request("GET", "/api/logs:list?sort=id&paginate=false").json["data"]?.arrayValue?.compactMap { $0["message"]?.stringValue }
        #expect(messages.map(Set.init) == ["first A", "first B", "second A", "second B"], "each node once: \(messages ?? [])")
        #expect(messages?.count == 4)
    }
}
