import Foundation
import HTTPServer
import JSON
import Synchronization

/// A local HTTP receiver for request-node tests, on the project's own HTTP server: it records what
/// it got and answers with scripted statuses (the last one repeats), each after `delay` seconds.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: JSON
        var arrived: Date
    }

    private final class State: Sendable {
        let lock: Mutex<(received: [Received], statuses: [Int], inFlight: Int, maxInFlight: Int)>
        init(_ statuses: [Int]) { lock = Mutex(([], statuses, 0, 0)) }
        func withLock<T>(_ body: (inout (received: [Received], statuses: [Int], inFlight: Int, maxInFlight: Int)) -> T) -> T {
            lock.withLock { body(&$0) }
        }
    }

    private let server: HTTPServer
    private let state: State
    var port: Int { server.port }
    var url: String { "http://127.0.0.1:\(port)/hook" }

    init(statuses: [Int] = [200], delay: Double = 0) throws {
        let state = State(statuses)
        self.state = state
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoopCount = 1
        server = try HTTPServer(configuration: configuration) { request, responder in
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.lowercased()] = field.value }
            let status = state.withLock { state -> Int in
                state.received.append(Received(method: request.method, path: String(request.path), headers: headers,
                                               body: (try? JSON.parse(request.body)) ?? .null, arrived: Date()))
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                return state.statuses.count > 1 ? state.statuses.removeFirst() : state.statuses.first ?? 200
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) {
                state.withLock { $0.inFlight -= 1 }
                responder.respond(.json(status: status, #"{"ok":\#(status < 300)}"#))
            }
        }
        server.start()
    }

    deinit { server.shutdown() }

    var received: [Received] { state.withLock { $0.received } }
    /// Most requests seen being answered at the same time.
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
}
