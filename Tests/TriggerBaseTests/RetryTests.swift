import Foundation
import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// The retry policy over real HTTP (issue 13, item 5): request nodes honour `Retry-After` and stop
/// after their retries, failed write steps back off and end `failed`, the dead-letter view, and
/// bulk `executions:retry`. Time runs on a `ManualClock`: each pause is read off the clock and
/// the test moves it on, so nothing here sleeps or times anything.
@Suite struct RetryTests {
    @Test(arguments: [429, 503])
    func aRequestAnsweredWithRetryAfterWaitsThatLong_thenResolves(status: Int) throws {
        let receiver = try WebhookReceiver(replies: [.init(status: status, headers: [("Retry-After", "1")]), .init(status: 200)])
        let clock = ManualClock()
        let app = try TestApp(seed: ExecutionSeeds.blog, clock: clock)
        try withExtendedLifetime(app) {
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)"}}]}"#)
            let id = try client.fire("hook", #"{"title":"x"}"#)[0]
            receiver.waitForRequests(1)
            #expect(try clock.waitForSleepers(1) == [1_000], "Retry-After: 1 is one second, more than the 200 ms backoff")
            clock.advance(by: 999)
            #expect(clock.pendingPauses == [1], "not a millisecond early")
            #expect(receiver.received.count == 1)
            clock.advance(by: 1)
            let execution = try client.awaitExecution(id)
            #expect(execution["statusName"] == "resolved", "\(execution)")
            #expect(execution["attempts"] == .int(2) && execution["lastError"] == .string("HTTP \(status)"), "\(execution)")
            #expect(execution.job("r")?["result"]?["status"] == .int(200))
            #expect(receiver.received.map(\.idempotencyKey) == ["\(id)-r", "\(id)-r"], "one key for both tries")
        }
    }

