import CLinux
import Glibc
import Logging
import Synchronization

/// One event-loop thread: an epoll instance, an eventfd for wake-ups, and the connections it owns.
///
/// Level-triggered epoll; read interest is dropped while a connection's pipeline is full or its
/// output is backed up (backpressure by not reading). Deadlines live in a `DeadlineQueue`; a pass
/// pops only the due ones, `ConnectionTimeouts` decides what each means, and `epoll_wait` sleeps
/// until the earliest. Time comes from the configuration's `HTTPServerClock`.
///
/// Thread safety (`@unchecked Sendable`): every stored `var` is read and written only on the loop's
/// own thread, inside `run()`. Other threads reach the loop only through `deliver`, `adopt` and
/// `beginShutdown`, which touch nothing but the `inbox` Mutex and the eventfd.
final class EventLoop: @unchecked Sendable {
    enum Message {
        case deliver(connectionID: UInt64, sequence: UInt64, response: HTTPResponse)
        case adopt(fd: Int32, remoteAddress: String)
        case shutdown
    }

    private static let listenerTag: UInt64 = 0
    private static let wakeTag: UInt64 = 1
    static let maxBufferedOutput = 1 << 20

    let index: Int
    private let shared: ServerShared
    private let clock: any HTTPServerClock
    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Mutex<[Message]>([])
    private let thread = Atomic<UInt>(0)

