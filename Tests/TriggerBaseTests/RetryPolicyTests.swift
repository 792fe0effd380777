import Foundation
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// `RetryPolicy` on its own (issue 13): the schedule with a seeded generator, `Retry-After`,
/// the deadline cap and the end of the retries.
@Suite struct RetryPolicyTests {
    /// SplitMix64: a deterministic generator, so the jittered pauses are the same on every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Always the top of the jitter range / always the bottom.
    struct Fixed: RandomNumberGenerator {
        var value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test func backoffDoublesWithinEqualJitterBounds_upToTheCap_thenStops() {
        let policy = RetryPolicy(retries: 8, baseMilliseconds: 200, capMilliseconds: 5_000)
        var random = SeededGenerator(state: 42)
        let pauses = (1...9).map { policy.delay(afterFailures: $0, using: &random) }
        let ceilings: [Int64] = [200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000]
        for (pause, ceiling) in zip(pauses, ceilings) {
            #expect(pause.map { $0 >= ceiling / 2 && $0 <= ceiling } == true, "\(String(describing: pause)) outside [\(ceiling / 2), \(ceiling)]")
        }
        #expect(pauses[8] == nil, "after 8 retries the 9th failure is final")
        var again = SeededGenerator(state: 42)
        #expect((1...9).map { policy.delay(afterFailures: $0, using: &again) } == pauses, "the same seed gives the same schedule")
    }

    @Test func jitterSpreadsExecutionsThatFailedTogether() {
        let policy = RetryPolicy.request(retries: 3)
        let pauses = Set((0..<50).map { seed -> Int64? in
            var random = SeededGenerator(state: UInt64(seed))
            return policy.delay(afterFailures: 3, using: &random)
        })
        #expect(pauses.count > 10, "50 executions do not retry in lockstep: \(pauses.count) distinct pauses")
    }

    @Test(arguments: [0, 1, 3])
    func retriesCountsTriesAfterTheFirst(retries: Int) {
        let policy = RetryPolicy.writeStep(retries: retries)
        var random = SeededGenerator(state: 7)
        let scheduled = (1...5).compactMap { policy.delay(afterFailures: $0, using: &random) }
        #expect(scheduled.count == retries)
    }

    @Test func defaultsAreThreeRetries_requestsFrom200msTo5s_writeStepsFrom500msTo10s() {
        #expect(RetryPolicy.defaultRetries == 3)
        #expect(RetryPolicy.request(retries: RetryPolicy.defaultRetries) == RetryPolicy(retries: 3, baseMilliseconds: 200, capMilliseconds: 5_000))
        #expect(RetryPolicy.writeStep(retries: 3) == RetryPolicy(retries: 3, baseMilliseconds: 500, capMilliseconds: 10_000))
        #expect(RetryPolicy.request(retries: 50).retries == RetryPolicy.maxRetries && RetryPolicy.request(retries: -1).retries == 0)
    }

    @Test func retryAfterRaisesThePause_upToItsCap() {
        let policy = RetryPolicy.request(retries: 3)
        var top = Fixed(value: .max)
        #expect(policy.delay(afterFailures: 1, retryAfterMilliseconds: 1_000, using: &top) == 1_000, "the server asked for 1 s")
        #expect(policy.delay(afterFailures: 1, retryAfterMilliseconds: 0, using: &top) == 200, "never shorter than the backoff")
        #expect(policy.delay(afterFailures: 1, retryAfterMilliseconds: 3_600_000, using: &top) == 60_000, "an hour is capped at a minute")
        #expect(policy.delay(afterFailures: 4, retryAfterMilliseconds: 1_000, using: &top) == nil, "Retry-After does not add retries")
    }

    @Test func noPauseRunsPastTheExecutionsDeadline() {
        let policy = RetryPolicy.request(retries: 3)
        var top = Fixed(value: .max)
        #expect(policy.delay(afterFailures: 3, remainingMilliseconds: 300, using: &top) == 300)
        #expect(policy.delay(afterFailures: 1, retryAfterMilliseconds: 30_000, remainingMilliseconds: 2_500, using: &top) == 2_500)
        #expect(policy.delay(afterFailures: 1, remainingMilliseconds: -5, using: &top) == 0)
    }

    @Test(arguments: [
        ("1", Int64?(1_000)), ("120", 120_000), (" 3 ", 3_000), ("0", 0),
        ("+5", nil), ("-1", nil), ("1.5", nil), ("", nil), ("soon", nil),
        ("99999999999999999999", Int64.max / 2),
    ])
    func retryAfterDeltaSecondsAreDigitsOnly(value: String, expected: Int64?) {
        #expect(RetryPolicy.retryAfterMilliseconds(value, now: 0) == expected)
    }

    @Test func retryAfterHTTPDateIsTheTimeUntilThatDate_andAPastDateIsZero() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after 1970.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"
        #expect(RetryPolicy.retryAfterMilliseconds(date, now: 784_111_777_000 - 2_500) == 2_500)
        #expect(RetryPolicy.retryAfterMilliseconds(date, now: 784_111_777_000 + 10_000) == 0)
        #expect(RetryPolicy.retryAfterMilliseconds("Sunday, 06-Nov-94 08:49:37 GMT", now: 0) == nil, "only IMF-fixdate")
    }
}
