/// One connection's HTTP/1.1 protocol as a value, with no socket and no clock (the shape of NIO's
/// and Hummingbird's connection state machines). The event loop reports what happened and when;
/// the machine returns the `Actions` to take. Every protocol decision lives here: pipelining with
/// answers in request order (RFC 9112 §9.3.2), the limits and the errors answered for them,
/// `100 Continue`, keep-alive and close, backpressure, draining at shutdown, and the timeouts
/// (`ConnectionTimeouts`), so tests drive it with a hand-moved clock and bytes they make up.
///
/// Output leaves in `Actions.output` and counts as unsent until `wrote` reports it taken. An event
/// that hands over output leaves `reading` and `deadline` unset: the loop sends at once, and the
/// `wrote` that follows decides them, so answering a request changes no epoll interest or timer.
struct ConnectionStateMachine {
    /// What the loop does after an event, in this order: log, close (nothing else then applies),
    /// shut down the sending side, queue the output, set read interest, arm the deadline, and last
    /// hand the requests to the application (a handler may answer at once, re-entering the machine).
    struct Actions {
        /// Parsed requests for the application; each answer comes back through `respond`.
        var requests: [Dispatch] = []
        /// Bytes to send after those already queued; report progress with `wrote`.
        var output: [UInt8] = []
        /// The access-log line of an answer or of an error the machine answered itself (at most
        /// one per event: an error stops reading, and `respond` answers one request).
        var log: AccessLog?
        /// Everything owed is sent: shut down the sending side (SHUT_WR) and keep reading, only to
        /// discard, until the peer closes or the lingering close is over (RFC 9112 §9.6).
        var shutdownWrite = false
        /// Close the socket now, dropping whatever is unsent.
        var close = false
        /// Whether to keep read interest; nil leaves it as it is.
        var reading: Bool?
        /// The deadline in force (monotonic nanoseconds), for the loop's `DeadlineQueue`; nil when
        /// none applies or the `wrote` that follows will name it.
        var deadline: UInt64?
    }

    /// A request for the handler, with the sequence number its answer is delivered under.
    struct Dispatch {
        var request: HTTPRequest
        let sequence: UInt64
    }

    /// One line of the access log (`ServerShared.accessLog`).
    struct AccessLog: Equatable {
        var method: String
        var target: String
        var status: Int
        var requestID: String
        var startedAt: UInt64
        var finishedAt: UInt64
    }

    /// A request (or an interim or error answer) waiting for its turn to be written.
    private struct Slot {
        /// Given by `appendSlot`.
        var sequence: UInt64 = 0
        var requestID = ""
        var method = "-"
        var target = "-"
        var version = HTTPVersion.http1_1
        var isHead = false
        /// Close the connection once this slot is written.
        var close = false
        var startedAt: UInt64 = 0
        /// The serialized answer, once it is known.
        var bytes: [UInt8]?
        /// A `100 Continue`, which does not count as an answered request.
        var isInterim = false
    }

    /// The peer's IP address from accept(2), handed to every request read here.
    private let remoteAddress: String
    private let environment: ConnectionEnvironment
    private var parser: HTTPRequestParser
    private var slots: [Slot] = []
    private var nextSequence: UInt64 = 0
    /// Requests handed to the application and not answered yet.
    private var inFlight = 0
    private var unsentBytes = 0
    /// No further request is read: after `Connection: close`, an error, or the last answer at shutdown.
    private var stopReading = false
    /// The slot carrying `close` has gone to the output: close once it is sent.
    private var closeAfterOutput = false
    /// Half-closed by us; input is discarded until the peer closes or this passes.
    private var lingerDeadline: UInt64?
    private var peerHasClosed = false
    private var draining: Bool
    private var requestsServed = 0
    private var idleSince: UInt64 = 0
    private var headStartedAt: UInt64?
    private var lastBodyProgressAt: UInt64 = 0
    private var lastWriteProgressAt: UInt64 = 0

    /// `draining`: the server is already shutting down (see `beginDraining`).
    init(remoteAddress: String, environment: ConnectionEnvironment, draining: Bool = false) {
        self.remoteAddress = remoteAddress
        self.environment = environment
        self.parser = HTTPRequestParser(limits: environment.limits)
        self.draining = draining
    }

    // MARK: Events

    /// The connection was accepted: a client that sends nothing is closed after the head timeout.
    mutating func accepted(now: UInt64) -> Actions {
        idleSince = now
        return settle(now: now)
    }