    private var connections: [UInt64: Connection] = [:]
    private var nextConnectionID: UInt64 = 2
    private var dirty: [UInt64] = []
    private var draining = false
    private var drainDeadline: UInt64 = 0
    private var listening = false
    private var acceptPausedUntil: UInt64?
    private var nextAcceptLoop = 0
    private var timers = DeadlineQueue()
    private let timeouts: ConnectionTimeouts
    private var dateCache = DateCache()
    private var requestCounter: UInt64 = 0
    private var readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)

    init(index: Int, shared: ServerShared) throws(SystemError) {
        self.index = index
        self.shared = shared
        clock = shared.configuration.clock
        timeouts = ConnectionTimeouts(shared.configuration)
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError(call: "epoll_create1", errno: errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SystemError(call: "eventfd", errno: errno) }
        register(fd: wakeFD, tag: Self.wakeTag, events: EPOLLIN.rawValue)
    }

    deinit {
        close(epollFD)
        close(wakeFD)
        readBuffer.deallocate()
    }

    // MARK: Cross-thread entry points

    func deliver(connectionID: UInt64, sequence: UInt64, response: HTTPResponse) {
        send(.deliver(connectionID: connectionID, sequence: sequence, response: response))
    }

    func adopt(fd: Int32, remoteAddress: String) { send(.adopt(fd: fd, remoteAddress: remoteAddress)) }

    func beginShutdown() { send(.shutdown) }

    private func send(_ message: Message) {
        if thread.load(ordering: .relaxed) == UInt(pthread_self()) {
            handle(message)
            return
        }
        let wasEmpty = inbox.withLock { inbox in
            let wasEmpty = inbox.isEmpty
            inbox.append(message)
            return wasEmpty
        }
        if wasEmpty { eventfd_write(wakeFD, 1) }
    }

    // MARK: The loop

    /// Runs until shutdown has drained every connection. Called once, on the loop's thread.
    func run() {
        thread.store(UInt(pthread_self()), ordering: .relaxed)
        if index == 0 {
            register(fd: shared.listenerFD, tag: Self.listenerTag, events: EPOLLIN.rawValue)
            listening = true
        }
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let n = epoll_wait(epollFD, &events, Int32(events.count), waitMilliseconds(now: clock.now()))
            let now = clock.now()
            if n > 0 {
                for i in 0..<Int(n) {
                    let tag = events[i].data.u64
                    let mask = events[i].events
                    switch tag {
                    case Self.listenerTag: acceptConnections(now: now)
                    case Self.wakeTag: drainInbox()
                    default: connectionEvent(tag, mask: mask, now: now)
                    }
                }
            }
            flushDirty()
            if (timers.first?.deadline ?? .max) <= now || (acceptPausedUntil ?? .max) <= now {
                checkDeadlines(now: now)
                flushDirty()
            }
            if draining && (connections.isEmpty || now >= drainDeadline) { break }
        }
        for connection in Array(connections.values) { closeConnection(connection) }
    }

    private func drainInbox() {
        var value: eventfd_t = 0
        eventfd_read(wakeFD, &value)
        let messages = inbox.withLock { inbox -> [Message] in
            let messages = inbox
            inbox.removeAll(keepingCapacity: true)
            return messages
        }
        for message in messages { handle(message) }
    }

    private func handle(_ message: Message) {
        switch message {
        case .deliver(let connectionID, let sequence, let response):
            complete(connectionID: connectionID, sequence: sequence, response: response)
        case .adopt(let fd, let remoteAddress):
            if draining { closeRaw(fd) } else { addConnection(fd: fd, remoteAddress: remoteAddress, now: clock.now()) }
        case .shutdown:
            startDraining()
        }
    }

    // MARK: Accepting

    private func acceptConnections(now: UInt64) {
        for _ in 0..<64 {
            switch Socket.accept(shared.listenerFD) {
            case .accepted(let fd, let remoteAddress):
                if shared.openConnections.wrappingAdd(1, ordering: .relaxed).newValue > shared.configuration.maxConnections {
                    shared.openConnections.wrappingSubtract(1, ordering: .relaxed)
                    let bytes = ResponseWriter.errorBytes(.tooManyConnections, requestID: nextRequestID(), date: dateCache.current())
                    _ = bytes.withUnsafeBytes { Socket.send(fd, $0) }
                    shutdown(fd, Int32(SHUT_WR))
                    close(fd)
                    continue
                }
                let target = shared.loops[nextAcceptLoop % shared.loops.count]
                nextAcceptLoop &+= 1
                if target === self { addConnection(fd: fd, remoteAddress: remoteAddress, now: now) } else { target.adopt(fd: fd, remoteAddress: remoteAddress) }
            case .wouldBlock:
                return
            case .outOfResources:
                // Keep the listener; stop accepting for a moment (NIO's AcceptBackoffHandler).
                unregister(fd: shared.listenerFD)
                listening = false
                acceptPausedUntil = now + 100_000_000
                shared.logger?.warning("accept paused: out of file descriptors")
                return
            case .failed(let code):
                shared.logger?.error("accept failed", ["errno": .int(Int(code))])
                return
            }
        }
    }

    private func addConnection(fd: Int32, remoteAddress: String, now: UInt64) {
        let id = nextConnectionID
        nextConnectionID += 1
        let connection = Connection(id: id, fd: fd, remoteAddress: remoteAddress, limits: shared.limits, now: now)
        connections[id] = connection
        connection.registeredEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        register(fd: fd, tag: id, events: connection.registeredEvents)
        scheduleDeadline(connection, now: now)
    }

    // MARK: Reading

    private func connectionEvent(_ id: UInt64, mask: UInt32, now: UInt64) {
        guard let connection = connections[id] else { return }
        if mask & (EPOLLERR.rawValue) != 0 {
            closeConnection(connection)
            return
        }
        if mask & EPOLLOUT.rawValue != 0 {
            writeOutput(connection, now: now)
            guard connections[id] != nil else { return }
        }
        if mask & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 {
            readInput(connection, now: now)
        }
    }

    private func readInput(_ connection: Connection, now: UInt64) {
        // One read (at most one buffer) per wakeup: epoll is level-triggered, so the rest waits for
        // the next pass, and a flood of large bodies cannot hold up other connections' requests
        // (bench/hostile.sh: /health p99 under 200 body-flooding clients went from 59-283 ms to about 7-12 ms).
        if connection.lingerDeadline != nil {
            // Half-closed by us: discard what the client still sends until it closes.
            if case .closed = Socket.receive(connection.fd, into: readBuffer) { closeConnection(connection) }
            return
        }
        if !connection.stopReading {
            switch Socket.receive(connection.fd, into: readBuffer) {
            case .bytes(let n):
                connection.parser.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                // Any byte is progress for the body timeout (an idle gap, spec 01).
                connection.lastBodyProgressAt = now
            case .wouldBlock:
                break
            case .closed:
                connection.peerClosed = true
            }
        }
        processInput(connection, now: now)
        if connection.isDoneAfterPeerClose {
            // Nothing owed, and an unfinished request can no longer complete.
            closeConnection(connection)
            return
        }
        // A half-closed client still gets the answers to what it sent (RFC 9112 §9.6).
        updateInterest(connection, now: now)
    }

    /// Turns buffered bytes into requests and hands them to the handler, up to the pipeline limit.
    private func processInput(_ connection: Connection, now: UInt64) {
        let configuration = shared.configuration
        while connection.canTakeRequest(maxPipelineDepth: configuration.maxPipelineDepth, maxBufferedOutput: Self.maxBufferedOutput) {
            let event = connection.parser.next()
            switch event {
            case .needMore:
                switch connection.parser.phase {
                case .head: if connection.headStartedAt == nil { connection.headStartedAt = now }
                case .body: connection.headStartedAt = nil
                case .idle: connection.headStartedAt = nil
                }
                return
            case .continueExpected:
                connection.headStartedAt = nil
                connection.lastBodyProgressAt = now
                appendSlot(connection, interim: ResponseWriter.continueBytes, now: now)
            case .request(var request):
                connection.headStartedAt = nil
                request.requestID = sanitizedRequestID(request.headers["x-request-id"]) ?? nextRequestID()
                request.remoteAddress = connection.remoteAddress
                let sequence = connection.nextSequence
                connection.nextSequence += 1
                let close = !request.keepAlive || draining
                if close { connection.stopReading = true }
                connection.slots.append(Connection.Slot(
                    sequence: sequence, requestID: request.requestID, method: request.method, target: request.target,
                    version: request.version, isHead: request.method == "HEAD", close: close, startedAt: now,
                    bytes: nil, isInterim: false))
                connection.inFlight += 1
                shared.handler(request, HTTPResponder(loop: self, connectionID: connection.id, sequence: sequence,
                                                      requestID: request.requestID))
            case .failure(let error):
                fail(connection, error, now: now)
                return
            }
        }
    }

    private func appendSlot(_ connection: Connection, interim: [UInt8], now: UInt64) {
        let sequence = connection.nextSequence
        connection.nextSequence += 1
        connection.slots.append(Connection.Slot(
            sequence: sequence, requestID: "", method: "", target: "", version: .http1_1, isHead: false, close: false,
            startedAt: now, bytes: interim, isInterim: true))
        markDirty(connection)
    }

    /// Answers a protocol error itself and closes after it (spec 01: Errors).
    private func fail(_ connection: Connection, _ error: HTTPError, now: UInt64) {
        let requestID = nextRequestID()
        let sequence = connection.nextSequence
        connection.nextSequence += 1
        connection.stopReading = true
        connection.headStartedAt = nil
        connection.slots.append(Connection.Slot(
            sequence: sequence, requestID: requestID, method: "-", target: "-", version: .http1_1, isHead: false,
            close: true, startedAt: now, bytes: ResponseWriter.errorBytes(error, requestID: requestID, date: dateCache.current()),
            isInterim: false))
        shared.accessLog(method: "-", target: "-", status: error.status, requestID: requestID, startedAt: now, now: now)
        markDirty(connection)
    }

    // MARK: Responding

    private func complete(connectionID: UInt64, sequence: UInt64, response: HTTPResponse) {
        guard let connection = connections[connectionID] else { return }
        connection.inFlight -= 1
        guard let index = connection.slotIndex(for: sequence) else { return }
        var slot = connection.slots[index]
        if draining && index == connection.slots.count - 1 && connection.parser.phase != .body {
            slot.close = true
            connection.stopReading = true
        }
        var bytes: [UInt8] = []
        ResponseWriter.serialize(response, requestID: slot.requestID, isHead: slot.isHead, version: slot.version,
                                 close: slot.close, date: dateCache.current(), into: &bytes)
        slot.bytes = bytes
        connection.slots[index] = slot
        shared.accessLog(method: slot.method, target: slot.target, status: response.status, requestID: slot.requestID,
                         startedAt: slot.startedAt, now: clock.now())
        markDirty(connection)
    }

    private func markDirty(_ connection: Connection) { dirty.append(connection.id) }

    private func flushDirty() {
        while !dirty.isEmpty {
            let ids = dirty
            dirty.removeAll(keepingCapacity: true)
            let now = clock.now()
            for id in ids {
                guard let connection = connections[id] else { continue }
                let written = connection.drainAnsweredSlots()
                if !written.isEmpty {
                    connection.requestsServed += written.count
                    connection.idleSince = now
                }
                writeOutput(connection, now: now)
                guard connections[id] != nil else { continue }
                // Slots freed up: parse requests already buffered (pipelining).
                if !connection.stopReading && connection.parser.bufferedByteCount > 0 {
                    processInput(connection, now: now)
                }
                if draining && connection.isIdle { beginClose(connection, now: now); continue }
                updateInterest(connection, now: now)
            }
        }
    }

    private func writeOutput(_ connection: Connection, now: UInt64) {
        while connection.hasPendingOutput {
            let result = connection.output.withUnsafeBytes { bytes in
                Socket.send(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.outputOffset...]))
            }
            switch result {
            case .bytes(let n):
                connection.outputOffset += n
                connection.lastWriteProgressAt = now
            case .wouldBlock:
                updateInterest(connection, now: now)
                return
            case .closed:
                closeConnection(connection)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 65_536)
        connection.outputOffset = 0
        if connection.closeAfterOutput {
            beginClose(connection, now: now)
        } else if connection.isDoneAfterPeerClose {
            closeConnection(connection)
        } else {
            updateInterest(connection, now: now)
        }
    }

    /// Closes in stages (RFC 9112 §9.6): half-close, discard what the client still sends for a
    /// moment, then close, so the client reads our last response instead of a reset.
    private func beginClose(_ connection: Connection, now: UInt64) {
        guard connection.lingerDeadline == nil else { return }
        if connection.peerClosed { closeConnection(connection); return }
        shutdown(connection.fd, Int32(SHUT_WR))
        connection.lingerDeadline = now + 2_000_000_000
        connection.stopReading = true
        updateInterest(connection, now: now)
    }

    private func updateInterest(_ connection: Connection, now: UInt64) {
        guard connections[connection.id] != nil else { return }
        var events: UInt32 = 0
        if connection.wantsRead(maxPipelineDepth: shared.configuration.maxPipelineDepth, maxBufferedOutput: Self.maxBufferedOutput) { events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if connection.hasPendingOutput { events |= EPOLLOUT.rawValue }
        if events != connection.registeredEvents {
            connection.registeredEvents = events
            var event = epoll_event(events: events, data: epoll_data_t(u64: connection.id))
            epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
        }
        scheduleDeadline(connection, now: now)
    }

    private func closeConnection(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        connection.timer.cancel()
        unregister(fd: connection.fd)
        closeRaw(connection.fd)
    }

    private func closeRaw(_ fd: Int32) {
        close(fd)
        shared.openConnections.wrappingSubtract(1, ordering: .relaxed)
    }

    // MARK: Deadlines and shutdown

    private func checkDeadlines(now: UInt64) {
        if let until = acceptPausedUntil, now >= until, !draining {
            acceptPausedUntil = nil
            register(fd: shared.listenerFD, tag: Self.listenerTag, events: EPOLLIN.rawValue)
            listening = true
        }
        while let entry = timers.popDue(now: now, isLive: { connections[$0.connectionID]?.timer.holds($0) == true }) {
            guard let connection = connections[entry.connectionID] else { continue }
            connection.timer.cancel()
            switch timeouts.expired(connection.timeoutState, now: now) {
            case .closeSilently, .closeSlowReader, .lingerOver:
                closeConnection(connection)
                continue
            case .answer(let error):
                fail(connection, error, now: now)
            case nil:
                break
            }
            // The deadline moved later (activity), or a new one applies after the 408.
            scheduleDeadline(connection, now: now)
        }
        // Entries of closed connections and moved deadlines wait for their turn at the top; drop
        // them in one pass when they outnumber the live ones, so the heap stays O(connections).
        if timers.count > 2 * connections.count + 1024 {
            timers.compact { entry in connections[entry.connectionID]?.timer.holds(entry) == true }
        }
    }

    /// Puts the connection's deadline in the queue when it is earlier than the one already there
    /// (`DeadlineQueue.schedule`): a busy keep-alive connection pushes nothing per request.
    private func scheduleDeadline(_ connection: Connection, now: UInt64) {
        if connection.parser.phase == .head && connection.headStartedAt == nil && !connection.stopReading
            && connection.lingerDeadline == nil {
            // The head clock starts when its first byte is seen (slowloris: absolute, never reset).
            connection.headStartedAt = now
        }
        guard let (deadline, _) = timeouts.next(connection.timeoutState, now: now) else { return }
        timers.schedule(deadline, for: connection.id, slot: &connection.timer)
    }

    /// How long `epoll_wait` may sleep: until the earliest timer, paused accept or end of the
    /// shutdown grace period; -1 (until an event) when there is none.
    private func waitMilliseconds(now: UInt64) -> Int32 {
        var earliest = timers.first?.deadline
        if let until = acceptPausedUntil { earliest = min(earliest ?? until, until) }
        if draining { earliest = min(earliest ?? drainDeadline, drainDeadline) }
        guard let earliest else { return -1 }
        guard earliest > now else { return 0 }
        let milliseconds = (earliest - now + 999_999) / 1_000_000
        return Int32(min(milliseconds, UInt64(Int32.max)))
    }

    private func startDraining() {
        guard !draining else { return }
        draining = true
        let now = clock.now()
        drainDeadline = now + shared.configuration.shutdownGracePeriod.nanoseconds
        if listening {
            unregister(fd: shared.listenerFD)
            listening = false
        }
        acceptPausedUntil = nil
        for connection in Array(connections.values) where connection.isIdle {
            closeConnection(connection)
        }
    }

    // MARK: Helpers

    private func register(fd: Int32, tag: UInt64, events: UInt32) {
        var event = epoll_event(events: events, data: epoll_data_t(u64: tag))
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    private func unregister(fd: Int32) {
        var event = epoll_event()
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    private func nextRequestID() -> String {
        requestCounter &+= 1
        return shared.requestIDPrefix + String(index) + "-" + String(requestCounter, radix: 16)
    }

    /// The client's id when it is 1–128 characters of `[A-Za-z0-9._:-]` (spec 01); else nil.
    private func sanitizedRequestID(_ value: String?) -> String? {
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
