import Dispatch
import Foundation
import Synchronization

/// The bounded buffer between the threads that log and the one thread that writes (issue 13:
/// logging never blocks an event loop and never tears a line).
///
/// Producers append whole lines under a mutex and return; they never wait for I/O or for space.
/// Their only system call is waking the thread when the buffer goes from empty to non-empty (a
/// futex wake, which does not block); under load the thread is still writing and is not woken.
/// When the queued bytes would pass `maxBufferedBytes` the line is dropped and counted instead.
/// One dedicated thread takes the whole buffer at once and hands it to the sink, so only one
/// thread ever writes and lines cannot interleave. At most `maxBufferedBytes` wait in the buffer
/// while one earlier chunk (itself at most `maxBufferedBytes`) is being written.
///
/// The thread starts with the first line, so a logger that never writes (a test application at
/// level `error`) costs no thread, and it ends after `close()` once the buffer is drained.
final class LogWriter: Sendable {
    private let sink: @Sendable (String) -> Void
    private let maxBufferedBytes: Int
    private let state = Mutex(State())
    /// Signalled when the buffer goes from empty to non-empty and on close; the thread waits on it.
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Signalled once, by the thread, after its last write.
    private let finished = DispatchSemaphore(value: 0)
    private let dropped = Atomic<Int>(0)

    private struct State {
        var buffer = ""
        var bufferedBytes = 0
        /// Lines accepted into the buffer since the start, and lines the sink has returned from.
        var queuedLines = 0
        var writtenLines = 0
        /// `flush()` callers waiting for `writtenLines` to reach their target.
        var flushWaiters: [(target: Int, done: DispatchSemaphore)] = []
        var threadStarted = false
        var closed = false
        /// `YYYY-MM-DDTHH:MM:SS` of `cachedSecond`, so most lines skip calendar formatting.
        var cachedSecond: Int64 = -1
        var cachedPrefix = ""
    }

    init(sink: @escaping @Sendable (String) -> Void, maxBufferedBytes: Int) {
        self.sink = sink
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// Lines refused because the buffer was full (or the writer closed) since the start.
    var droppedLineCount: Int { dropped.load(ordering: .relaxed) }

    /// Queues `{"ts":"<millis as RFC 3339>` followed by `rest` (which ends the line), or drops it.
    /// Never blocks beyond the mutex, which is only held to copy the line.
    func enqueue(_ rest: String, millis: Int64) {
        let (accepted, wake, start) = state.withLock { state -> (Bool, Bool, Bool) in
            guard !state.closed else { return (false, false, false) }
            if millis / 1000 != state.cachedSecond {
                state.cachedSecond = millis / 1000
                state.cachedPrefix = String(Logger.timestamp(Date(timeIntervalSince1970: Double(state.cachedSecond))).prefix(19))
            }
            let ms = millis % 1000
            // `{"ts":"` + 19 + `.mmm` + `Z`; every byte of the prefix is ASCII.
            let bytes = 31 + rest.utf8.count
            guard state.bufferedBytes + bytes <= maxBufferedBytes else { return (false, false, false) }
            let wasEmpty = state.bufferedBytes == 0
            state.buffer += "{\"ts\":\""
            state.buffer += state.cachedPrefix
            state.buffer += ms < 10 ? ".00" : (ms < 100 ? ".0" : ".")
            state.buffer += String(ms)
            state.buffer += "Z"
            state.buffer += rest
            state.bufferedBytes += bytes
            state.queuedLines += 1
            let start = !state.threadStarted
            state.threadStarted = true
            return (true, wasEmpty, start)
        }
        guard accepted else {
            dropped.add(1, ordering: .relaxed)
            return
        }
        if start { startThread() }
        if wake { wakeUp.signal() }
    }

    /// Blocks until every line queued before the call has been written.
    func flush() {
        let done = state.withLock { state -> DispatchSemaphore? in
            guard state.writtenLines < state.queuedLines else { return nil }
            let done = DispatchSemaphore(value: 0)
            state.flushWaiters.append((state.queuedLines, done))
            return done
        }
        done?.wait()
    }

    /// Refuses further lines and lets the thread exit once the buffer is written; with `wait`,
    /// blocks until it has.
    func close(wait: Bool) {
        let (first, started) = state.withLock { state -> (Bool, Bool) in
            defer { state.closed = true }
            return (!state.closed, state.threadStarted)
        }
        guard started else { return }
        if first { wakeUp.signal() }
        if wait {
            finished.wait()
            finished.signal()  // A later `close(wait: true)` returns at once too.
        }
    }

    private func startThread() {
        let thread = Thread { [self] in run() }
        thread.name = "triggerbase.log"
        thread.start()
    }

    /// The writer thread: waits for lines, writes the whole buffer, wakes the flushers it satisfied.
    private func run() {
        while true {
            wakeUp.wait()
            while true {
                let (chunk, lines, closed) = state.withLock { state -> (String, Int, Bool) in
                    let chunk = state.buffer
                    state.buffer = ""
                    state.bufferedBytes = 0
                    return (chunk, state.queuedLines - state.writtenLines, state.closed)
                }
                if chunk.isEmpty {
                    if closed {
                        finished.signal()
                        return
                    }
                    break
                }
                sink(chunk)
                let satisfied = state.withLock { state -> [DispatchSemaphore] in
                    state.writtenLines += lines
                    let written = state.writtenLines
                    let satisfied = state.flushWaiters.filter { $0.target <= written }.map(\.done)
                    state.flushWaiters.removeAll { $0.target <= written }
                    return satisfied
                }
                satisfied.forEach { $0.signal() }
            }
        }
    }
}