    /// The socket gave these bytes.
    mutating func received(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> Actions {
        // After the last request, and while lingering, input is only discarded.
        if !stopReading {
            parser.feed(bytes)
            // Any byte is progress for the body timeout (an idle gap, spec 01).
            lastBodyProgressAt = now
        }
        return settle(now: now)
    }

    /// The peer closed its sending side (or the connection failed). A half-closed client still
    /// gets the answers to what it sent (RFC 9112 §9.6); then the connection closes.
    mutating func peerClosed(now: UInt64) -> Actions {
        if lingerDeadline != nil { return Actions(close: true) }
        peerHasClosed = true
        return settle(now: now)
    }

    /// The application answered request `sequence`. The answer goes out once those before it have.
    /// Requests waiting in the buffer are taken after the answer is written (`wrote`), not here: a
    /// handler that answers at once would otherwise recurse through every pipelined request.
    mutating func respond(sequence: UInt64, _ response: HTTPResponse, now: UInt64) -> Actions {
        var actions = Actions()
        inFlight -= 1
        guard let index = slotIndex(for: sequence) else { return actions }
        if draining && index == slots.count - 1 && parser.phase != .body {
            // The last request received before shutdown: answer it with `Connection: close`.
            slots[index].close = true
            stopReading = true
        }
        let slot = slots[index]
        var bytes: [UInt8] = []
        ResponseWriter.serialize(response, requestID: slot.requestID, isHead: slot.isHead, version: slot.version,
                                 close: slot.close, date: environment.date(), into: &bytes)
        slots[index].bytes = bytes
        actions.log = AccessLog(method: slot.method, target: slot.target, status: response.status,
                                requestID: slot.requestID, startedAt: slot.startedAt, finishedAt: now)
        moveAnsweredToOutput(now: now, &actions)
        finish(now: now, &actions)
        return actions
    }

    /// The socket took `count` more bytes of the output (0 when it took none and will say when it can).
    mutating func wrote(_ count: Int, now: UInt64) -> Actions {
        unsentBytes -= count
        if count > 0 { lastWriteProgressAt = now }
        return settle(now: now)
    }

    /// A deadline of this connection came due at `now`. Activity may have moved it since; then
    /// nothing happens but naming the next one.
    mutating func tick(now: UInt64) -> Actions {
        var actions = Actions()
        switch environment.timeouts.expired(timeoutState, now: now) {
        case .closeSilently, .closeSlowReader, .lingerOver:
            actions.close = true
            return actions
        case .answer(let error):
            fail(error, now: now, &actions)
        case nil:
            break
        }
        settle(now: now, &actions)
        return actions
    }

    /// The server is shutting down: with nothing received and nothing owed, close now; otherwise
    /// finish, the last answer carrying `Connection: close`.
    mutating func beginDraining() -> Actions {
        draining = true
        return Actions(close: isIdle)
    }

    // MARK: Decisions

    private var canTakeRequest: Bool {
        !stopReading && slots.count < environment.maxPipelineDepth && unsentBytes < environment.maxBufferedOutput
    }

    /// Reading goes on while lingering (to discard), or while another request could be taken
    /// (backpressure by not reading otherwise).
    private var wantsRead: Bool { lingerDeadline != nil || (!peerHasClosed && canTakeRequest) }

    /// The peer closed and every answer it is owed has been sent: an unfinished request can no
    /// longer complete.
    private var isDoneAfterPeerClose: Bool { peerHasClosed && slots.isEmpty && inFlight == 0 && unsentBytes == 0 }

    /// Nothing received, nothing owed: closed at shutdown.
    private var isIdle: Bool { slots.isEmpty && inFlight == 0 && unsentBytes == 0 && parser.phase != .body }

    private var timeoutState: ConnectionTimeouts.State {
        ConnectionTimeouts.State(
            lingerDeadline: lingerDeadline, hasPendingOutput: unsentBytes > 0, lastWriteProgressAt: lastWriteProgressAt,
            stopReading: stopReading, phase: parser.phase, hasOutstandingRequests: !slots.isEmpty || inFlight > 0,
            requestsServed: requestsServed, idleSince: idleSince, headStartedAt: headStartedAt,
            lastBodyProgressAt: lastBodyProgressAt)
    }

    private mutating func settle(now: UInt64) -> Actions {
        var actions = Actions()
        settle(now: now, &actions)
        return actions
    }

    /// After every event but `respond`: take the requests there is room for, move the answers
    /// that are next in order to the output, close when that is due, then name interest and deadline.
    private mutating func settle(now: UInt64, _ actions: inout Actions) {
        takeRequests(now: now, &actions)
        moveAnsweredToOutput(now: now, &actions)
        if unsentBytes == 0 {
            if closeAfterOutput || (draining && isIdle) {
                beginClose(now: now, &actions)
            } else if isDoneAfterPeerClose {
                actions.close = true
            }
        }
        finish(now: now, &actions)
    }

    private mutating func finish(now: UInt64, _ actions: inout Actions) {
        guard !actions.close else { return }
        // The head clock starts when its first byte is seen and is never reset (slowloris).
        if parser.phase == .head && headStartedAt == nil && !stopReading { headStartedAt = now }
        guard actions.output.isEmpty else { return }
        actions.reading = wantsRead
        actions.deadline = environment.timeouts.next(timeoutState, now: now)?.deadline
    }

    /// Turns buffered bytes into requests, up to the pipeline and output limits.
    private mutating func takeRequests(now: UInt64, _ actions: inout Actions) {
        while canTakeRequest {
            switch parser.next() {
            case .needMore:
                if parser.phase == .head {
                    if headStartedAt == nil { headStartedAt = now }
                } else {
                    headStartedAt = nil
                }
                return
            case .continueExpected:
                headStartedAt = nil
                lastBodyProgressAt = now
                appendSlot(Slot(startedAt: now, bytes: ResponseWriter.continueBytes, isInterim: true))
            case .request(var request):
                headStartedAt = nil
                request.requestID = Self.sanitizedRequestID(request.headers["x-request-id"]) ?? environment.nextRequestID()
                request.remoteAddress = remoteAddress
                let close = !request.keepAlive || draining
                if close { stopReading = true }
                let sequence = appendSlot(Slot(
                    requestID: request.requestID, method: request.method, target: request.target,
                    version: request.version, isHead: request.method == "HEAD", close: close, startedAt: now))
                inFlight += 1
                actions.requests.append(Dispatch(request: request, sequence: sequence))
            case .failure(let error):
                fail(error, now: now, &actions)
                return
            }
        }
    }

    /// Answers a protocol error or a timeout itself, and closes after it (spec 01: Errors).
    private mutating func fail(_ error: HTTPError, now: UInt64, _ actions: inout Actions) {
        let requestID = environment.nextRequestID()
        stopReading = true
        headStartedAt = nil
        appendSlot(Slot(requestID: requestID, close: true, startedAt: now,
                        bytes: ResponseWriter.errorBytes(error, requestID: requestID, date: environment.date())))
        actions.log = AccessLog(method: "-", target: "-", status: error.status, requestID: requestID,
                                startedAt: now, finishedAt: now)
    }

    /// Queues `slot` under the next sequence number, which it returns.
    @discardableResult
    private mutating func appendSlot(_ slot: Slot) -> UInt64 {
        var slot = slot
        slot.sequence = nextSequence
        nextSequence += 1
        slots.append(slot)
        return slot.sequence
    }

    /// Moves the answered slots at the head of the queue to the output, in order. A closing answer
    /// is always the last slot: `stopReading` is set with it, so no request follows it.
    private mutating func moveAnsweredToOutput(now: UInt64, _ actions: inout Actions) {
        var taken = 0
        var served = 0
        for slot in slots {
            guard let bytes = slot.bytes else { break }
            // The write timeout counts from when the output starts waiting for the socket.
            if unsentBytes == 0 { lastWriteProgressAt = now }
            if actions.output.isEmpty { actions.output = bytes } else { actions.output.append(contentsOf: bytes) }
            unsentBytes += bytes.count
            taken += 1
            if !slot.isInterim { served += 1 }
            if slot.close { closeAfterOutput = true }
        }
        guard taken > 0 else { return }
        slots.removeFirst(taken)
        if served > 0 {
            requestsServed += served
            idleSince = now
        }
    }

    /// Closes in stages (RFC 9112 §9.6): half-close, discard what the client still sends for a
    /// moment, then close, so the client reads the last answer instead of a reset.
    private mutating func beginClose(now: UInt64, _ actions: inout Actions) {
        guard lingerDeadline == nil else { return }
        if peerHasClosed {
            actions.close = true
            return
        }
        actions.shutdownWrite = true
        lingerDeadline = now + environment.lingerDuration
        stopReading = true
    }

    private func slotIndex(for sequence: UInt64) -> Int? {
        guard let first = slots.first, sequence >= first.sequence else { return nil }
        let index = Int(sequence - first.sequence)
        return index < slots.count && slots[index].sequence == sequence ? index : nil
    }

    /// The client's id when it is 1–128 characters of `[A-Za-z0-9._:-]` (spec 01); else nil.
    private static func sanitizedRequestID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128 else { return nil }
        for b in value.utf8 {
            switch b {
            case 48...57, 65...90, 97...122, 46, 95, 58, 45: continue
            default: return nil
            }
        }
        return value
    }
}
