import Foundation
import FoundationNetworking
import JSON
import Model

#if canImport(FoundationNetworking)
#endif

/// The `request` node's outgoing HTTP call (spec 04: Nodes), sent with FoundationNetworking's
/// `URLSession` outside the writer. A 2xx answer resolves; anything else fails unless
/// `ignoreFail`. Network errors, 408, 429 and 5xx are retried (`config.retries`, else the
/// workflow's `options.retries`, default 3) on `RetryPolicy.request`'s schedule, honouring the
/// server's `Retry-After`; each attempt carries the same `Idempotency-Key: <executionId>-<nodeId>`
/// so the receiver can drop repeats — also after a crash, when the node may run again.
package final class HTTPRequestNode: Sendable {
    /// Longest response body kept in the job's result.
    package static let maxStoredBody = 1 << 20
    private let session: URLSession
    private let clock: any WorkflowClock

    package init(clock: any WorkflowClock = SystemWorkflowClock()) {
        self.clock = clock
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    package func send(_ call: ExecutionEngine.RequestCall) async -> ExecutionEngine.NodeResult {
        let config = call.config
        let ignoreFail = config["ignoreFail"]?.boolValue ?? false
        func finish(_ status: ExecutionStatus, _ result: JSON, attempts: Int = 0, lastError: String? = nil) -> ExecutionEngine.NodeResult {
            .init(nodeID: call.nodeID, status: status == .failed && ignoreFail ? .resolved : status, result: result,
                  attempts: attempts, lastError: lastError)
        }
        guard let text = config["url"]?.stringValue, let url = URL(string: text),
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            return finish(.failed, ["message": .string("not an http(s) URL: '\(config["url"]?.stringValue ?? "")'")])
        }
        var request = URLRequest(url: url)
        request.httpMethod = (config["method"]?.stringValue ?? "POST").uppercased()
        for (name, value) in Self.headers(config["headers"]) { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue("\(call.executionID)-\(call.nodeID)", forHTTPHeaderField: "Idempotency-Key")
        if let body = config["body"], !body.isNull {
            if case .string(let string) = body {
                request.httpBody = Data(string.utf8)
                if request.value(forHTTPHeaderField: "Content-Type") == nil { request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type") }
            } else {
                request.httpBody = Data(body.serializedBytes())
                if request.value(forHTTPHeaderField: "Content-Type") == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
            }
        }
        let timeout = max(1, config["timeoutMs"]?.intValue ?? 5000)
        let policy = RetryPolicy.request(retries: config["retries"]?.intValue.map { Int(clamping: $0) } ?? call.retries)
        var random = SystemRandomNumberGenerator()
        var failures = 0
        var lastError: String?
        while true {
            var limit = timeout
            if let deadline = call.deadline {
                let remaining = deadline - clock.nowMilliseconds()
                guard remaining > 0 else {
                    return finish(.aborted, ["message": "the execution timed out"], attempts: failures, lastError: lastError)
                }
                limit = min(limit, remaining)
            }
            request.timeoutInterval = Double(limit) / 1000
            let attempt = await self.attempt(request)
            if attempt.status == .resolved {
                return finish(.resolved, attempt.result, attempts: failures == 0 ? 0 : failures + 1, lastError: lastError)
            }
            failures += 1
            lastError = attempt.error
            let retryAfter = attempt.retryAfter.flatMap { RetryPolicy.retryAfterMilliseconds($0, now: clock.nowMilliseconds()) }
            guard attempt.retry,
                  let pause = policy.delay(afterFailures: failures, retryAfterMilliseconds: retryAfter,
                                           remainingMilliseconds: call.deadline.map { $0 - clock.nowMilliseconds() }, using: &random) else {
                return finish(attempt.status, attempt.result, attempts: failures, lastError: attempt.error)
            }
            try? await clock.sleep(untilMilliseconds: clock.nowMilliseconds() + pause)
        }
    }

    /// One try: its status (resolved on 2xx), the job's result, whether a failure may be retried
    /// (network error, 408, 429, 5xx), the server's `Retry-After`, and why it failed.
    private func attempt(_ request: URLRequest) async -> (status: ExecutionStatus, result: JSON, retry: Bool, retryAfter: String?, error: String?) {
        do {
            let (data, response) = try await session.data(for: request)
            let http = response as? HTTPURLResponse
            let status = http?.statusCode ?? 0
            var headers = JSONObject()
            for (name, value) in http?.allHeaderFields ?? [:] { headers["\(name)".lowercased()] = .string("\(value)") }
            let result: JSON = ["status": .int(Int64(status)), "headers": .object(headers), "data": Self.body(data)]
            if (200..<300).contains(status) { return (.resolved, result, false, nil, nil) }
            return (.failed, result, status == 408 || status == 429 || status >= 500, headers["retry-after"]?.stringValue, "HTTP \(status)")
        } catch {
            return (.failed, ["status": .null, "message": .string(error.localizedDescription)], true, nil, error.localizedDescription)
        }
    }

    /// `headers` as an object (`{"X-A": "1"}`) or NocoBase's list (`[{"name": "X-A", "value": "1"}]`).
    package static func headers(_ value: JSON?) -> [(String, String)] {
        func text(_ value: JSON?) -> String? {
            guard let value, !value.isNull else { return nil }
            return value.stringValue ?? value.serialized()
        }
        var result: [(String, String)] = []
        if case .object(let object)? = value {
            for (name, item) in object { if let string = text(item) { result.append((name, string)) } }
        } else if case .array(let items)? = value {
            for item in items { if let name = item["name"]?.stringValue, let string = text(item["value"]) { result.append((name, string)) } }
        }
        // Header injection guard: names are tokens, values carry no line breaks.
        return result.filter { name, value in
            !name.isEmpty && name.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }
                && !value.utf8.contains { $0 == 10 || $0 == 13 }
        }
    }

    /// The answer's body as JSON when it parses, else as text (null when too large to keep).
    package static func body(_ data: Data) -> JSON {
        guard !data.isEmpty else { return .null }
        guard data.count <= maxStoredBody else { return .null }
        let bytes = [UInt8](data)
        if let json = try? JSON.parse(bytes) { return json }
        return .string(String(decoding: bytes, as: UTF8.self))
    }
}