    @Test func aRequestFailingEveryTimeWithRetries2_endsFailedAfterThreeAttempts_onTheBackoffSchedule() throws {
        let receiver = try WebhookReceiver(statuses: [500])
        let clock = ManualClock()
        let app = try TestApp(seed: ExecutionSeeds.blog, clock: clock)
        try withExtendedLifetime(app) {
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","retries":2}},{"id":"after","type":"create","config":{"collection":"logs","values":{"message":"never"}}}]}"#)
            let id = try client.fire("hook", #"{"title":"x"}"#)[0]
            for (tries, ceiling) in [(1, Int64(200)), (2, 400)] {
                receiver.waitForRequests(tries)
                let pause = try #require(try clock.waitForSleepers(1).first)
                #expect(pause >= ceiling / 2 && pause <= ceiling, "pause \(tries): \(pause) ms, expected \(ceiling / 2)...\(ceiling)")
                clock.advance(by: pause)
            }
            let failed = try client.awaitExecution(id)
            #expect(failed["status"] == .int(-1) && failed["statusName"] == "failed", "\(failed)")
            #expect(failed["attempts"] == .int(3) && failed["lastError"] == "HTTP 500", "\(failed)")
            #expect(failed.job("r")?["result"]?["status"] == .int(500) && failed.job("after") == nil)
            #expect(receiver.received.count == 3, "the first try and two retries")
            #expect(clock.requestedPauses.count == 2, "no pause after the last try")
            #expect(try app.count("logs") == 0)
            // The dead-letter view.
            #expect(try client.listExecutions(#"{"status":-1}"#) == [id])
            #expect(try client.listExecutions(#"{"statusName":"failed","attempts":{"$gte":3}}"#) == [id])
        }
    }

    @Test func aWorkflowsOptionsRetriesApplyToItsRequestNodes_andANodesOwnRetriesWin() throws {
        let receiver = try WebhookReceiver(statuses: [503])
        let clock = ManualClock()
        let app = try TestApp(seed: ExecutionSeeds.blog, clock: clock)
        try withExtendedLifetime(app) {
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"once","enabled":true,"options":{"retries":1},"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url("/once"))"}}]}"#)
            try client.saveWorkflow(#"{"key":"never","enabled":true,"options":{"retries":5},"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url("/never"))","retries":0}}]}"#)
            let ids = try client.fire("once,never", #"{"title":"x"}"#)
            clock.advance(by: try #require(try clock.waitForSleepers(1).first))
            for id in ids { #expect(try client.awaitExecution(id)["statusName"] == "failed") }
            #expect(try client.execution(ids[0])["attempts"] == .int(2))
            #expect(try client.execution(ids[1])["attempts"] == .int(1))
            #expect(receiver.received.filter { $0.path == "/once" }.count == 2 && receiver.received.filter { $0.path == "/never" }.count == 1)
        }
    }

    @Test func optionsRetriesMustBeAnIntegerOfZeroOrMore() throws {
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            for bad in ["-1", "\"3\"", "1.5"] {
                let response = try client.request("POST", "/api/workflows:create", body: #"{"key":"w","options":{"retries":\#(bad)},"config":{"collection":"posts"},"nodes":[]}"#)
                #expect(response.status == 400 && response.errorCodeOfFirst == "INVALID_WORKFLOW", "retries \(bad): \(response.text)")
            }
            #expect(try client.request("POST", "/api/workflows:create", body: #"{"key":"w","options":{"retries":0},"config":{"collection":"posts"},"nodes":[]}"#).status == 200)
        }
    }

    // MARK: Write steps

    @Test func aWriteStepThatKeepsFailing_backsOff_thenEndsFailedWithRetriesExhausted() throws {
        let clock = ManualClock()
        let app = try TestApp(seed: ExecutionSeeds.blog, clock: clock)
        try withExtendedLifetime(app) {
            let client = try app.client()
            // Storage refuses to finish the execution (as a full or broken disk would): the whole step rolls back.
            try app.refuseExecutionStatus(when: #"NEW."status" = 1"#)
            try client.saveWorkflow(#"{"key":"log","enabled":true,"options":{"retries":2},"config":{"collection":"posts"},"nodes":[{"id":"w","type":"create","config":{"collection":"logs","values":{"message":"hi"}}}]}"#)
            let id = try client.fire("log", #"{"title":"x"}"#)[0]
            for ceiling: Int64 in [500, 1_000] {
                let pause = try #require(try clock.waitForSleepers(1).first)
                #expect(pause >= ceiling / 2 && pause <= ceiling, "\(pause) ms, expected \(ceiling / 2)...\(ceiling)")
                #expect(try client.execution(id)["statusName"] == "queued", "the failed step left no trace")
                clock.advance(by: pause)
            }
            let failed = try client.awaitExecution(id)
            #expect(failed["statusName"] == "failed" && failed["reason"] == .string(ExecutionEngine.retriesExhausted), "\(failed)")
            #expect(failed["attempts"] == .int(3), "\(failed)")
            #expect(failed["lastError"]?.stringValue?.contains("simulated storage failure") == true, "\(failed)")
            #expect(failed["jobs"]?.arrayValue?.isEmpty == true && failed["finishedAt"]?.stringValue != nil)
            #expect(try app.count("logs") == 0, "every try rolled back")
            #expect(try client.listExecutions(#"{"status":-1}"#) == [id])
        }
    }

    @Test func whenEndingTheExecutionFailedAlsoFails_itIsTriedAgainOnTheCap_untilItCommits() throws {
        let clock = ManualClock()
        let app = try TestApp(seed: ExecutionSeeds.blog, clock: clock)
        try withExtendedLifetime(app) {
            let client = try app.client()
            try app.refuseExecutionStatus(when: #"NEW."status" != 0"#)
            try client.saveWorkflow(#"{"key":"log","enabled":true,"options":{"retries":0},"config":{"collection":"posts"},"nodes":[{"id":"w","type":"create","config":{"collection":"logs","values":{"message":"hi"}}}]}"#)
            let id = try client.fire("log", #"{"title":"x"}"#)[0]
            let cap = RetryPolicy.writeStep(retries: 0).capMilliseconds
            #expect(try clock.waitForSleepers(1) == [cap], "no retries, and the failed end waits the cap")
            clock.advance(by: cap)
            #expect(try clock.waitForSleepers(1) == [cap], "still refused: tried again, not dropped")
            #expect(try client.execution(id)["statusName"] == "queued")
            try app.allowExecutionStatus()
            clock.advance(by: cap)
            let failed = try client.awaitExecution(id)
            #expect(failed["statusName"] == "failed" && failed["reason"] == "retries exhausted" && failed["attempts"] == .int(1), "\(failed)")
            #expect(try app.count("logs") == 0)
        }
    }

    // MARK: executions:retry with a filter

    @Test func retryByFilterRestartsTheMatchingFailedExecutions_resetsAttempts_andAnswersTheList() throws {
        let receiver = try WebhookReceiver(statuses: [500, 500, 200])
        try withTestApp(seed: ExecutionSeeds.blog) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"notify","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"r","type":"request","config":{"url":"\#(receiver.url)","retries":0}}]}"#)
            try client.saveWorkflow(#"{"key":"gate","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"c","type":"condition","config":{"filter":{"$context.data.views":{"$gt":100}},"rejectOnFalse":true}}]}"#)
            let first = try client.fire("notify,gate", #"{"title":"a"}"#)
            let second = try client.fire("notify", #"{"title":"b"}"#)
            for id in first + second { #expect(try client.awaitExecution(id)["statusName"] == "failed") }
            let notify = [first[0], second[0]]
            #expect(try client.execution(notify[0])["attempts"] == .int(1) && client.execution(notify[0])["lastError"] == "HTTP 500")

            let filter = #"{"status":-1,"key":"notify"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let retried = try client.request("POST", "/api/executions:retry?filter=\(filter)")
            #expect(retried.status == 200, "\(retried.text)")
            let rows = try #require(retried.json["data"]?.arrayValue)
            #expect(rows.compactMap { $0["id"]?.intValue } == notify, "the matching failed ones, oldest first")
            #expect(rows.allSatisfy { $0["statusName"] == "started" && $0["attempts"] == .int(0) && $0["lastError"] == .null }, "\(rows)")
            #expect(retried.json["meta"]?["count"] == .int(2))
            for id in notify {
                let resolved = try client.awaitExecution(id)
                #expect(resolved["statusName"] == "resolved" && resolved["attempts"] == .int(0) && resolved["lastError"] == .null, "\(resolved)")
            }
            #expect(try client.execution(first[1])["statusName"] == "failed", "the other key's execution is left alone")

            let none = try client.request("POST", "/api/executions:retry?filter=\(filter)")
            #expect(none.status == 200 && none.json["data"] == [], "nothing failed is left: \(none.text)")
            let bad = try client.request("POST", "/api/executions:retry?filter=%7Bnope")
            #expect(bad.status == 400, "\(bad.text)")
            #expect(try client.request("POST", "/api/executions:retry").status == 400, "neither filterByTk nor filter")
        }
    }
}

extension TestApp {
    /// Makes storage fail every write of an execution's status that meets `condition` (as a full
    /// or broken disk would), with triggers; `allowExecutionStatus` drops them.
    func refuseExecutionStatus(when condition: String) throws {
        if TestBackend.isPostgres {
            try execute(#"CREATE FUNCTION "refuse"() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$ LANGUAGE plpgsql"#)
            try execute(#"CREATE TRIGGER "refuse" BEFORE INSERT OR UPDATE OF "status" ON "executions" FOR EACH ROW WHEN (\#(condition)) EXECUTE FUNCTION "refuse"()"#)
        } else {
            // A run that ends in the write that fired it inserts its execution already ended.
            for (name, event) in [("refuse", "UPDATE OF \"status\""), ("refuse_insert", "INSERT")] {
                try execute(#"CREATE TRIGGER "\#(name)" BEFORE \#(event) ON "executions" WHEN \#(condition) BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END"#)
            }
        }
    }

    /// Storage finishes executions again (undoes `refuseExecutionStatus`).
    func allowExecutionStatus() throws {
        if TestBackend.isPostgres {
            try execute(#"DROP TRIGGER "refuse" ON "executions""#)
        } else {
            try execute(#"DROP TRIGGER "refuse""#)
            try execute(#"DROP TRIGGER "refuse_insert""#)
        }
    }

    /// Runs `sql` on the writer (a test's way to make storage misbehave).
    func execute(_ sql: String) throws {
        let database = application.database
        _ = try application.runBlocking { try await database.write { connection in try connection.run(sql) } }
    }
}
