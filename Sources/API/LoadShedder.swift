import HTTPServer
import Model
import Synchronization

/// Admission control (issue 13): under overload, new work is refused at the door with 503
/// `OVERLOADED` and `Retry-After`, so queues stay bounded and what was already accepted finishes.
///
/// - At most `maxRequestsInFlight` API requests are being handled at once (each is one task on the
///   request executor, so this bounds the executor's queue); more are refused before a task exists.
/// - A request that writes is refused while the writer already has `maxWriteBacklog` jobs waiting.
///   Reads are always served (they never wait for the writer), and background work (workflow steps
///   of executions already committed) is never refused. Each admitted request has at most one write
///   queued at a time, so the writer's queue stays below `maxWriteBacklog + maxRequestsInFlight`
///   plus the dispatcher's bounded steps.
package final class LoadShedder: Sendable {
    package let maxRequestsInFlight: Int
    package let maxWriteBacklog: Int
    private let inFlight = Atomic<Int>(0)
    private let shedForRequests = Atomic<Int>(0)
    private let shedForBacklog = Atomic<Int>(0)

    package init(maxRequestsInFlight: Int, maxWriteBacklog: Int) {
        self.maxRequestsInFlight = maxRequestsInFlight
        self.maxWriteBacklog = maxWriteBacklog
    }

    /// The answer to a refused request.
    package static let overloaded = DomainError.overloaded("the server is overloaded; retry later")

    /// Takes a place for one request; false (and counted) when all are taken. Pair with `finish`.
    package func begin() -> Bool {
        guard inFlight.wrappingAdd(1, ordering: .relaxed).newValue <= maxRequestsInFlight else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            shedForRequests.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        return true
    }

    package func finish() { inFlight.wrappingSubtract(1, ordering: .relaxed) }

    /// Whether `request` may queue a write behind `backlog` waiting jobs (reads always may).
    package func admits(_ request: HTTPRequest, writeBacklog backlog: Int) -> Bool {
        guard backlog >= maxWriteBacklog, Self.writes(request) else { return true }
        shedForBacklog.wrappingAdd(1, ordering: .relaxed)
        return false
    }

    /// Whether a request may write: any action but `list` and `get` (`/api/<c>:<action>`, whatever
    /// the method), and any method but GET and HEAD on paths without an action.
    package static func writes(_ request: HTTPRequest) -> Bool {
        let path = request.path
        if let colon = path.lastIndex(of: ":") {
            let action = path[path.index(after: colon)...]
            return action != "list" && action != "get"
        }
        return request.method != "GET" && request.method != "HEAD"
    }

    /// Prometheus lines for `/metrics`.
    package func prometheusLines(writeBacklog: Int) -> String {
        """
        # HELP triggerbase_write_queue_depth Writes waiting for the single writer.
        # TYPE triggerbase_write_queue_depth gauge
        triggerbase_write_queue_depth \(writeBacklog)
        # HELP triggerbase_requests_in_flight API requests being handled.
        # TYPE triggerbase_requests_in_flight gauge
        triggerbase_requests_in_flight \(inFlight.load(ordering: .relaxed))
        # HELP triggerbase_requests_shed_total Requests answered 503 OVERLOADED, by what was full.
        # TYPE triggerbase_requests_shed_total counter
        triggerbase_requests_shed_total{reason="write_backlog"} \(shedForBacklog.load(ordering: .relaxed))
        triggerbase_requests_shed_total{reason="requests_in_flight"} \(shedForRequests.load(ordering: .relaxed))

        """
    }
}
