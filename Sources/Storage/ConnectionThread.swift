import Foundation
import Synchronization

/// A dedicated thread that opens one connection, serves requests with it, and closes it: the
/// connection is created, used and closed on this thread and nowhere else (STYLE habit 6: blocking
/// work has an owner thread; it never runs on the cooperative pool).
final class ConnectionThread: Sendable {
    let name: String
    /// The running thread's identity, for `isCurrent`; set first thing on the thread.
    private let identity = Mutex<UInt?>(nil)
    /// Signalled when the thread has closed its connection and is about to exit.
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the thread, which calls `open` (typically: open a connection and wrap it in a loop)
    /// and then `serve` with its result until `serve` returns; returns once `open` has succeeded,
    /// or rethrows its error (the thread has then ended). What `open` makes never leaves the thread.
    init<Loop>(
        name: String,
        open: @escaping @Sendable () throws(StorageError) -> Loop,
        serve: @escaping @Sendable (Loop) -> Void
    ) throws(StorageError) {
        self.name = name
        let opened = Handoff<StorageError?>()
        let thread = Thread { [self] in
            identity.withLock { $0 = Self.currentIdentity() }
            defer { finished.signal() }
            let loop: Loop
            do throws(StorageError) {
                loop = try open()
            } catch {
                opened.put(error)
                return
            }
            opened.put(nil)
            serve(loop)
        }
        thread.name = name
        thread.start()
        if let error = opened.wait() { throw error }
    }

    /// Whether the caller runs on this thread (waiting for it from itself would deadlock).
    var isCurrent: Bool {
        identity.withLock { $0 } == Self.currentIdentity()
    }

    /// Blocks until the thread has ended; returns at once when called on the thread itself.
    func join() {
        guard !isCurrent else { return }
        finished.wait()
        finished.signal()  // Let later joins through.
    }

    private static func currentIdentity() -> UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }
}

/// A one-shot slot: one thread `put`s a value, another `wait`s for it.
final class Handoff<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func put(_ newValue: Value) {
        value.withLock { $0 = newValue }
        ready.signal()
    }

    func wait() -> Value {
        ready.wait()
        return value.withLock { $0! }
    }
}
