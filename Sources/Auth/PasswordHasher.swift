import CLinux
import Model
import Dispatch
import Foundation
import Synchronization

/// Runs password hashing and verification (PBKDF2, ~0.3 s of CPU each) on its own few threads, so
/// it never runs on the single writer, an event loop or a request thread (issue 13, STYLE habit 6).
/// Callers await the result; at most `threads` hashes run at once and at most `maxWaiting`
/// callers wait for a thread — beyond that a caller is refused with `Busy` at once.
///
/// `@unchecked Sendable`: the job queue is guarded by `state`; `wakeups` is a semaphore.
package final class PasswordHasher: @unchecked Sendable {
    /// Too many callers already wait for a hashing thread.
    package struct Busy: Error, Equatable {}

    private struct State {
        package var jobs: [@Sendable () -> Void] = []
        package var head = 0
        package var running = 0
        package var stopping = false
        package var waiting: Int { jobs.count - head }
    }

    package let threads: Int
    package let maxWaiting: Int
    private let state = Mutex(State())
    private let wakeups = DispatchSemaphore(value: 0)

    package init(threads: Int, maxWaiting: Int) {
        self.threads = max(1, threads)
        self.maxWaiting = max(0, maxWaiting)
        for index in 0..<self.threads {
            let thread = Thread { [self] in
                // Named from the thread itself through pthreads: Foundation's `Thread.name` on Linux is
                // not applied before `start`, and raced the thread's start-up under load.
                _ = clinux_set_thread_name("password-\(index)")
                run()
            }
            thread.start()
        }
    }

    /// A new `pbkdf2-sha256$…` hash of `password` (spec 03).
    package func hash(_ password: String) async throws(Busy) -> String {
        try await perform { Crypto.hashPassword(password) }
    }

    /// Whether `password` matches `stored` (malformed hashes never match).
    package func verify(_ password: String, stored: String) async throws(Busy) -> Bool {
        try await perform { Crypto.verifyPassword(password, stored: stored) }
    }

    /// Hashes running and callers waiting, for `/metrics`.
    package var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting) } }

    /// Runs `work` on a hashing thread and returns its result.
    package func perform<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(Busy) -> T {
        let result: Result<T, Busy> = await withCheckedContinuation { continuation in
            if !enqueue({ continuation.resume(returning: .success(work())) }) { continuation.resume(returning: .failure(Busy())) }
        }
        return try result.get()
    }

    /// Queues `job` for a hashing thread; false (and nothing queued) when `maxWaiting` jobs already wait.
    package func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool {
        let admitted = state.withLock { state -> Bool in
            guard state.waiting < maxWaiting, !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        if admitted { wakeups.signal() }
        return admitted
    }

    /// Lets the threads finish the queued work and end.
    package func stop() {
        state.withLock { $0.stopping = true }
        for _ in 0..<threads { wakeups.signal() }
    }

    private func run() {
        while true {
            wakeups.wait()
            let next = state.withLock { state -> (job: (@Sendable () -> Void)?, stop: Bool) in
                guard state.head < state.jobs.count else { return (nil, state.stopping) }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head == state.jobs.count {
                    state.jobs.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                state.running += 1
                return (job, false)
            }
            if let job = next.job {
                job()
                state.withLock { $0.running -= 1 }
            } else if next.stop {
                return
            }
        }
    }

    /// `body` (a call on a hasher), with its refusal turned into `OVERLOADED` (sign-ins are capped
    /// lower, by the throttle).
    package static func refusingWhenFull<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch is PasswordHasher.Busy {
            throw DomainError.overloaded("too many password hashes are waiting; try again")
        }
    }
}
