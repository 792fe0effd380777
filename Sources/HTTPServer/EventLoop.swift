import CLinux
import Glibc
import Logging
import Synchronization

/// One event-loop thread: an epoll instance, an eventfd for wake-ups, and the connections it owns.
///
/// Level-triggered epoll; read interest is dropped while a connection's pipeline is full or its
/// output is backed up (backpressure by not reading). Deadlines are checked on a 100 ms tick.
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
    private var lastTick: UInt64 = 0
    private var dateCache = DateCache()
    private var requestCounter: UInt64 = 0
    private var readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)

    init(index: Int, shared: ServerShared) throws(SystemError) {
        self.index = index
        self.shared = shared
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
            let n = epoll_wait(epollFD, &events, Int32(events.count), 100)
            let now = monotonicNanoseconds()
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
            if now &- lastTick >= 100_000_000 {
                lastTick = now
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
            if draining { closeRaw(fd) } else { addConnection(fd: fd, remoteAddress: remoteAddress, now: monotonicNanoseconds()) }
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
        if connection.peerClosed && connection.slots.isEmpty && connection.inFlight == 0 && !connection.hasPendingOutput {
            // Nothing owed, and an unfinished request can no longer complete.
            closeConnection(connection)
            return
        }
        // A half-closed client still gets the answers to what it sent (RFC 9112 §9.6).
        updateInterest(connection)
    }

    /// Turns buffered bytes into requests and hands them to the handler, up to the pipeline limit.
    private func processInput(_ connection: Connection, now: UInt64) {
        let configuration = shared.configuration
        while !connection.stopReading && connection.slots.count < configuration.maxPipelineDepth
                && connection.output.count - connection.outputOffset < Self.maxBufferedOutput {
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
                         startedAt: slot.startedAt, now: monotonicNanoseconds())
        markDirty(connection)
    }

    private func markDirty(_ connection: Connection) { dirty.append(connection.id) }

    private func flushDirty() {
        while !dirty.isEmpty {
            let ids = dirty
            dirty.removeAll(keepingCapacity: true)
            let now = monotonicNanoseconds()
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
                updateInterest(connection)
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
                updateInterest(connection)
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
        } else if connection.peerClosed && connection.slots.isEmpty && connection.inFlight == 0 {
            closeConnection(connection)
        } else {
            updateInterest(connection)
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
        updateInterest(connection)
    }

    private func updateInterest(_ connection: Connection) {
        guard connections[connection.id] != nil else { return }
        var events: UInt32 = 0
        let wantsRead = connection.lingerDeadline != nil
            || (!connection.stopReading && !connection.peerClosed && connection.slots.count < shared.configuration.maxPipelineDepth
                && connection.output.count - connection.outputOffset < Self.maxBufferedOutput)
        if wantsRead { events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if connection.hasPendingOutput { events |= EPOLLOUT.rawValue }
        if events != connection.registeredEvents {
            connection.registeredEvents = events
            var event = epoll_event(events: events, data: epoll_data_t(u64: connection.id))
            epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
        }
    }

    private func closeConnection(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        unregister(fd: connection.fd)
        closeRaw(connection.fd)
    }

    private func closeRaw(_ fd: Int32) {
        close(fd)
        shared.openConnections.wrappingSubtract(1, ordering: .relaxed)
    }

    // MARK: Deadlines and shutdown

    private func checkDeadlines(now: UInt64) {
        let configuration = shared.configuration
        if let until = acceptPausedUntil, now >= until, !draining {
            acceptPausedUntil = nil
            register(fd: shared.listenerFD, tag: Self.listenerTag, events: EPOLLIN.rawValue)
            listening = true
        }
        for connection in Array(connections.values) {
            if let linger = connection.lingerDeadline {
                if now >= linger { closeConnection(connection) }
                continue
            }
            if connection.hasPendingOutput {
                // A client that stopped reading its responses (slow reader).
                if elapsed(since: connection.lastWriteProgressAt, now: now) >= configuration.bodyTimeout.nanoseconds { closeConnection(connection) }
                continue
            }
            if connection.stopReading { continue }
            switch connection.parser.phase {
            case .idle:
                guard connection.slots.isEmpty && connection.inFlight == 0 else { continue }
                let limit = connection.requestsServed == 0 ? configuration.headTimeout : configuration.idleTimeout
                if elapsed(since: connection.idleSince, now: now) >= limit.nanoseconds { closeConnection(connection) }
            case .head:
                let started = connection.headStartedAt ?? now
                if connection.headStartedAt == nil { connection.headStartedAt = now }
                if elapsed(since: started, now: now) >= configuration.headTimeout.nanoseconds { fail(connection, .headTimeout, now: now) }
            case .body:
                if elapsed(since: connection.lastBodyProgressAt, now: now) >= configuration.bodyTimeout.nanoseconds {
                    fail(connection, .bodyTimeout, now: now)
                }
            }
        }
    }

    private func startDraining() {
        guard !draining else { return }
        draining = true
        let now = monotonicNanoseconds()
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

    /// Time since `since`, zero when `since` is later (timestamps are taken at slightly different moments).
    private func elapsed(since: UInt64, now: UInt64) -> UInt64 { now > since ? now - since : 0 }

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
