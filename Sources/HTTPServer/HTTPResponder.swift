import Glibc

/// Called on an event-loop thread with each whole request. It must not block: work that may
/// block (SQLite, outgoing HTTP) belongs on another thread, which then answers through the
/// responder.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// Answers one request, exactly once, from any thread. Responses go out in request order on
/// their connection whatever order the responders are called in (RFC 9112 §9.3.2).
///
/// A responder dropped without answering answers 500 `INTERNAL_ERROR` itself, so a handler bug
/// can never leave a client waiting forever.
public final class HTTPResponder: Sendable {
    private let loop: EventLoop
    private let connectionID: UInt64
    private let sequence: UInt64
    private let requestID: String
    private let answered = AtomicFlag()

    init(loop: EventLoop, connectionID: UInt64, sequence: UInt64, requestID: String) {
        self.loop = loop
        self.connectionID = connectionID
        self.sequence = sequence
        self.requestID = requestID
    }

    /// Sends `response`; calls after the first are ignored.
    public func respond(_ response: HTTPResponse) {
        respond(building: { response })
    }

    /// Sends the response `build` makes, calling it once on the connection's event-loop thread
    /// (also when the connection has closed meanwhile, the answer then going nowhere): a thread
    /// that others wait on, such as the storage writer, hands over the work of serialising its
    /// answer. Calls after the first are ignored.
    public func respond(building build: @escaping @Sendable () -> HTTPResponse) {
        guard answered.set() else { return }
        loop.deliver(connectionID: connectionID, sequence: sequence, building: build)
    }

    deinit {
        if answered.set() {
            let requestID = requestID
            loop.deliver(connectionID: connectionID, sequence: sequence, building: {
                .error(status: 500, code: "INTERNAL_ERROR", message: "internal error (request \(requestID))")
            })
        }
    }
}

import Synchronization

/// A one-way flag: `set()` returns true only for the first caller.
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() -> Bool {
        value.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}
