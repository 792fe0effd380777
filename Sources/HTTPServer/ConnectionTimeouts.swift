/// A connection's deadlines decided from its state and a `now` passed in: no clock, no syscalls,
/// so tests move time by hand instead of sleeping (Hummingbird's connection state machine).
///
/// One deadline is in force at a time, checked in this order (spec 01: "Limits and timeouts"):
/// lingering close; a client that stopped reading its responses; nothing, once no further request
/// is read; then by parser phase: the idle keep-alive (or first-request) wait, the absolute head
/// timeout (RFC 9112 pitfall: not reset per byte), and the body idle gap.
struct ConnectionTimeouts: Equatable {
    /// What to do when the deadline in force passes.
    enum Expiry: Equatable {
        /// Idle keep-alive, or a new connection that sent nothing: close without an answer.
        case closeSilently
        /// A head or body that did not arrive in time: answer 408 and close after it.
        case answer(HTTPError)
        /// Output has not moved for `body` nanoseconds: the peer stopped reading; close.
        case closeSlowReader
        /// The lingering close (RFC 9112 §9.6) is over: close.
        case lingerOver
    }

    /// The parts of a connection's state that decide its deadline, all times in monotonic nanoseconds.
    struct State: Equatable {
        var lingerDeadline: UInt64?
        var hasPendingOutput = false
        var lastWriteProgressAt: UInt64 = 0
        var stopReading = false
        var phase: HTTPRequestParser.Phase = .idle
        /// Requests parsed and not yet written out (slots or handler calls outstanding).
        var hasOutstandingRequests = false
        var requestsServed = 0
        var idleSince: UInt64 = 0
        var headStartedAt: UInt64?
        var lastBodyProgressAt: UInt64 = 0
    }

    var head: UInt64
    var body: UInt64
    var idle: UInt64

    init(head: UInt64, body: UInt64, idle: UInt64) {
        self.head = head
        self.body = body
        self.idle = idle
    }

    init(_ configuration: HTTPServerConfiguration) {
        self.init(head: configuration.headTimeout.nanoseconds, body: configuration.bodyTimeout.nanoseconds,
                  idle: configuration.idleTimeout.nanoseconds)
    }

    /// The deadline in force and what its passing means; nil when none applies (a request is
    /// being handled, or the connection reads nothing more and owes nothing).
    /// A head whose start is unknown (`headStartedAt` nil) counts from `now`.
    func next(_ state: State, now: UInt64) -> (deadline: UInt64, expiry: Expiry)? {
        if let linger = state.lingerDeadline { return (linger, .lingerOver) }
        if state.hasPendingOutput { return (adding(body, to: state.lastWriteProgressAt), .closeSlowReader) }
        if state.stopReading { return nil }
        switch state.phase {
        case .idle:
            guard !state.hasOutstandingRequests else { return nil }
            let limit = state.requestsServed == 0 ? head : idle
            return (adding(limit, to: state.idleSince), .closeSilently)
        case .head:
            return (adding(head, to: state.headStartedAt ?? now), .answer(.headTimeout))
        case .body:
            return (adding(body, to: state.lastBodyProgressAt), .answer(.bodyTimeout))
        }
    }

    /// What is due at `now`, if anything.
    func expired(_ state: State, now: UInt64) -> Expiry? {
        guard let (deadline, expiry) = next(state, now: now), deadline <= now else { return nil }
        return expiry
    }

    private func adding(_ duration: UInt64, to time: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(duration)
        return overflow ? .max : sum
    }
}
