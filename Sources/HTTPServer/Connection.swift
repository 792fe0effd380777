/// One client connection's state, owned by exactly one event loop (not Sendable).
///
/// Requests are parsed ahead up to `maxPipelineDepth`; each gets a slot in `slots`, and slots are
/// written out strictly in order as their responses arrive (RFC 9112 §9.3.2).
final class Connection {
    struct Slot {
        let sequence: UInt64
        var requestID: String
        var method: String
        var target: String
        var version: HTTPVersion
        var isHead: Bool
        /// Close the connection once this slot is written.
        var close: Bool
        let startedAt: UInt64
        /// The serialized response, once it is known.
        var bytes: [UInt8]?
        /// A `100 Continue` interim response, which does not count as a request.
        var isInterim: Bool
    }

    let id: UInt64
    let fd: Int32
    /// The peer's IP address from accept(2), handed to every request read here.
    let remoteAddress: String
    var parser: HTTPRequestParser
    var slots: [Slot] = []
    var nextSequence: UInt64 = 0
    /// Handler calls not answered yet.
    var inFlight = 0
    var output: [UInt8] = []
    var outputOffset = 0
    /// No further request is read: after `Connection: close`, a protocol error, or during shutdown.
    var stopReading = false
    /// The slot carrying `close` has been moved to `output`: close once it is sent.
    var closeAfterOutput = false
    /// Half-closed by us (SHUT_WR); reading and discarding until the peer closes or this passes.
    var lingerDeadline: UInt64?
    /// The peer closed its sending side.
    var peerClosed = false
    var registeredEvents: UInt32 = 0
    var requestsServed = 0
    let acceptedAt: UInt64
    var idleSince: UInt64
    var headStartedAt: UInt64?
    var lastBodyProgressAt: UInt64 = 0
    var lastWriteProgressAt: UInt64 = 0
    /// This connection's entry in the loop's `DeadlineQueue`.
    var timer = DeadlineQueue.Slot()

    init(id: UInt64, fd: Int32, remoteAddress: String, limits: HTTPRequestParser.Limits, now: UInt64) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.parser = HTTPRequestParser(limits: limits)
        self.acceptedAt = now
        self.idleSince = now
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    /// What `ConnectionTimeouts` decides from.
    var timeoutState: ConnectionTimeouts.State {
        ConnectionTimeouts.State(
            lingerDeadline: lingerDeadline, hasPendingOutput: hasPendingOutput, lastWriteProgressAt: lastWriteProgressAt,
            stopReading: stopReading, phase: parser.phase, hasOutstandingRequests: !slots.isEmpty || inFlight > 0,
            requestsServed: requestsServed, idleSince: idleSince, headStartedAt: headStartedAt,
            lastBodyProgressAt: lastBodyProgressAt)
    }

    /// Room for one more parsed request: the pipeline and the output buffer are below their limits.
    func canTakeRequest(maxPipelineDepth: Int, maxBufferedOutput: Int) -> Bool {
        !stopReading && slots.count < maxPipelineDepth && output.count - outputOffset < maxBufferedOutput
    }

    /// Whether the loop keeps read interest: while lingering (to discard), or while another
    /// request could be taken (backpressure by not reading otherwise).
    func wantsRead(maxPipelineDepth: Int, maxBufferedOutput: Int) -> Bool {
        lingerDeadline != nil
            || (!peerClosed && canTakeRequest(maxPipelineDepth: maxPipelineDepth, maxBufferedOutput: maxBufferedOutput))
    }

    /// The peer closed and every answer it is owed has been sent: an unfinished request can no
    /// longer complete, so close (a half-closed client still gets its answers, RFC 9112 §9.6).
    var isDoneAfterPeerClose: Bool {
        peerClosed && slots.isEmpty && inFlight == 0 && !hasPendingOutput
    }

    /// Nothing received, nothing owed: safe to close at shutdown or on idle timeout.
    var isIdle: Bool {
        slots.isEmpty && inFlight == 0 && !hasPendingOutput && parser.phase != .body
    }

    func slotIndex(for sequence: UInt64) -> Int? {
        guard let first = slots.first, sequence >= first.sequence else { return nil }
        let index = Int(sequence - first.sequence)
        return index < slots.count && slots[index].sequence == sequence ? index : nil
    }

    /// Moves the answered slots at the head of the queue to the output buffer, in order.
    /// Returns the slots written (for the access log).
    func drainAnsweredSlots() -> [Slot] {
        var written: [Slot] = []
        var count = 0
        for slot in slots {
            guard let bytes = slot.bytes, !closeAfterOutput else { break }
            if outputOffset == output.count {
                output.removeAll(keepingCapacity: true)
                outputOffset = 0
            }
            output.append(contentsOf: bytes)
            count += 1
            if !slot.isInterim { written.append(slot) }
            if slot.close {
                closeAfterOutput = true
                count = slots.count
                break
            }
        }
        if count > 0 { slots.removeFirst(count) }
        return written
    }
}
