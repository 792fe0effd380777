import Foundation
import Glibc
import JSON
import Testing

/// Spec 04 over real HTTP: sync answers, every node type, templates, the executions API, the
/// dispatcher (order, concurrency, retries, timeouts) and — with the real binary — crash and resume.
/// Every wait polls `executions:get` until the execution is final; nothing relies on a fixed sleep
/// except where a test must show that something does *not* happen.
@Suite struct ExecutionTests {
    // MARK: Sync workflows
    //
    // These tests are async and send the requests that fire sync workflows from a thread of their
    // own: a sync answer on the create fast path is produced by a plain `Task {}` on the global
    // cooperative pool (see `syncAnswersDoNotNeedAFreeThreadOfTheGlobalPool`), which blocking test
    // functions would otherwise starve.

    @Test func syncWorkflowsAnswerWithTheRecordAndTheirMessagesInRunOrder() async throws {
        try await withAppOffPool(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hi","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m1","type":"response-message","config":{"message":"Hi {{$context.data.title}}"}},{"id":"m2","type":"response-message","config":{"message":"views={{$context.data.views}}"}}]}"#)
            try client.saveWorkflow(#"{"key":"bye","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"Bye {{$context.data.title}}"}}]}"#)

            let ok = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=hi,bye", body: #"{"title":"Ann","views":3}"#)
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.json["messages"] == [["message": "Hi Ann"], ["message": "views=3"], ["message": "Bye Ann"]])
            let record = try #require(ok.json["data"])
            #expect(record["title"] == "Ann" && record["views"] == .int(3) && record["id"]?.intValue != nil, "data is the record: \(record)")
            // Sync executions ran before the answer: they are final on the very first read.
            let ids = ok.fired
            #expect(ids.count == 2)
            for id in ids { #expect(try client.execution(id)["statusName"] == "resolved") }

            let reversed = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=bye,hi", body: #"{"title":"Bo","views":1}"#)
            #expect(reversed.status == 200)
            #expect(reversed.json["messages"] == [["message": "Bye Bo"], ["message": "Hi Bo"], ["message": "views=1"]], "in the order named")
        }
    }

    @Test func syncEndFailedAnswers400WithTheMessagesSoFar_andTheRecordIsCommitted() async throws {
        try await withAppOffPool(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"first","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"checked {{$context.data.title}}"}}]}"#)
            try client.saveWorkflow(#"{"key":"deny","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"not allowed"}},{"id":"e","type":"end","config":{"endStatus":"failed"}},{"id":"after","type":"response-message","config":{"message":"never"}}]}"#)
            let denied = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=first,deny", body: #"{"title":"Bob"}"#)
            #expect(denied.status == 400, "\(denied.text)")
            #expect(denied.json["errors"] == [["message": "checked Bob"], ["message": "not allowed"]])
            #expect(denied.json["data"] == nil)
            let ids = denied.fired
            #expect(ids.count == 2)
            let deny = try client.execution(ids[1])
            #expect(deny["status"] == .int(-1) && deny["statusName"] == "failed")
            #expect(deny.job("e")?["statusName"] == "failed" && deny.job("after") == nil)
            #expect(try app.rows("SELECT title FROM posts").map { $0["title"] } == ["Bob"], "the write stands")
        }
    }

    @Test func syncFailingOrErroringNodeAnswers500WorkflowFailed_andTheRecordIsCommitted() async throws {
        try await withAppOffPool(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"strict","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":100}},"rejectOnFalse":true}},{"id":"m","type":"response-message","config":{"message":"never"}}]}"#)
            try client.saveWorkflow(#"{"key":"broken","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"u","type":"update","config":{"collection":"logs","filter":{},"values":{"message":"all"}}}]}"#)
            let failed = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=strict", body: #"{"title":"Cy","views":5}"#)
            #expect(failed.status == 500 && failed.errorCodeOfFirst == "WORKFLOW_FAILED", "\(failed.text)")
            #expect(try client.execution(try #require(failed.fired.first))["status"] == .int(-1))

            let errored = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=broken", body: #"{"title":"Di"}"#)
            #expect(errored.status == 500 && errored.errorCodeOfFirst == "WORKFLOW_FAILED", "\(errored.text)")
            #expect(try client.execution(try #require(errored.fired.first))["status"] == .int(-2))

            // The same condition passing: 200, so the 500 above came from the failed node.
            let passed = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=strict", body: #"{"title":"Ed","views":500}"#)
            #expect(passed.status == 200 && passed.json["messages"] == [["message": "never"]], "\(passed.text)")
            #expect(try app.rows("SELECT title FROM posts ORDER BY id").map { $0["title"] } == ["Cy", "Di", "Ed"], "every write stands")
        }
    }

    @Test func syncEndResolvedStopsTheRemainingWorkflows_whichEndCanceledAndNeverRun() async throws {
        try await withAppOffPool(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"stop","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"stopping"}},{"id":"e","type":"end","config":{"endStatus":"resolved"}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"after end"}}}]}"#)
            try client.saveWorkflow(#"{"key":"rest","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"create","config":{"collection":"logs","values":{"message":"rest ran"}}},{"id":"m","type":"response-message","config":{"message":"rest"}}]}"#)
            let stopped = try await client.requestOffPool("POST", "/api/posts:create?triggerWorkflows=stop,rest", body: #"{"title":"Di"}"#)
            #expect(stopped.status == 200, "\(stopped.text)")
            #expect(stopped.json["messages"] == [["message": "stopping"]])
            let ids = stopped.fired
            try #require(ids.count == 2)
            #expect(try client.execution(ids[0])["statusName"] == "resolved")
            let rest = try client.execution(ids[1])
            #expect(rest["status"] == .int(-4) && rest["statusName"] == "canceled", "\(rest)")
            #expect(rest["jobs"]?.arrayValue?.isEmpty == true)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try client.execution(ids[1])["statusName"] == "canceled", "the dispatcher never picks it up")
            #expect(try app.count("logs") == 0, "neither the node after end nor the canceled workflow ran")
            #expect(try app.count("posts") == 1)
        }
    }

    /// The create fast path (a caller whose token is cached) produces a sync answer in a plain
    /// `Task {}` (ResourceService.createImmediately), i.e. on the global cooperative pool, while
    /// every other request runs on the application's own request executor. With the pool's few
    /// threads (one per core) busy, the answer waits for one of them to come free.
    @Test
    func syncAnswersDoNotNeedAFreeThreadOfTheGlobalPool() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hi","sync":true,"enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"m","type":"response-message","config":{"message":"Hi {{$context.data.title}}"}}]}"#)
            // Occupy every thread of the global pool (this test function holds one of them already).
            let width = ProcessInfo.processInfo.activeProcessorCount
            let gate = DispatchSemaphore(value: 0), started = DispatchSemaphore(value: 0)
            for _ in 0..<width { Task.detached { blockThread(signaling: started, until: gate) } }
            for _ in 0..<max(1, width - 1) { _ = started.wait(timeout: .now() + 2) }
            let probe = try HTTPTestClient(port: app.port, timeout: 3, defaultHeaders: ["Authorization": "Bearer \(app.rootToken)"])
            let plain = Result { try probe.request("POST", "/api/posts:create", body: #"{"title":"no workflow"}"#) }
            let listed = Result { try probe.request("GET", "/api/executions:list") }
            let answer = Result { try probe.request("POST", "/api/posts:create?triggerWorkflows=hi", body: #"{"title":"Ann"}"#) }
            for _ in 0..<width { gate.signal() }
            #expect((try? plain.get())?.status == 200 && (try? listed.get())?.status == 200, "other requests do not need the pool")
            let response = try answer.get()
            #expect(response.status == 200 && response.json["messages"] == [["message": "Hi Ann"]], "\(response.text)")
        }
    }

    @Test func aDelayNodeInASyncWorkflowIsRefusedWhenSaved() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            let top = try client.request("POST", "/api/workflows:create", body: #"{"key":"slow","sync":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":10}}]}"#)
            #expect(top.status == 400 && top.errorCodeOfFirst == "INVALID_WORKFLOW", "\(top.text)")
            let nested = try client.request("POST", "/api/workflows:create", body: #"{"key":"slow2","sync":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":1}},"then":[{"id":"d","type":"delay","config":{"durationMs":10}}]}}]}"#)
            #expect(nested.status == 400 && nested.errorCodeOfFirst == "INVALID_WORKFLOW", "\(nested.text)")
            let async = try client.request("POST", "/api/workflows:create", body: #"{"key":"slow3","sync":false,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":10}}]}"#)
            #expect(async.status == 200, "an async workflow may wait: \(async.text)")
            #expect(try app.rows("SELECT key FROM workflows").map { $0["key"] } == ["slow3"])
        }
    }

    // MARK: Nodes

    @Test func conditionBranchesRunThenOrElse_thenTheNextNodeOfTheOuterList() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"""
            {"key":"branch","enabled":true,"config":{"collection":"posts"},"nodes":[
              {"id":"c","key":"big","type":"condition","config":{"filter":{"$context.data.views":{"$gte":10}},
                "then":[{"id":"t","type":"create","config":{"collection":"logs","values":{"message":"then {{$context.data.title}}"}}}],
                "else":[{"id":"e","type":"create","config":{"collection":"logs","values":{"message":"else {{$context.data.title}}"}}}]}},
              {"id":"after","type":"create","config":{"collection":"logs","values":{"message":"after {{$context.data.title}} {{$jobsMapByNodeKey.big}}"}}}]}
            """#)
            let big = try client.awaitExecution(try client.fire("branch", #"{"title":"B","views":12}"#)[0])
            #expect(big["statusName"] == "resolved", "\(big)")
            #expect(big.job("c")?["result"] == .bool(true))
            #expect(big.job("t")?["statusName"] == "resolved" && big.job("e") == nil && big.job("after")?["statusName"] == "resolved")

            let small = try client.awaitExecution(try client.fire("branch", #"{"title":"S","views":1}"#)[0])
            #expect(small["statusName"] == "resolved", "\(small)")
            #expect(small.job("c")?["result"] == .bool(false) && small.job("c")?["statusName"] == "resolved")
            #expect(small.job("e")?["statusName"] == "resolved" && small.job("t") == nil && small.job("after") != nil)
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"] } == ["then B", "after B true", "else S", "after S false"])
        }
    }

    @Test func conditionRejectOnFalseFailsTheExecution_withoutItJustResultsFalse() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"gate","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":5}},"rejectOnFalse":true}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"gate passed"}}}]}"#)
            try client.saveWorkflow(#"{"key":"soft","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":5}},"rejectOnFalse":false}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"soft went on"}}}]}"#)
            let ids = try client.fire("gate,soft", #"{"title":"low","views":1}"#)
            let gate = try client.awaitExecution(ids[0])
            #expect(gate["status"] == .int(-1) && gate["statusName"] == "failed", "\(gate)")
            #expect(gate.job("c")?["statusName"] == "failed" && gate.job("c")?["result"] == .bool(false) && gate.job("x") == nil)
            let soft = try client.awaitExecution(ids[1])
            #expect(soft["statusName"] == "resolved" && soft.job("c")?["result"] == .bool(false))

            let high = try client.awaitExecution(try client.fire("gate", #"{"title":"high","views":9}"#)[0])
            #expect(high["statusName"] == "resolved" && high.job("c")?["result"] == .bool(true))
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"] } == ["soft went on", "gate passed"])
        }
    }

    /// A condition node reads NocoBase's operators as a list query does (NocoBaseOperatorTests
    /// runs the whole table through both), and a malformed operand is refused when saved.
    @Test func conditionNodesTakeNocoBaseOperators_andRefuseMalformedOperands() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"ops","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.title":{"$includes":"HELLO"},"$context.data.createdAt":{"$dateAfter":"2000-01"},"$context.data.meta":{"$isFalsy":true},"$context.data.views":{"$ne":[1,2]}}}}]}"#)
            let yes = try client.awaitExecution(try client.fire("ops", #"{"title":"say hello","views":3}"#)[0])
            #expect(yes.job("c")?["result"] == .bool(true), "\(yes)")
            let no = try client.awaitExecution(try client.fire("ops", #"{"title":"say hello","views":2}"#)[0])
            #expect(no.job("c")?["result"] == .bool(false), "\(no)")
            let bad = try client.request("POST", "/api/workflows:create", body: #"{"key":"bad","config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":{"a":1}}}}}]}"#)
            #expect(bad.status == 400, "\(bad.text)")
        }
    }

    @Test func storageNodesCreateUpdateQueryDestroy_andTheirResults() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            #expect(try client.request("POST", "/api/logs:create", body: #"[{"message":"old one","count":1},{"message":"old two","count":2}]"#).status == 200)
            try client.saveWorkflow(#"""
            {"key":"crud","enabled":true,"config":{"collection":"posts"},"nodes":[
              {"id":"1","key":"log","type":"create","config":{"collection":"logs","values":{"message":"new {{$context.data.title}}","count":"{{$context.data.views}}"}}},
              {"id":"2","key":"bump","type":"update","config":{"collection":"logs","filter":{"id":"{{$jobsMapByNodeKey.log.id}}"},"values":{"message":"updated {{$context.data.title}}","count":"{{$jobsMapByNodeKey.log.id}}"}}},
              {"id":"3","key":"nothing","type":"update","config":{"collection":"logs","filter":{"message":"absent"},"values":{"message":"x"}}},
              {"id":"4","key":"one","type":"query","config":{"collection":"logs","filter":{"id":"{{$jobsMapByNodeKey.log.id}}"}}},
              {"id":"5","key":"none","type":"query","config":{"collection":"logs","filter":{"message":"absent"}}},
              {"id":"6","key":"firstOfMany","type":"query","config":{"collection":"logs","filter":{"message":{"$startsWith":"old"}},"sort":["-id"]}},
              {"id":"7","key":"all","type":"query","config":{"collection":"logs","multiple":true,"sort":["-id"]}},
              {"id":"8","key":"gone","type":"destroy","config":{"collection":"logs","filter":{"message":{"$startsWith":"old"}}}}]}
            """#)
            let run = try client.awaitExecution(try client.fire("crud", #"{"title":"T","views":7}"#)[0])
            #expect(run["statusName"] == "resolved", "\(run)")
            let created = try #require(run.job("1")?["result"])
            let newID = try #require(created["id"]?.intValue)
            #expect(created["message"] == "new T" && created["count"] == .int(7), "create's result is the record: \(created)")
            #expect(run.job("2")?["result"] == .int(1), "update's result is the count")
            #expect(run.job("3")?["result"] == .int(0))
            #expect(run.job("4")?["result"]?["message"] == "updated T" && run.job("4")?["result"]?["count"] == .int(newID))
            #expect(run.job("5")?["result"] == .null, "one record or null")
            #expect(run.job("6")?["result"]?["message"] == "old two", "multiple false: the first by sort, as an object")
            let all = run.job("7")?["result"]?.arrayValue ?? []
            #expect(all.compactMap { $0["message"]?.stringValue } == ["updated T", "old two", "old one"], "multiple true: an array")
            #expect(run.job("8")?["result"] == .int(2), "destroy's result is the count")
            #expect(run["jobs"]?.arrayValue?.allSatisfy { $0["status"] == .int(1) && $0["nodeKey"]?.stringValue?.isEmpty == false } == true)
            #expect(try app.rows("SELECT id, message, count FROM logs") == [["id": String(newID), "message": "updated T", "count": String(newID)]])
        }
    }

    @Test func queryFailOnEmptyFailsTheExecution() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"must","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"q","type":"query","config":{"collection":"posts","filter":{"title":"{{$context.data.title}}","views":{"$gt":10}},"failOnEmpty":true}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"found"}}}]}"#)
            let empty = try client.awaitExecution(try client.fire("must", #"{"title":"few","views":1}"#)[0])
            #expect(empty["status"] == .int(-1) && empty.job("q")?["statusName"] == "failed" && empty.job("x") == nil, "\(empty)")
            let found = try client.awaitExecution(try client.fire("must", #"{"title":"many","views":99}"#)[0])
            #expect(found["statusName"] == "resolved" && found.job("q")?["result"]?["title"] == "many", "\(found)")
            #expect(try app.count("logs") == 1)
        }
    }

    @Test func updateOrDestroyWithoutAFilterIsAnError_andTouchesNothing() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            #expect(try client.request("POST", "/api/logs:create", body: #"[{"message":"keep a"},{"message":"keep b"}]"#).status == 200)
            let missing = try client.request("POST", "/api/workflows:create", body: #"{"key":"noFilter","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"u","type":"update","config":{"collection":"logs","values":{"message":"all"}}}]}"#)
            #expect(missing.status == 400 && missing.json["errors"]?[path: ["0", "field"]] == "nodes[0].config.filter", "refused when saved: \(missing.text)")
            try client.saveWorkflow(#"{"key":"upAll","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"u","type":"update","config":{"collection":"logs","filter":{},"values":{"message":"all"}}}]}"#)
            try client.saveWorkflow(#"{"key":"wipe","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"destroy","config":{"collection":"logs","filter":{}}}]}"#)
            let ids = try client.fire("upAll,wipe", #"{"title":"x"}"#)
            for (id, node) in zip(ids, ["u", "d"]) {
                let execution = try client.awaitExecution(id)
                #expect(execution["status"] == .int(-2) && execution["statusName"] == "error", "\(execution)")
                #expect(execution.job(node)?["status"] == .int(-2) && execution.job(node)?["statusName"] == "error")
                #expect(execution.job(node)?["result"]?["message"]?.stringValue?.contains("filter") == true, "says why: \(execution)")
            }
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"] } == ["keep a", "keep b"])
        }
    }

    @Test func requestNodeSendsTheTemplatedRequest_andStoresStatusHeadersAndData() throws {
        let receiver = try WebhookReceiver(statuses: [201])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"""
            {"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[
              {"id":"r","key":"call","type":"request","config":{"url":"\#(receiver.url("/hook/{{$context.data.id}}"))","method":"PUT",
                "headers":{"X-Source":"triggerbase","X-Title":"{{$context.data.title}}"},
                "body":{"title":"{{$context.data.title}}","views":"{{$context.data.views}}","text":"t={{$context.data.title}}/{{$context.data.views}}"}}},
              {"id":"c","type":"create","config":{"collection":"logs","values":{"message":"status {{$jobsMapByNodeKey.call.status}}","count":"{{$jobsMapByNodeKey.call.data.n}}"}}}]}
            """#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=hook", body: #"{"title":"Hello","views":2}"#)
            let postID = try #require(created.json["data"]?["id"]?.intValue)
            let id = try #require(created.fired.first)
            let execution = try client.awaitExecution(id)
            #expect(execution["statusName"] == "resolved", "\(execution)")

            let received = receiver.received
            try #require(received.count == 1)
            let request = received[0]
            #expect(request.method == "PUT" && request.path == "/hook/\(postID)")
            #expect(request.headers["x-source"] == "triggerbase" && request.headers["x-title"] == "Hello")
            #expect(request.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(request.idempotencyKey == "\(id)-r")
            #expect(request.body == ["title": "Hello", "views": 2, "text": "t=Hello/2"], "views stays a number: \(request.text)")

            let result = try #require(execution.job("r")?["result"])
            #expect(result["status"] == .int(201))
            #expect(result["headers"]?["x-receiver"] == "webhook-test", "\(result)")
            #expect(result["data"]?["ok"] == .bool(true) && result["data"]?["echo"]?["title"] == "Hello")
            #expect(try app.rows("SELECT message, count FROM logs") == [["message": "status 201", "count": "0"]], "the result feeds later nodes")
        }
    }

    @Test func requestNodeFailsOnNon2xx_unlessIgnoreFail() throws {
        let receiver = try WebhookReceiver(statuses: [404])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"strict","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","method":"GET","retries":0}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"strict went on"}}}]}"#)
            try client.saveWorkflow(#"{"key":"lenient","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","method":"GET","retries":0,"ignoreFail":true}},{"id":"x","type":"create","config":{"collection":"logs","values":{"message":"lenient went on"}}}]}"#)
            let ids = try client.fire("strict,lenient", #"{"title":"x"}"#)
            let strict = try client.awaitExecution(ids[0])
            #expect(strict["status"] == .int(-1) && strict.job("r")?["statusName"] == "failed" && strict.job("x") == nil, "\(strict)")
            #expect(strict.job("r")?["result"]?["status"] == .int(404))
            let lenient = try client.awaitExecution(ids[1])
            #expect(lenient["statusName"] == "resolved" && lenient.job("r")?["statusName"] == "resolved", "\(lenient)")
            #expect(lenient.job("r")?["result"]?["status"] == .int(404), "ignoreFail keeps the answer")
            #expect(try app.rows("SELECT message FROM logs").map { $0["message"] } == ["lenient went on"])
            #expect(receiver.received.count == 2 && receiver.received.allSatisfy { $0.method == "GET" })
        }
    }

    @Test func delayNodeKeepsTheExecutionStarted_thenResolves() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"later","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":300}},{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"after the delay"}}}]}"#)
            let began = Date()
            let id = try client.fire("later", #"{"title":"x"}"#)[0]
            let waiting = try client.awaitExecution(id, until: ["started"], timeout: 5)
            #expect(waiting["status"] == .int(0) && waiting.job("d")?["statusName"] == "started", "\(waiting)")
            #expect(try app.count("logs") == 0)
            let done = try client.awaitExecution(id)
            #expect(Date().timeIntervalSince(began) >= 0.3, "it waited the 300 ms")
            #expect(done["statusName"] == "resolved" && done.job("d")?["statusName"] == "resolved" && done.job("d")?["result"] == .null, "\(done)")
            #expect(try app.rows("SELECT message FROM logs").map { $0["message"] } == ["after the delay"])
        }
    }

    @Test func endNodeEndsAnAsyncExecutionResolvedOrFailed() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"done","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"before end"}}},{"id":"e","type":"end","config":{"endStatus":"resolved"}},{"id":"b","type":"create","config":{"collection":"logs","values":{"message":"after resolved end"}}}]}"#)
            try client.saveWorkflow(#"{"key":"fail","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"e","type":"end","config":{"endStatus":"failed"}},{"id":"b","type":"create","config":{"collection":"logs","values":{"message":"after failed end"}}}]}"#)
            let ids = try client.fire("done,fail", #"{"title":"x"}"#)
            let done = try client.awaitExecution(ids[0])
            #expect(done["statusName"] == "resolved" && done.job("e")?["statusName"] == "resolved" && done.job("b") == nil, "\(done)")
            let fail = try client.awaitExecution(ids[1])
            #expect(fail["status"] == .int(-1) && fail.job("e")?["statusName"] == "failed" && fail.job("b") == nil, "\(fail)")
            #expect(try app.rows("SELECT message FROM logs").map { $0["message"] } == ["before end"])
        }
    }

    // MARK: Templates

    @Test func templatesKeepTypesRenderTextNullForNothingUpstreamResultsAndSystemNow() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"""
            {"key":"tpl","enabled":true,"config":{"collection":"posts"},"nodes":[
              {"id":"1","key":"first","type":"create","config":{"collection":"logs","values":{
                "count":"{{$context.data.views}}",
                "message":"views: {{ $context.data.views }}, missing: '{{$context.data.nothing}}', meta: {{$context.data.meta}}",
                "data":{"views":"{{$context.data.views}}","meta":"{{$context.data.meta}}","missing":"{{$context.data.nothing.deeper}}","role":"{{$context.roleName}}"}}}},
              {"id":"2","key":"second","type":"create","config":{"collection":"logs","values":{
                "count":"{{$jobsMapByNodeKey.first.id}}","message":"{{$system.now}}","data":"{{$context.data.nothing}}"}}}]}
            """#)
            let before = Date()
            let run = try client.awaitExecution(try client.fire("tpl", #"{"title":"T","views":12,"meta":{"a":[1,2]}}"#)[0])
            #expect(run["statusName"] == "resolved", "\(run)")
            let first = try #require(run.job("1")?["result"])
            let firstID = try #require(first["id"]?.intValue)
            #expect(first["count"] == .int(12))
            #expect(first["message"] == #"views: 12, missing: '', meta: {"a":[1,2]}"#, "text renders values as text, nothing as ''")
            #expect(first["data"] == ["views": 12, "meta": ["a": [1, 2]], "missing": nil, "role": "root"], "a whole-string template keeps the JSON type")
            if !TestBackend.isPostgres {  // a PostgreSQL column holds nothing but its type
                #expect(try app.rows("SELECT typeof(count) AS t FROM logs WHERE id = \(firstID)")[0]["t"] == "integer")
            }

            let second = try #require(run.job("2")?["result"])
            #expect(second["count"] == .int(firstID), "an upstream node's result")
            #expect(second["data"] == .null, "a path to nothing is null")
            let now = try #require(second["message"]?.stringValue)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let stamp = try #require(formatter.date(from: now), "$system.now is an ISO timestamp: \(now)")
            #expect(abs(stamp.timeIntervalSince(before)) < 10, "\(now)")
        }
    }

    // MARK: Executions API

    @Test func executionsListFiltersByKeyStatusStatusNameAndWorkflowId_getAppendsJobs() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            let okID = try #require(try client.saveWorkflow(#"{"key":"ok","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"n","key":"write","type":"create","config":{"collection":"logs","values":{"message":"ok"}}}]}"#)["id"]?.intValue)
            try client.saveWorkflow(#"{"key":"bad","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","key":"gate","type":"condition","config":{"filter":{"$context.data.views":{"$gt":100}},"rejectOnFalse":true}}]}"#)
            let first = try client.fire("ok,bad", #"{"title":"one"}"#)
            let second = try client.fire("ok,bad", #"{"title":"two"}"#)
            for id in first + second { _ = try client.awaitExecution(id) }
            let okIDs = Set([first[0], second[0]]), badIDs = Set([first[1], second[1]])

            #expect(try client.listExecutions(#"{"key":"ok"}"#) == okIDs)
            #expect(try client.listExecutions(#"{"key":"bad"}"#) == badIDs)
            #expect(try client.listExecutions(#"{"status":1}"#) == okIDs)
            #expect(try client.listExecutions(#"{"status":-1}"#) == badIDs)
            #expect(try client.listExecutions(#"{"statusName":"failed"}"#) == badIDs)
            #expect(try client.listExecutions(#"{"statusName":"resolved"}"#) == okIDs)
            #expect(try client.listExecutions(#"{"workflowId":\#(okID)}"#) == okIDs)
            #expect(try client.listExecutions(#"{"key":"bad","statusName":"resolved"}"#) == [])

            let plain = try client.request("GET", "/api/executions:get?filterByTk=\(first[0])").json["data"]
            #expect(plain?["jobs"] == nil, "jobs only when appended")
            #expect(plain?["context"]?["data"]?["title"] == "one" && plain?["key"] == "ok" && plain?["workflowId"] == .int(okID))
            #expect(plain?["startedAt"]?.stringValue != nil && plain?["finishedAt"]?.stringValue != nil)
            let bad = try client.execution(first[1])
            let job = try #require(bad["jobs"]?.arrayValue?.first)
            #expect(job["nodeId"] == "c" && job["nodeKey"] == "gate" && job["status"] == .int(-1) && job["statusName"] == "failed" && job["result"] == .bool(false), "\(job)")
            #expect(try client.request("GET", "/api/executions:get?filterByTk=999999").json["data"] == .null)
        }
    }

    @Test func cancelingADelayedExecutionEndsIt_andItNeverResumes() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"held","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"d","type":"delay","config":{"durationMs":800}},{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"should not exist"}}}]}"#)
            let began = Date()
            let id = try client.fire("held", #"{"title":"x"}"#)[0]
            _ = try client.awaitExecution(id, until: ["started"], timeout: 5)
            let canceled = try client.request("POST", "/api/executions:cancel?filterByTk=\(id)")
            #expect(canceled.status == 200, "\(canceled.text)")
            #expect(canceled.json["data"]?["statusName"] == "canceled" && canceled.json["data"]?["status"] == .int(-4) && canceled.json["data"]?["id"] == .int(id))
            // Past the delay's end (+ 300 ms): it must not wake up and run on.
            usleep(UInt32(max(0, began.addingTimeInterval(1.1).timeIntervalSinceNow) * 1_000_000))
            let after = try client.execution(id)
            #expect(after["statusName"] == "canceled" && after["finishedAt"]?.stringValue != nil, "\(after)")
            #expect(after.job("d")?["statusName"] == "canceled" && after.job("a") == nil)
            #expect(try app.count("logs") == 0)
        }
    }

    @Test func cancelingAQueuedExecutionMeansItNeverRuns() throws {
        let receiver = try WebhookReceiver(statuses: [200], delay: 0.3)
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"one","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)"}}]}"#)
            let ids = try client.fire("one", #"[{"title":"first"},{"title":"second"}]"#)
            try #require(ids.count == 2)
            receiver.waitForRequests(1, timeout: 5)
            #expect(try client.execution(ids[1])["statusName"] == "queued", "waits behind the first (concurrency 1)")
            let canceled = try client.request("POST", "/api/executions:cancel?filterByTk=\(ids[1])")
            #expect(canceled.status == 200 && canceled.json["data"]?["statusName"] == "canceled", "\(canceled.text)")
            #expect(try client.awaitExecution(ids[0])["statusName"] == "resolved")
            usleep(300_000)
            let second = try client.execution(ids[1])
            #expect(second["statusName"] == "canceled" && second["jobs"]?.arrayValue?.isEmpty == true, "\(second)")
            #expect(receiver.received.map(\.idempotencyKey) == ["\(ids[0])-r"], "the canceled one sent nothing")
        }
    }

    @Test func cancelingAFinishedExecutionIs409() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"quick","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"done"}}}]}"#)
            let id = try client.fire("quick", #"{"title":"x"}"#)[0]
            #expect(try client.awaitExecution(id)["statusName"] == "resolved")
            let refused = try client.request("POST", "/api/executions:cancel?filterByTk=\(id)")
            #expect(refused.status == 409, "\(refused.text)")
            #expect(try client.execution(id)["statusName"] == "resolved")
            #expect(try client.request("POST", "/api/executions:cancel?filterByTk=999999").status == 404)
        }
    }

    @Test func retryingAFailedExecutionKeepsItsId_resolves_andDoesNotRerunFinishedJobs() throws {
        let receiver = try WebhookReceiver(statuses: [500, 200])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"before"}}},{"id":"r","type":"request","config":{"url":"\#(receiver.url)","retries":0}},{"id":"b","type":"create","config":{"collection":"logs","values":{"message":"after"}}}]}"#)
            let id = try client.fire("hook", #"{"title":"x"}"#)[0]
            let failed = try client.awaitExecution(id)
            #expect(failed["statusName"] == "failed" && failed.job("r")?["result"]?["status"] == .int(500), "\(failed)")
            let firstJob = try #require(failed.job("a"))

            let retried = try client.request("POST", "/api/executions:retry?filterByTk=\(id)")
            #expect(retried.status == 200, "\(retried.text)")
            #expect(retried.json["data"]?["id"] == .int(id))
            let resolved = try client.awaitExecution(id)
            #expect(resolved["statusName"] == "resolved", "\(resolved)")
            #expect(resolved.job("a") == firstJob, "the resolved job is kept as it was")
            #expect(resolved.job("r")?["result"]?["status"] == .int(200))
            #expect(try app.rows("SELECT message FROM logs ORDER BY id").map { $0["message"] } == ["before", "after"], "the create node ran once")
            #expect(receiver.received.map(\.idempotencyKey) == ["\(id)-r", "\(id)-r"])
            #expect(try app.count("executions") == 1, "no new execution")
            #expect(try client.request("POST", "/api/executions:retry?filterByTk=\(id)").status == 409, "a resolved execution is not retried")
        }
    }

    // MARK: Dispatcher

    @Test func oneKeyRunsInCreationOrder_oneAtATimeByDefault() throws {
        let receiver = try WebhookReceiver(statuses: [200], delay: 0.1)
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"serial","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","body":{"title":"{{$context.data.title}}"}}}]}"#)
            var ids: [Int64] = []
            for title in ["1", "2", "3"] { ids += try client.fire("serial", #"{"title":"\#(title)"}"#) }
            for id in ids { #expect(try client.awaitExecution(id)["statusName"] == "resolved") }
            let received = receiver.received
            #expect(received.map(\.idempotencyKey) == ids.map { "\($0)-r" }, "arrival order is execution order")
            #expect(received.map { $0.body["title"] } == ["1", "2", "3"])
            #expect(receiver.maxInFlight == 1, "never two at once")
            for (earlier, later) in zip(received, received.dropFirst()) {
                #expect(later.arrived >= (earlier.answered ?? .distantFuture), "the next starts after the previous answer")
            }
        }
    }

    @Test func concurrencyTwoLetsTwoOverlap_andDifferentKeysRunSideBySide() throws {
        let receiver = try WebhookReceiver(statuses: [200], delay: 0.4)
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"two","enabled":true,"options":{"concurrency":2},"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url("/two"))"}}]}"#)
            let ids = try client.fire("two", #"[{"title":"1"},{"title":"2"},{"title":"3"}]"#)
            #expect(ids.count == 3)
            for id in ids { #expect(try client.awaitExecution(id)["statusName"] == "resolved") }
            #expect(receiver.maxInFlight == 2, "two at a time, never three")
        }
        let other = try WebhookReceiver(statuses: [200], delay: 0.4)
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            for key in ["left", "right"] {
                let url = other.url("/" + key)
                try client.saveWorkflow(#"{"key":"\#(key)","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(url)"}}]}"#)
            }
            let ids = try client.fire("left,right", #"{"title":"x"}"#)
            for id in ids { #expect(try client.awaitExecution(id)["statusName"] == "resolved") }
            #expect(other.maxInFlight == 2, "keys run in parallel")
        }
    }

    @Test func aWebhookFailingTwiceIsRetried_everyAttemptWithTheSameIdempotencyKey() throws {
        let receiver = try WebhookReceiver(statuses: [500, 500, 200])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"send","type":"request","config":{"url":"\#(receiver.url)","body":{"title":"{{$context.data.title}}"}}}]}"#)
            let id = try client.fire("hook", #"{"title":"Hello"}"#)[0]
            let execution = try client.awaitExecution(id)
            #expect(execution["statusName"] == "resolved", "\(execution)")
            #expect(execution.job("send")?["result"]?["status"] == .int(200))
            let received = receiver.received
            #expect(received.count == 3, "two failures, then success")
            #expect(received.map(\.idempotencyKey) == Array(repeating: "\(id)-send", count: 3))
            #expect(received.allSatisfy { $0.body == ["title": "Hello"] })
        }
    }

    @Test func timeoutAbortsAnExecutionWaitingOnADelay() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"tooSlow","enabled":true,"config":{"collection":"posts"},"options":{"timeoutMs":300},"nodes":[{"id":"d","type":"delay","config":{"durationMs":2000}},{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"too late"}}}]}"#)
            let began = Date()
            let id = try client.fire("tooSlow", #"{"title":"x"}"#)[0]
            let aborted = try client.awaitExecution(id)
            #expect(Date().timeIntervalSince(began) < 1.8, "aborted at the timeout, not after the delay")
            #expect(aborted["status"] == .int(-3) && aborted["statusName"] == "aborted" && aborted["reason"] == "timeout", "\(aborted)")
            #expect(aborted.job("a") == nil)
            #expect(try app.count("logs") == 0)
        }
    }

    /// A request node cut off by the timeout leaves its job `aborted` (see above); a delay node cut
    /// off the same way leaves its job `started` (0) under an execution that has ended, and
    /// `executions:cancel` does mark waiting jobs (`canceled`).
    @Test
    func aTimeoutDoesNotLeaveTheDelayJobStarted() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"tooSlow","enabled":true,"config":{"collection":"posts"},"options":{"timeoutMs":200},"nodes":[{"id":"d","type":"delay","config":{"durationMs":2000}}]}"#)
            let aborted = try client.awaitExecution(try client.fire("tooSlow", #"{"title":"x"}"#)[0])
            #expect(aborted["statusName"] == "aborted")
            #expect(aborted.job("d")?["status"] == .int(-3) && aborted.job("d")?["statusName"] == "aborted", "\(aborted.job("d")?.serialized() ?? "no job")")
        }
    }

    @Test func timeoutAbortsAnExecutionWaitingOnASlowReceiver() throws {
        let receiver = try WebhookReceiver(statuses: [200], delay: 3)
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"tooSlow","enabled":true,"config":{"collection":"posts"},"options":{"timeoutMs":300},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)"}},{"id":"a","type":"create","config":{"collection":"logs","values":{"message":"too late"}}}]}"#)
            let began = Date()
            let id = try client.fire("tooSlow", #"{"title":"x"}"#)[0]
            let aborted = try client.awaitExecution(id)
            #expect(Date().timeIntervalSince(began) < 2.5, "aborted at the timeout, not when the receiver answers")
            #expect(aborted["status"] == .int(-3) && aborted["reason"] == "timeout", "\(aborted)")
            #expect(aborted.job("r")?["statusName"] == "aborted", "the request's job ends with the execution")
            #expect(aborted.job("a") == nil)
            #expect(try app.count("logs") == 0)
            #expect(receiver.received.count >= 1)
        }
    }

    // MARK: Crash and resume, with the real binary

    @Test func aKilledServerResumesAStartedExecutionAfterItsDelay_andCreatesOnce() throws {
        let data = ServerProcess.temporaryDirectory()
        let seedPath = data + "/seed.json"
        try ExecutionSeeds.blog.replacingOccurrences(of: #""records":"#, with: #"""
        "workflows": [ { "key": "slow", "enabled": true, "config": { "collection": "posts" },
                         "nodes": [ { "id": "d", "type": "delay", "config": { "durationMs": 1500 } },
                                    { "id": "c", "type": "create", "config": { "collection": "logs", "values": { "message": "after {{$context.data.title}}" } } } ] },
                       { "key": "logged", "enabled": true, "config": { "collection": "posts" },
                         "nodes": [ { "id": "b", "type": "create", "config": { "collection": "logs", "values": { "message": "logged before {{$context.data.title}}" } } },
                                    { "id": "d", "type": "delay", "config": { "durationMs": 1500 } },
                                    { "id": "c", "type": "create", "config": { "collection": "logs", "values": { "message": "logged after {{$context.data.title}}" } } } ] } ],
        "records":
        """#).write(toFile: seedPath, atomically: true, encoding: .utf8)
        // Kept to the end: a ServerProcess removes its data folder when it goes away.
        let first = try ServerProcess(arguments: ["--seed", seedPath], dataDirectory: data)
        let ids: [Int64]
        let created: Date
        do {
            let client = try first.rootClient()
            created = Date()
            ids = try client.fire("slow,logged", #"{"title":"A"}"#)
            try #require(ids.count == 2)
            for id in ids {
                let started = try client.awaitExecution(id, until: ["started"], timeout: 5)
                #expect(started.job("d")?["statusName"] == "started" && started.job("c") == nil, "killed while the delay waits: \(started)")
            }
            #expect(try client.execution(ids[1]).job("b")?["statusName"] == "resolved", "the node before the delay has run")
            first.signal(SIGKILL)
            #expect(first.waitForExit() != nil)
        }
        let second = try ServerProcess(dataDirectory: data)
        defer { second.signal(SIGTERM); _ = second.waitForExit(); withExtendedLifetime(first) {} }
        let client = try second.rootClient()
        for id in ids {
            let resumed = try client.awaitExecution(id)
            #expect(resumed["statusName"] == "resolved", "\(resumed)")
            #expect(resumed.job("d")?["statusName"] == "resolved" && resumed.job("c")?["statusName"] == "resolved")
        }
        #expect(Date().timeIntervalSince(created) >= 1.5, "the delay is kept across the restart")
        let logs = try client.request("GET", "/api/logs:list?paginate=false&sort=id").json["data"]?.arrayValue ?? []
        #expect(logs.compactMap { $0["message"]?.stringValue }.sorted() == ["after A", "logged after A", "logged before A"],
                "each create node ran exactly once, before and after the crash")
    }

    @Test func executionsLeftQueuedOrStartedByAKillRunAfterRestart_inOrder() throws {
        // The first call hangs until the server is killed; every later one is answered at once.
        let receiver = try WebhookReceiver(replies: [.init(status: 200, delay: 3), .init(status: 200)])
        let data = ServerProcess.temporaryDirectory()
        try ExecutionSeeds.blog.write(toFile: data + "/seed.json", atomically: true, encoding: .utf8)
        // Kept to the end: a ServerProcess removes its data folder when it goes away.
        let first = try ServerProcess(arguments: ["--seed", data + "/seed.json"], dataDirectory: data)
        var ids: [Int64] = []
        do {
            let client = try first.rootClient()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","retries":0,"body":{"title":"{{$context.data.title}}"}}}]}"#)
            ids = try client.fire("hook", #"[{"title":"1"},{"title":"2"},{"title":"3"}]"#)
            try #require(ids.count == 3)
            #expect(receiver.waitForRequests(1, timeout: 5).count == 1)
            #expect(try client.execution(ids[0])["statusName"] == "started")
            #expect(try client.execution(ids[1])["statusName"] == "queued")
            #expect(try client.execution(ids[2])["statusName"] == "queued")
            first.signal(SIGKILL)
            #expect(first.waitForExit() != nil)
        }
        let second = try ServerProcess(dataDirectory: data)
        defer { second.signal(SIGTERM); _ = second.waitForExit(); withExtendedLifetime(first) {} }
        let client = try second.rootClient()
        for id in ids { #expect(try client.awaitExecution(id)["statusName"] == "resolved") }
        let keys = receiver.received.map(\.idempotencyKey)
        let expected: [String?] = ["\(ids[0])-r"] + ids.map { "\($0)-r" }
        #expect(keys == expected, "the interrupted call is sent again with its key, then the queued ones in order: \(keys)")
    }
}

// MARK: - Helpers

/// Seeds for this suite: posts, and a `logs` collection the nodes write to.
enum ExecutionSeeds {
    static let blog = """
    { "collections": [
        { "name": "posts", "fields": [
            { "name": "title", "type": "string", "required": true },
            { "name": "views", "type": "integer", "default": 0 },
            { "name": "meta", "type": "json" } ] },
        { "name": "logs", "fields": [
            { "name": "message", "type": "string" },
            { "name": "count", "type": "integer" },
            { "name": "data", "type": "json" } ] } ],
      "records": {} }
    """
}

extension ServerProcess {
    /// A client acting as root (the token the first start wrote).
    fileprivate func rootClient() throws -> HTTPTestClient {
        let token = try String(contentsOfFile: dataDirectory + "/root.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(token)"])
    }
}

extension HTTPTestClient.Response {
    /// `X-Workflow-Executions` as ids.
    var fired: [Int64] {
        (headers["x-workflow-executions"] ?? "").split(separator: ",").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }

    var errorCodeOfFirst: String? { json["errors"]?[path: ["0", "code"]]?.stringValue }
}

extension JSON {
    /// The job of node `nodeID` in an execution read with `appends=jobs`.
    func job(_ nodeID: String) -> JSON? {
        self["jobs"]?.arrayValue?.first { $0["nodeId"] == .string(nodeID) }
    }
}

/// Holds the calling thread until `gate` is signaled (after signaling `started`).
private func blockThread(signaling started: DispatchSemaphore, until gate: DispatchSemaphore) {
    started.signal()
    gate.wait()
}

/// Lets a non-Sendable value cross to a thread that alone uses it while the owner waits.
private final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `withTestApp` for async tests: the app lives until `body` returns.
private func withAppOffPool(seed: String, _ body: (TestApp) async throws -> Void) async throws {
    let app = try TestApp(seed: seed)
    try await body(app)
    withExtendedLifetime(app) {}
}

extension HTTPTestClient {
    /// `request`, sent from a thread of its own: the calling task waits without holding a thread
    /// of the global cooperative pool.
    fileprivate func requestOffPool(_ method: String, _ target: String, body: String? = nil) async throws -> Response {
        let client = UncheckedBox(self)
        return try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try client.value.request(method, target, body: body) }) }.start()
        }
    }
}

let finalStatusNames: Set<String> = ["resolved", "failed", "error", "aborted", "canceled"]

extension HTTPTestClient {
    /// Saves a workflow with `workflows:create`; its data.
    @discardableResult
    func saveWorkflow(_ body: String) throws -> JSON {
        let response = try request("POST", "/api/workflows:create", body: body)
        guard response.status == 200, let data = response.json["data"] else {
            throw Failure(description: "workflows:create answered \(response.status): \(response.text)")
        }
        return data
    }

    /// Creates posts from `body` naming `keys` in `triggerWorkflows`; the ids of the executions fired.
    func fire(_ keys: String, _ body: String) throws -> [Int64] {
        let response = try request("POST", "/api/posts:create?triggerWorkflows=\(keys)", body: body)
        guard response.status == 200, !response.fired.isEmpty else {
            throw Failure(description: "posts:create answered \(response.status) firing \(response.fired): \(response.text)")
        }
        return response.fired
    }

    /// One read of an execution with its jobs.
    func execution(_ id: Int64) throws -> JSON {
        let response = try request("GET", "/api/executions:get?filterByTk=\(id)&appends=jobs")
        guard response.status == 200, let data = response.json["data"], !data.isNull else {
            throw Failure(description: "executions:get \(id) answered \(response.status): \(response.text)")
        }
        return data
    }

    /// Polls the execution until its `statusName` is one of `names` (by default, any final one).
    func awaitExecution(_ id: Int64, until names: Set<String> = finalStatusNames, timeout: Double = 10) throws -> JSON {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let execution = try execution(id)
            let name = execution["statusName"]?.stringValue ?? ""
            if names.contains(name) { return execution }
            if finalStatusNames.contains(name) {
                throw Failure(description: "execution \(id) ended \(name) before reaching \(names.sorted()): \(execution.serialized())")
            }
            if Date() > deadline {
                throw Failure(description: "execution \(id) did not reach \(names.sorted()) in \(timeout) s: \(execution.serialized())")
            }
            usleep(15_000)
        }
    }

    /// The ids `executions:list` returns for `filter` (JSON).
    func listExecutions(_ filter: String) throws -> Set<Int64> {
        let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filter
        let response = try request("GET", "/api/executions:list?paginate=false&filter=\(encoded)")
        guard response.status == 200, let rows = response.json["data"]?.arrayValue else {
            throw Failure(description: "executions:list answered \(response.status): \(response.text)")
        }
        return Set(rows.compactMap { $0["id"]?.intValue })
    }
}
