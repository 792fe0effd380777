import Dispatch
import Synchronization

/// A first-in first-out queue between any number of producers and the dedicated threads that
/// consume it; consumers block (on a semaphore, never spinning) while it is empty.
///
/// Closing it refuses new elements; consumers still drain what is queued, then stop.
final class BlockingQueue<Element: Sendable>: Sendable {
    private struct State {
        var elements: [Element] = []
        /// Index of the first unconsumed element; consumed ones are dropped in bulk.
        var head = 0
        /// Consumers waiting on `wakeUp`; each `signal` is paired with one decrement, so the
        /// semaphore's count never runs ahead of the waiters.
        var sleepers = 0
        var isClosed = false
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    /// Appends `element`; `false` (and nothing queued) once closed.
    func enqueue(_ element: Element) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            guard !state.isClosed else { return (false, false) }
            state.elements.append(element)
            guard state.sleepers > 0 else { return (true, false) }
            state.sleepers -= 1
            return (true, true)
        }
        if wake { wakeUp.signal() }
        return accepted
    }

    /// Blocks until something is queued, then moves up to `limit` elements, oldest first, into
    /// `batch` (which must be empty; its capacity is recycled). Returns `false` once the queue is
    /// closed and empty.
    func take(upTo limit: Int, into batch: inout [Element]) -> Bool {
        while true {
            let outcome = state.withLock { state -> TakeOutcome in
                let available = state.elements.count - state.head
                if available > 0 {
                    if state.head == 0 && available <= limit {
                        swap(&state.elements, &batch)
                    } else {
                        let end = state.head + min(available, limit)
                        batch.append(contentsOf: state.elements[state.head..<end])
                        state.head = end
                        if state.head == state.elements.count {
                            state.elements.removeAll(keepingCapacity: true)
                            state.head = 0
                        } else if state.head >= 1024 && state.head * 2 >= state.elements.count {
                            state.elements.removeFirst(state.head)
                            state.head = 0
                        }
                    }
                    return .took
                }
                if state.isClosed { return .closed }
                state.sleepers += 1
                return .sleep
            }
            switch outcome {
            case .took: return true
            case .closed: return false
            case .sleep: wakeUp.wait()
            }
        }
    }

    /// Waits up to `timeoutMicroseconds` until an element is queued (or the queue closes); true if
    /// one is there. Elements stay queued for `take`.
    func waitForElement(timeoutMicroseconds: Int) -> Bool {
        let sleeping = state.withLock { state -> Bool in
            if state.elements.count > state.head || state.isClosed { return false }
            state.sleepers += 1
            return true
        }
        guard sleeping else { return state.withLock { $0.elements.count > $0.head } }
        if wakeUp.wait(timeout: .now() + .microseconds(timeoutMicroseconds)) == .timedOut {
            let signalled = state.withLock { state -> Bool in
                guard state.sleepers > 0 else { return true }
                state.sleepers -= 1
                return false
            }
            // A producer counted this sleeper off and signals (or has): take that signal.
            if signalled { wakeUp.wait() }
        }
        return state.withLock { $0.elements.count > $0.head }
    }

    /// Elements queued and not yet taken.
    var count: Int { state.withLock { $0.elements.count - $0.head } }

    /// Refuses further elements and wakes every waiting consumer.
    func close() {
        let sleepers = state.withLock { state -> Int in
            state.isClosed = true
            defer { state.sleepers = 0 }
            return state.sleepers
        }
        for _ in 0..<sleepers { wakeUp.signal() }
    }

    private enum TakeOutcome { case took, closed, sleep }
}
