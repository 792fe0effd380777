import CLinux
import Glibc
import Logging
import Synchronization

/// One event-loop thread: an epoll instance, an eventfd for wake-ups, and the connections it owns.
///
/// The loop is the I/O shell around each connection's `ConnectionStateMachine`: it reads, sends,
/// closes and calls the handler, reports each of these to the machine with the time from the
/// configured `HTTPServerClock`, and performs the `Actions` it gets back. It makes no protocol
/// decision itself. Level-triggered epoll; the machine drops read interest while a pipeline is
/// full or output is backed up (backpressure by not reading). Deadlines live in a `DeadlineQueue`:
/// a pass pops only the due entries (never a scan of every connection), and `epoll_wait` sleeps
/// until the earliest.
///
/// Thread safety (`@unchecked Sendable`): every stored `var` is read and written only on the loop's
/// own thread, inside `run()`. Other threads reach the loop only through `deliver`, `adopt` and
/// `beginShutdown`, which touch nothing but the `inbox` Mutex and the eventfd.
final class EventLoop: @unchecked Sendable {
    enum Message {
        /// An answer, built on this loop's thread (`HTTPResponder.respond(building:)`).
        case deliver(connectionID: UInt64, sequence: UInt64, response: @Sendable () -> HTTPResponse)
        case adopt(fd: Int32, remoteAddress: String)
        case shutdown
    }

    private static let listenerTag: UInt64 = 0
    private static let wakeTag: UInt64 = 1

    let index: Int
    private let shared: ServerShared
    private let clock: any HTTPServerClock
    private let environment: ConnectionEnvironment
    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Mutex<[Message]>([])
    private let thread = Atomic<UInt>(0)

