@testable import HTTPServer

/// A monotonic clock the test moves by hand.
struct ManualClock {
    var now: UInt64 = 1_000 * 1_000_000_000
    mutating func advance(_ duration: Duration) { now += duration.nanoseconds }
}

/// Plays the event loop for one `ConnectionStateMachine`, with no socket and no sleeping: it
/// feeds the machine made-up bytes and socket events at the times of a `ManualClock`, performs the
/// actions it returns as `EventLoop` does (a real `DeadlineQueue` included), and records what the
/// client would have seen.
struct ConnectionDriver {
    static let limits = HTTPRequestParser.Limits(maxHeadBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 64)

    var machine: ConnectionStateMachine
    var clock = ManualClock()
    /// When false, output waits in `unsent` until `socketTakes` (a client that is not reading).
    var socketTakesOutput = true
    /// Bytes handed to the socket and not taken yet.
    private(set) var unsent: [UInt8] = []
    /// Everything the socket took, in order.
    private(set) var written: [UInt8] = []
    private(set) var requests: [ConnectionStateMachine.Dispatch] = []
    private(set) var logs: [ConnectionStateMachine.AccessLog] = []
    private(set) var reading = true
    private(set) var shutDownWrite = false
    private(set) var closed = false
    private var timers = DeadlineQueue()
    private var timer = DeadlineQueue.Slot()

    /// A connection accepted at the clock's start, with the spec's timeouts.
    init(maxPipelineDepth: Int = 16, maxBufferedOutput: Int = 1 << 20, limits: HTTPRequestParser.Limits = Self.limits) {
        let environment = ConnectionEnvironment(
            limits: limits, maxPipelineDepth: maxPipelineDepth, maxBufferedOutput: maxBufferedOutput,
            timeouts: ConnectionTimeouts(head: 10 * Self.second, body: 30 * Self.second, idle: 60 * Self.second),
            requestIDPrefix: "t-")
        machine = ConnectionStateMachine(remoteAddress: "192.0.2.7", environment: environment)
        perform(machine.accepted(now: clock.now))
    }

    static let second: UInt64 = 1_000_000_000

    /// The deadline in force, as the machine last named it (the queue may hold an earlier entry,
    /// which then finds nothing due and is re-armed, as in the loop).
    private(set) var deadline: UInt64?

    var writtenText: String { String(decoding: written, as: UTF8.self) }

    /// The answers the client has read so far.
    var responses: [WrittenResponse] { WrittenResponse.parse(written) }

    mutating func receive(_ text: String) {
        let bytes = Array(text.utf8)
        let actions = bytes.withUnsafeBytes { machine.received($0, now: clock.now) }
        perform(actions)
    }

    mutating func peerCloses() { perform(machine.peerClosed(now: clock.now)) }

    /// The application answers request `sequence` with `body` (as text).
    mutating func respond(_ sequence: UInt64, status: Int = 200, _ body: String = "") {
        perform(machine.respond(sequence: sequence, HTTPResponse(status: status, body: Array(body.utf8)), now: clock.now))
    }

    mutating func beginDraining() { perform(machine.beginDraining()) }

    /// The client reads `count` bytes, so the socket takes that many more.
    mutating func socketTakes(_ count: Int) {
        let taken = min(count, unsent.count)
        written += unsent.prefix(taken)
        unsent.removeFirst(taken)
        perform(machine.wrote(taken, now: clock.now))
    }

    /// Moves the clock, then ticks the machine for every due deadline as the loop does.
    mutating func advance(_ duration: Duration) {
        clock.advance(duration)
        let now = clock.now
        while !closed, let _ = timers.popDue(now: now, isLive: { [timer] in timer.holds($0) }) {
            timer.cancel()
            perform(machine.tick(now: now))
        }
    }

    private mutating func perform(_ actions: ConnectionStateMachine.Actions) {
        precondition(!closed, "an event after close")
        if let log = actions.log { logs.append(log) }
        if actions.close {
            closed = true
            return
        }
        if actions.shutdownWrite {
            precondition(unsent.isEmpty, "half-closed with output unsent")
            shutDownWrite = true
        }
        unsent += actions.output
        if let reading = actions.reading {
            // Interest and deadline are named together, or both left to the `wrote` that follows.
            self.reading = reading
            deadline = actions.deadline
        }
        if let deadline = actions.deadline { timers.schedule(deadline, for: 1, slot: &timer) }
        requests += actions.requests
        // The loop sends right after the event; the machine hears back through `wrote`.
        if !actions.output.isEmpty { socketTakes(socketTakesOutput ? unsent.count : 0) }
    }
}

/// One response as the client reads it (framed by Content-Length; no body for 1xx).
struct WrittenResponse {
    let status: Int
    let headers: [String: String]
    let body: String

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    static func parse(_ bytes: [UInt8]) -> [WrittenResponse] {
        var rest = Substring(String(decoding: bytes, as: UTF8.self))
        var responses: [WrittenResponse] = []
        while let end = rest.range(of: "\r\n\r\n") {
            var lines = rest[..<end.lowerBound].split(separator: "\r\n", omittingEmptySubsequences: false)
            let statusLine = lines.removeFirst().split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines {
                let parts = line.split(separator: ":", maxSplits: 1)
                headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingOWS() : ""
            }
            let status = Int(statusLine[1]) ?? 0
            let length = status < 200 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
            let body = rest[end.upperBound...].prefix(length)
            responses.append(WrittenResponse(status: status, headers: headers, body: String(body)))
            rest = rest[body.endIndex...]
        }
        return responses
    }
}
