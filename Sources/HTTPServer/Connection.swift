import CLinux

/// The event loop's record of one client socket: the descriptor, what epoll watches for it, its
/// entry in the loop's `DeadlineQueue`, the bytes the socket has not taken yet, and the
/// `ConnectionStateMachine` that decides everything else. Owned by one loop (not Sendable).
final class Connection {
    let id: UInt64
    let fd: Int32
    var machine: ConnectionStateMachine
    /// Output handed over by the machine, sent up to `outputOffset`.
    private(set) var output: [UInt8] = []
    private(set) var outputOffset = 0
    /// The machine wants input (its last `Actions.reading`).
    var reading = true
    /// The last send returned EAGAIN: the rest waits for EPOLLOUT.
    var writeBlocked = false
    /// The events epoll watches, as last set.
    var registeredEvents: UInt32
    var timer = DeadlineQueue.Slot()

    init(id: UInt64, fd: Int32, machine: ConnectionStateMachine) {
        self.id = id
        self.fd = fd
        self.machine = machine
        registeredEvents = Self.events(reading: true, writeBlocked: false)
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    /// The events epoll should watch now.
    var wantedEvents: UInt32 { Self.events(reading: reading, writeBlocked: writeBlocked) }

    func queue(_ bytes: [UInt8]) {
        if hasPendingOutput { output.append(contentsOf: bytes) } else { output = bytes; outputOffset = 0 }
    }

    func sent(_ count: Int) {
        outputOffset += count
        if !hasPendingOutput {
            output = []
            outputOffset = 0
        }
    }

    private static func events(reading: Bool, writeBlocked: Bool) -> UInt32 {
        (reading ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : 0) | (writeBlocked ? EPOLLOUT.rawValue : 0)
    }
}
