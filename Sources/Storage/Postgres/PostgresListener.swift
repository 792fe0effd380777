import CPostgres
import Foundation
import Synchronization

/// A connection of its own that `LISTEN`s on the database's announcement channel, on a thread of
/// its own, and hands each other process's announcement to the observers
/// (postgresql.org/docs/current/libpq-notify.html). If the connection is lost it reconnects every
/// second; once it has, the observers hear every kind of change, since some may have been missed.
final class PostgresListener: Sendable {
    private let observers = Mutex<[@Sendable (Announcement) -> Void]>([])
    /// Notifications from this server process (our own writer) are not news.
    let ignoredPID = Atomic<Int32>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening on `channel` of the database at `url`; returns at once.
    init(url: String, channel: String) {
        let thread = Thread { [self] in
            defer { finished.signal() }
            listen(url: url, channel: channel)
        }
        thread.name = "triggerbase.listener"
        thread.start()
    }

    func addObserver(_ observer: @escaping @Sendable (Announcement) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Stops the thread and closes its connection; waits for both.
    func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
    }

    private func listen(url: String, channel: String) {
        var connectedBefore = false
        while !stopping.load(ordering: .acquiring) {
            guard let connection = try? PostgresConnection(url: url, setup: ["LISTEN \"\(channel)\""]) else {
                pause(milliseconds: 1000)
                continue
            }
            if connectedBefore { Announcement.allCases.forEach(deliver) }
            connectedBefore = true
            serve(connection)
            connection.close()
        }
    }

    /// Delivers notifications until the connection fails or `close()` is called.
    private func serve(_ connection: PostgresConnection) {
        while !stopping.load(ordering: .acquiring) {
            guard let payloads = connection.waitForNotifications(timeoutMilliseconds: 250) else { return }
            let ignored = ignoredPID.load(ordering: .relaxed)
            for (pid, payload) in payloads where pid != ignored {
                if let change = Announcement(rawValue: payload) { deliver(change) }
            }
        }
    }

    private func deliver(_ change: Announcement) {
        for observer in observers.withLock({ $0 }) { observer(change) }
    }

    private func pause(milliseconds: Int) {
        var waited = 0
        while waited < milliseconds, !stopping.load(ordering: .acquiring) {
            usleep(50_000)
            waited += 50
        }
    }
}

extension PostgresConnection {
    /// Waits up to `timeoutMilliseconds` for notifications and returns those received (sender's
    /// server process id and payload), possibly none; nil when the connection failed.
    func waitForNotifications(timeoutMilliseconds: Int32) -> [(pid: Int32, payload: String)]? {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return nil }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) >= 0 else { return errno == EINTR ? [] : nil }
        guard PQconsumeInput(handle) == 1 else { return nil }
        var received: [(pid: Int32, payload: String)] = []
        while let notification = PQnotifies(handle) {
            received.append((notification.pointee.be_pid, String(cString: notification.pointee.extra)))
            PQfreemem(notification)
        }
        return received
    }
}
