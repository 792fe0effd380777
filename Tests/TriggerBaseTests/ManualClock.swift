import Foundation
import Synchronization
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// A `WorkflowClock` that only moves when the test says so (STYLE: tests move a clock instead of
/// sleeping). Sleepers wait until `advance` passes their time; every pause ever asked for is kept
/// in `requestedPauses`, so a test can check the retry schedule exactly.
final class ManualClock: WorkflowClock {
    private struct Sleeper {
        var id: Int
        var until: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Int64
        var sleepers: [Sleeper] = []
        var canceled: Set<Int> = []
        var nextID = 0
        var requested: [Int64] = []
    }

    private let state: Mutex<State>

    /// Starts at the wall clock's now, so timestamps the engine stores still look real.
    init(now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) { state = Mutex(State(now: now)) }

    func nowMilliseconds() -> Int64 { state.withLock { $0.now } }

    func sleep(untilMilliseconds until: Int64) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.requested.append(until - state.now)
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.canceled.remove(id) != nil { return .failure(CancellationError()) }
                    if until <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, until: until, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { state.canceled.insert(id); return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Every pause asked for so far (milliseconds from the then-now), in order.
    var requestedPauses: [Int64] { state.withLock { $0.requested } }

    /// How far each waiting sleeper is from its time, soonest first.
    var pendingPauses: [Int64] { state.withLock { state in state.sleepers.map { $0.until - state.now }.sorted() } }

    /// Moves the clock on and wakes the sleepers whose time has come.
    func advance(by milliseconds: Int64) {
        let due = state.withLock { state -> [Sleeper] in
            state.now += milliseconds
            let now = state.now
            let due = state.sleepers.filter { $0.until <= now }
            state.sleepers.removeAll { $0.until <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (polling, up to `timeout` seconds of real time) until `count` sleepers wait; their pauses.
    @discardableResult
    func waitForSleepers(_ count: Int, timeout: Double = 10) throws -> [Int64] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let pending = pendingPauses
            if pending.count >= count { return pending }
            if Date() > deadline { throw HTTPTestClient.Failure(description: "\(pending.count) sleepers after \(timeout) s, expected \(count)") }
            usleep(2_000)
        }
    }
}
