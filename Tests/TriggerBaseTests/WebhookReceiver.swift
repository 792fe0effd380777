import Foundation
import HTTPServer
import JSON
import Synchronization

/// A local HTTP receiver for request-node tests, on the project's own `HTTPServer`.
///
/// - It records every request (method, target, path, headers with lower-cased names, body) with
///   the time it arrived and the time it was answered, under a `Mutex`.
/// - It answers from a script of `Reply`s, one per request in arrival order; the last one repeats.
///   A reply may wait before answering (on another thread: the event loop never blocks).
/// - The answer is `{"ok": <2xx>, "n": <arrival index>, "echo": <request body as JSON>}` with the
///   header `X-Receiver: webhook-test`, so a node's stored result can be checked end to end.
final class WebhookReceiver: Sendable {
    struct Reply: Sendable {
        var status: Int
        /// Seconds to wait before answering.
        var delay: Double = 0
        /// Extra answer headers (`Retry-After`, say).
        var headers: [(String, String)] = []
    }

    struct Received: Sendable {
        var method: String
        var target: String
        var path: String
        /// Header names lower-cased.
        var headers: [String: String]
        var rawBody: [UInt8]
        /// The body parsed as JSON, `.null` when it is not JSON.
        var body: JSON
        /// Position in arrival order, from 0.
        var index: Int
        var arrived: Date
        /// When the answer was handed to the server (nil while it is still waiting).
        var answered: Date?
        var text: String { String(decoding: rawBody, as: UTF8.self) }
        /// The `Idempotency-Key` header.
        var idempotencyKey: String? { headers["idempotency-key"] }
    }

    private struct State {
        var received: [Received] = []
        var script: [Reply]
        var inFlight = 0
        var maxInFlight = 0
    }

    /// The Mutex in a class, so the server's handler and the test share it.
    private final class Shared: Sendable {
        let mutex: Mutex<State>
        init(_ state: State) { mutex = Mutex(state) }
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    private let server: HTTPServer
    private let state: Shared

    var port: Int { server.port }
    /// The URL of `/hook` on this receiver.
    var url: String { url("/hook") }
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Answers each request with the next status of `statuses` (the last repeats), each after `delay` seconds.
    convenience init(statuses: [Int] = [200], delay: Double = 0) throws {
        try self.init(replies: statuses.map { Reply(status: $0, delay: delay) })
    }

    init(replies: [Reply]) throws {
        precondition(!replies.isEmpty, "a receiver needs at least one reply")
        let state = Shared(State(script: replies))
        self.state = state
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoopCount = 1
        // A reply still waiting when the test ends must not hold the test up.
        configuration.shutdownGracePeriod = .milliseconds(100)
        server = try HTTPServer(configuration: configuration) { request, responder in
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.lowercased()] = field.value }
            let (index, reply) = state.withLock { state -> (Int, Reply) in
                let index = state.received.count
                state.received.append(Received(method: request.method, target: request.target, path: String(request.path),
                                               headers: headers, rawBody: request.body,
                                               body: (try? JSON.parse(request.body)) ?? .null, index: index, arrived: Date()))
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                return (index, state.script[min(index, state.script.count - 1)])
            }
            let echo = ((try? JSON.parse(request.body)) ?? .null).serialized()
            let answer: @Sendable () -> Void = {
                state.withLock { state in
                    state.inFlight -= 1
                    state.received[index].answered = Date()
                }
                responder.respond(.json(status: reply.status, #"{"ok":\#((200..<300).contains(reply.status)),"n":\#(index),"echo":\#(echo)}"#,
                                        headers: [("X-Receiver", "webhook-test")] + reply.headers))
            }
            if reply.delay > 0 {
                DispatchQueue.global().asyncAfter(deadline: .now() + reply.delay, execute: answer)
            } else {
                answer()
            }
        }
        server.start()
    }

    deinit {
        server.shutdown()
        server.wait()
    }

    /// Every request so far, in arrival order.
    var received: [Received] { state.withLock { $0.received } }

    /// The most requests that were waiting for their answer at the same time.
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    /// Waits until at least `count` requests have arrived (up to `timeout` seconds) and returns them all.
    @discardableResult
    func waitForRequests(_ count: Int, timeout: Double = 10) -> [Received] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let received = self.received
            if received.count >= count || Date() > deadline { return received }
            usleep(10_000)
        }
    }
}
