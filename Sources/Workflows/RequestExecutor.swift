import Dispatch
import Foundation
import Synchronization

/// The threads that run the application's request tasks (a `TaskExecutor`), so request handling
/// never depends on the size of Swift's shared cooperative pool, and a caller that blocks a
/// cooperative thread (a test client, say) can never starve the server.
///
/// `@unchecked Sendable`: the job queue is guarded by `state`; `wakeups` is a semaphore.
package final class RequestExecutor: TaskExecutor, @unchecked Sendable {
    private struct State {
        package var jobs: [UnownedJob] = []
        package var head = 0
        package var stopping = false
    }

    private let state = Mutex(State())
    private let wakeups = DispatchSemaphore(value: 0)
    private let threadCount: Int

    package init(threads: Int) {
        threadCount = threads
        for index in 0..<threads {
            let thread = Thread { [self] in run() }
            thread.name = "request-\(index)"
            thread.start()
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { $0.jobs.append(job) }
        wakeups.signal()
    }

    /// Lets the threads finish once the queue is empty.
    package func stop() {
        state.withLock { $0.stopping = true }
        for _ in 0..<threadCount { wakeups.signal() }
    }

    private func run() {
        while true {
            wakeups.wait()
            let next = state.withLock { state -> (UnownedJob?, Bool) in
                guard state.head < state.jobs.count else { return (nil, state.stopping) }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head > 1024 && state.head * 2 > state.jobs.count {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return (job, false)
            }
            if let job = next.0 {
                job.runSynchronously(on: asUnownedTaskExecutor())
            } else if next.1 {
                return
            }
        }
    }
}