    private var connections: [UInt64: Connection] = [:]
    private var nextConnectionID: UInt64 = 2
    /// Connections given output in this pass: sent at its end, so answers that arrive together
    /// leave in one write.
    private var dirty: [UInt64] = []
    private var draining = false
    private var drainDeadline: UInt64 = 0
    private var listening = false
    private var acceptPausedUntil: UInt64?
    private var nextAcceptLoop = 0
    private var timers = DeadlineQueue()
    private var readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)

    init(index: Int, shared: ServerShared) throws(SystemError) {
        self.index = index
        self.shared = shared
        clock = shared.configuration.clock
        environment = ConnectionEnvironment(shared.configuration, requestIDPrefix: shared.requestIDPrefix + String(index) + "-")
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

    func deliver(connectionID: UInt64, sequence: UInt64, building response: @escaping @Sendable () -> HTTPResponse) {
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
            flushOutput()
            if (timers.first?.deadline ?? .max) <= now || (acceptPausedUntil ?? .max) <= now {
                checkDeadlines(now: now)
                flushOutput()
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
        case .deliver(let connectionID, let sequence, let build):
            // Built even when the connection is gone: building may log what happened to the request.
            let response = build()
            guard let connection = connections[connectionID] else { return }
            perform(connection.machine.respond(sequence: sequence, response, now: clock.now()), on: connection)
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
                    let bytes = ResponseWriter.errorBytes(.tooManyConnections, requestID: environment.nextRequestID(),
                                                          date: environment.date())
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
        let machine = ConnectionStateMachine(remoteAddress: remoteAddress, environment: environment, draining: draining)
        let connection = Connection(id: id, fd: fd, machine: machine)
        connections[id] = connection
        register(fd: fd, tag: id, events: connection.registeredEvents)
        perform(connection.machine.accepted(now: now), on: connection)
    }

    // MARK: Socket I/O

    private func connectionEvent(_ id: UInt64, mask: UInt32, now: UInt64) {
        guard let connection = connections[id] else { return }
        if mask & (EPOLLERR.rawValue) != 0 {
            closeConnection(connection)
            return
        }
        if mask & EPOLLOUT.rawValue != 0 {
            writeOutput(connection)
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
        switch Socket.receive(connection.fd, into: readBuffer) {
        case .bytes(let n):
            perform(connection.machine.received(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]), now: now), on: connection)
        case .wouldBlock:
            break
        case .closed:
            perform(connection.machine.peerClosed(now: now), on: connection)
        }
    }

    /// Sends the output given in this pass. What a `wrote` gives in turn (requests taken from the
    /// buffer once there is room, and their interim or error answers) goes out in the next round.
    private func flushOutput() {
        while !dirty.isEmpty {
            let ids = dirty
            dirty.removeAll(keepingCapacity: true)
            for id in ids {
                guard let connection = connections[id], connection.hasPendingOutput else { continue }
                writeOutput(connection)
            }
        }
    }

    private func writeOutput(_ connection: Connection) {
        var sent = 0
        connection.writeBlocked = false
        while connection.hasPendingOutput && !connection.writeBlocked {
            let result = connection.output.withUnsafeBytes { bytes in
                Socket.send(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.outputOffset...]))
            }
            switch result {
            case .bytes(let n):
                connection.sent(n)
                sent += n
            case .wouldBlock:
                connection.writeBlocked = true
            case .closed:
                closeConnection(connection)
                return
            }
        }
        perform(connection.machine.wrote(sent, now: clock.now()), on: connection)
    }

    /// Carries out what the connection's machine decided, in the order `Actions` documents.
    private func perform(_ actions: ConnectionStateMachine.Actions, on connection: Connection) {
        if let entry = actions.log { shared.accessLog(entry) }
        if actions.close {
            closeConnection(connection)
            return
        }
        if actions.shutdownWrite { shutdown(connection.fd, Int32(SHUT_WR)) }
        if !actions.output.isEmpty {
            connection.queue(actions.output)
            dirty.append(connection.id)
        }
        if let reading = actions.reading { connection.reading = reading }
        updateEvents(connection)
        if let deadline = actions.deadline {
            // Pushes only a deadline earlier than the one queued: a busy keep-alive connection
            // pushes nothing per request.
            timers.schedule(deadline, for: connection.id, slot: &connection.timer)
        }
        for dispatch in actions.requests {
            shared.handler(dispatch.request, HTTPResponder(loop: self, connectionID: connection.id,
                                                           sequence: dispatch.sequence, requestID: dispatch.request.requestID))
        }
    }

    private func updateEvents(_ connection: Connection) {
        let events = connection.wantedEvents
        guard events != connection.registeredEvents else { return }
        connection.registeredEvents = events
        var event = epoll_event(events: events, data: epoll_data_t(u64: connection.id))
        epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
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

    /// Acts on the due timers only: each popped entry is one connection whose deadline came, and
    /// its machine decides what that means and names the next one.
    private func checkDeadlines(now: UInt64) {
        if let until = acceptPausedUntil, now >= until, !draining {
            acceptPausedUntil = nil
            register(fd: shared.listenerFD, tag: Self.listenerTag, events: EPOLLIN.rawValue)
            listening = true
        }
        while let entry = timers.popDue(now: now, isLive: { connections[$0.connectionID]?.timer.holds($0) == true }) {
            guard let connection = connections[entry.connectionID] else { continue }
            connection.timer.cancel()
            perform(connection.machine.tick(now: now), on: connection)
        }
        // Entries of closed connections and moved deadlines wait for their turn at the top; drop
        // them in one pass when they outnumber the live ones, so the heap stays O(connections).
        if timers.count > 2 * connections.count + 1024 {
            timers.compact { entry in connections[entry.connectionID]?.timer.holds(entry) == true }
        }
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

    /// Stops accepting and tells every connection once (not per tick) that shutdown has begun.
    private func startDraining() {
        guard !draining else { return }
        draining = true
        drainDeadline = clock.now() + shared.configuration.shutdownGracePeriod.nanoseconds
        if listening {
            unregister(fd: shared.listenerFD)
            listening = false
        }
        acceptPausedUntil = nil
        for connection in Array(connections.values) {
            perform(connection.machine.beginDraining(), on: connection)
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
}
