import Foundation
import Testing
@testable import API
import JSON
@testable import Model
import WebUI

/// The built-in page at `/ui`, served by the real server and driven in headless Chromium (issue
/// 18): sign in, see a fired workflow's execution and its jobs, retry a failed one, and a member
/// who sees only what the API lets a member see. Skipped without Chromium (`.ci/run` installs it).
@Suite(.enabled(if: HeadlessBrowser.executable != nil, "needs Chromium (TRIGGERBASE_TEST_CHROMIUM or chromium on PATH)"))
struct WebUITests {
    static let seed = """
    { "collections": [
        { "name": "posts", "fields": [ { "name": "title", "type": "string", "required": true } ] },
        { "name": "logs", "fields": [ { "name": "message", "type": "string" } ] } ],
      "roles": [ { "name": "member", "permissions": { "posts": { "create": {}, "view": {} } } } ],
      "users": [ { "username": "ann", "password": "secret-ann", "roles": ["member"],
                   "tokens": [ { "token": "tb_ui_member_0123456789abcdef" } ] } ] }
    """

    /// Where screenshots go: `TRIGGERBASE_TEST_SCREENSHOTS` when set, else the system's temporary folder.
    static func save(_ png: Data, as name: String) throws -> String {
        let directory = ProcessInfo.processInfo.environment["TRIGGERBASE_TEST_SCREENSHOTS"] ?? NSTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(name)
        try png.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func rootSignsIn_seesAFiredExecutionAndItsJobs_andRetriesAFailedOne() throws {
        let receiver = try WebhookReceiver(statuses: [500, 200])
        try withTestApp(seed: Self.seed) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"log","title":"Log the post","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"write","type":"create","config":{"collection":"logs","values":{"message":"{{$context.data.title}}"}}}]}"#)
            try client.saveWorkflow(#"{"key":"hook","title":"Tell the webhook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"call","type":"request","config":{"url":"\#(receiver.url)","retries":0,"body":{"title":"{{$context.data.title}}"}}}]}"#)
            let browser = try Self.signIn(app.rootToken, port: app.port)
            try browser.wait(for: "document.querySelector('#workflows tr[data-key=\"hook\"]')", what: "the workflows")
            #expect(try browser.evaluate("document.querySelector('#workflows tr[data-key=\"log\"] .version.current').textContent") == "v1")
            #expect(try browser.evaluate("sessionStorage.getItem('triggerbase.token')").stringValue == app.rootToken, "kept for this tab")

            let fired = try client.fire("log,hook", #"{"title":"from the browser"}"#)
            try #require(fired.count == 2)
            let (logID, hookID) = (fired[0], fired[1])
            #expect(try client.awaitExecution(hookID)["statusName"] == "failed")
            // Live refresh (every 2 s) brings both in, with their statuses.
            try browser.wait(for: "document.querySelector('#executions tr[data-execution-id=\"\(hookID)\"][data-status=\"failed\"]')",
                             what: "the failed execution in the list")
            try browser.wait(for: "document.querySelector('#executions tr[data-execution-id=\"\(logID)\"][data-status=\"resolved\"]')",
                             what: "the resolved execution in the list")

            let logJob = try Self.openJob(node: "write", of: logID, in: browser)
            #expect(logJob.type == "create" && logJob.status == "resolved")
            #expect(logJob.text.contains("from the browser"), "the create node's result (the log record)")

            let hookJob = try Self.openJob(node: "call", of: hookID, in: browser)
            #expect(hookJob.type == "request" && hookJob.status == "failed")
            #expect(hookJob.text.contains("500"), "the failed request's answer")
            let path = try Self.save(try browser.screenshot(), as: "triggerbase-ui-timeline.png")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")

            try browser.click("#retry-execution")
            let deadline = Date().addingTimeInterval(15)
            while receiver.received.count < 2 && Date() < deadline { usleep(20_000) }
            #expect(receiver.received.count == 2, "retried from the page: the request is sent again")
            #expect(try client.awaitExecution(hookID)["statusName"] == "resolved", "and the webhook now answers 200")
            try browser.wait(for: "document.querySelector('#executions tr[data-execution-id=\"\(hookID)\"][data-status=\"resolved\"]')",
                             what: "the retried execution resolved in the list")
            try browser.wait(for: "document.querySelector('#timeline li[data-job-node=\"call\"]').dataset.status === 'resolved'",
                             what: "the retried job resolved in the timeline")
            try browser.wait(for: "document.querySelector('#per-minute rect[data-status=\"resolved\"]')", what: "the chart's bar")
            #expect(browser.errors.isEmpty, "no console errors: \(browser.errors)")
        }
    }

    /// A browser that opened the page on `port`, saw the sign-in form and signed in with `token`.
    static func signIn(_ token: String, port: Int) throws -> HeadlessBrowser {
        let browser = try HeadlessBrowser()
        try browser.open("http://127.0.0.1:\(port)/ui")
        try browser.wait(for: "!document.querySelector('#signin').hidden", what: "the sign-in form")
        try browser.type(token, into: "#token")
        try browser.click("#signin-button")
        return browser
    }

    /// Clicks execution `id` in the list and reads its job of `node` from the timeline: the node
    /// type shown, the job's status and all its text.
    static func openJob(node: String, of id: Int64, in browser: HeadlessBrowser) throws -> (type: String?, status: String?, text: String) {
        try browser.click("#executions tr[data-execution-id=\"\(id)\"]")
        let job = "document.querySelector('#timeline[data-execution-id=\"\(id)\"] li[data-job-node=\"\(node)\"]')"
        try browser.wait(for: job, what: "the timeline of execution \(id)")
        let found = try browser.evaluate("(job => ({type: job.querySelector('.type').textContent, status: job.dataset.status, text: job.textContent}))(\(job))")
        return (found["type"]?.stringValue, found["status"]?.stringValue, found["text"]?.stringValue ?? "")
    }

    /// The bulk buttons act on what the filters select (after the page's confirm): every failed
    /// execution of a key is retried, every unfinished one of another key canceled; others untouched.
    @Test func bulkRetryAndCancelActOnWhatTheFiltersSelect() throws {
        let receiver = try WebhookReceiver(statuses: [500, 500, 200])
        try withTestApp(seed: Self.seed) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"hook","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"call","type":"request","config":{"url":"\#(receiver.url)","retries":0}}]}"#)
            try client.saveWorkflow(#"{"key":"wait","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"pause","type":"delay","config":{"durationMs":600000}}]}"#)
            let failed = try [client.fire("hook", #"{"title":"a"}"#)[0], client.fire("hook", #"{"title":"b"}"#)[0]]
            for id in failed { #expect(try client.awaitExecution(id)["statusName"] == "failed") }
            let waiting = try [client.fire("wait", #"{"title":"c"}"#)[0], client.fire("wait", #"{"title":"d"}"#)[0]]
            usleep(20_000)  // a later millisecond than the others
            let untouched = try client.fire("wait", #"{"title":"e"}"#)[0]
            let browser = try Self.signIn(app.rootToken, port: app.port)
            try browser.wait(for: "document.querySelector('#filter-key option[value=\"hook\"]')", what: "the workflow filter")

            try browser.evaluate("document.querySelector('#filter-key').value = 'hook'; document.querySelector('#filter-status').value = 'failed'")
            try browser.click("#retry-matching")
            try browser.wait(for: "document.querySelector('#notice').textContent.includes('Retried 2')", what: "the retry notice")
            for id in failed { #expect(try client.awaitExecution(id, until: ["resolved"])["statusName"] == "resolved") }
            #expect(receiver.received.count == 4, "each failed one sent again")

            // Cancel the two oldest waiting ones: filter by key and by their creation time.
            let createdOfUntouched = try #require(client.execution(untouched)["createdAt"]?.stringValue)
            let until = try #require(Timestamp.milliseconds(createdOfUntouched)) - 1
            try browser.evaluate("""
                document.querySelector('#filter-key').value = 'wait'; document.querySelector('#filter-status').value = '';
                document.querySelector('#filter-to').value = (d => new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 23))(new Date(\(until)))
                """)
            try browser.click("#cancel-matching")
            try browser.wait(for: "document.querySelector('#notice').textContent.includes('Canceled 2')", what: "the cancel notice")
            for id in waiting { #expect(try client.execution(id)["statusName"] == "canceled") }
            #expect(try client.execution(untouched)["statusName"] == "started", "outside the time filter")
            #expect(browser.errors.isEmpty, "no console errors: \(browser.errors)")
        }
    }

    @Test func aMemberSeesOnlyWhatTheAPILetsAMemberSee() throws {
        try withTestApp(seed: Self.seed) { app in
            let client = try app.client()
            try client.saveWorkflow(#"{"key":"log","enabled":true,"config":{"collection":"posts"},"nodes":[{"id":"write","type":"create","config":{"collection":"logs","values":{"message":"x"}}}]}"#)
            _ = try client.awaitExecution(try client.fire("log", #"{"title":"root's"}"#)[0])
            let browser = try Self.signIn("tb_ui_member_0123456789abcdef", port: app.port)
            try browser.wait(for: "!document.querySelector('#notice').hidden", what: "the notice")
            #expect(try browser.evaluate("document.querySelector('#notice').textContent.includes('NO_PERMISSION')") == true)
            #expect(try browser.evaluate("document.querySelector('#manager-view').hidden") == true)
            #expect(try browser.evaluate("document.querySelectorAll('#executions tr[data-execution-id]').length") == 0, "no execution shown")
            // The only error is the API's 403 itself, which the page turned into the notice.
            #expect(browser.errors.filter { !($0.source == "log/network" && $0.text.contains("403")) }.isEmpty, "\(browser.errors)")
        }
    }

    @Test func aWrongTokenIsRefusedOnThePage() throws {
        try withTestApp(seed: Self.seed) { app in
            let browser = try Self.signIn("tb_not_a_real_token_0123456789", port: app.port)
            try browser.wait(for: "document.querySelector('#signin-error').textContent.includes('not valid')", what: "the refusal")
            #expect(try browser.evaluate("document.querySelector('#app').hidden") == true)
            #expect(try browser.evaluate("sessionStorage.getItem('triggerbase.token')") == .null, "not kept")
        }
    }
}

/// The page's files as the server sends them (no browser needed).
struct WebUIAssetTests {
    @Test func thePageAndItsFilesAreServedWithAStrictPolicy_otherPathsAndMethodsAreRefused() throws {
        try withTestApp(seed: nil) { app in
            let client = try app.anonymousClient()
            let page = try client.request("GET", "/ui")
            #expect(page.status == 200)
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(page.text.contains(#"<script type="module" src="/ui/ui.js">"#))
            for file in ["ui.js", "api.js", "chart.js", "timeline.js"] {
                let script = try client.request("GET", "/ui/\(file)")
                #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8", "\(file)")
                #expect(!script.text.isEmpty)
            }
            #expect(try client.request("GET", "/ui/ui.css").headers["content-type"] == "text/css; charset=utf-8")
            let missing = try client.request("GET", "/ui/secret.js")
            #expect(missing.status == 404 && missing.json["errors"]?[path: ["0", "code"]]?.stringValue == "NOT_FOUND")
            let post = try client.request("POST", "/ui", body: "{}")
            #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
        }
    }
}
