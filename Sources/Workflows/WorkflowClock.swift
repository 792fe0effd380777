import Model

/// The time the dispatcher, the engine and the request node go by (milliseconds since 1970, the
/// unit of a delay node's `until` and of `options.timeoutMs` deadlines).
///
/// Injected so tests move a clock instead of sleeping (STYLE: time is injected): the retry
/// schedule and delays are then checked exactly, without timed assertions.
package protocol WorkflowClock: Sendable {
    /// Now, in milliseconds since 1970.
    func nowMilliseconds() -> Int64
    /// Returns at `until` (milliseconds since 1970) or later; throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(untilMilliseconds until: Int64) async throws
}

/// The real clock: the wall clock for "now", `Task.sleep` (the continuous clock) for waiting.
package struct SystemWorkflowClock: WorkflowClock {
    package init() {}

    package func nowMilliseconds() -> Int64 { Timestamp.nowMilliseconds() }

    package func sleep(untilMilliseconds until: Int64) async throws {
        let pause = until - Timestamp.nowMilliseconds()
        if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
    }
}
