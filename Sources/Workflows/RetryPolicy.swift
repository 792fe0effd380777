import Foundation

/// When to try a failed step again (issue 13: a retry policy, not "retry every second forever").
///
/// A pure value: given how many tries have failed, an optional `Retry-After` from the server and
/// how long the execution may still run, it answers the pause before the next try, or nil once
/// `retries` further tries have been spent. The pause is exponential with "equal jitter": half
/// of `base · 2^(failures-1)` (capped at `cap`) plus a random part of the other half, so
/// executions that failed together do not retry in lockstep, yet each pause still grows.
/// A `Retry-After` raises the pause to what the server asked for, up to `maxRetryAfter`; no
/// pause runs past the execution's `options.timeoutMs` deadline.
package struct RetryPolicy: Sendable, Equatable {
    /// Tries after the first one (`options.retries`, a request node's `config.retries`).
    package var retries: Int
    package var baseMilliseconds: Int64
    package var capMilliseconds: Int64
    /// The longest `Retry-After` honoured; a server asking for more waits this long.
    package var maxRetryAfterMilliseconds: Int64 = 60_000

    /// `options.retries` when a workflow does not say (also a request node's `retries`).
    package static let defaultRetries = 3
    /// The most retries a workflow or node may ask for; more count as this many.
    package static let maxRetries = 10

    /// The `request` node: 200 ms, 400 ms, 800 ms … up to 5 s (before jitter).
    package static func request(retries: Int) -> RetryPolicy {
        RetryPolicy(retries: clamped(retries), baseMilliseconds: 200, capMilliseconds: 5_000)
    }

    /// A write step that threw in the writer (storage busy or full): 500 ms, 1 s, 2 s … up to 10 s.
    package static func writeStep(retries: Int) -> RetryPolicy {
        RetryPolicy(retries: clamped(retries), baseMilliseconds: 500, capMilliseconds: 10_000)
    }

    private static func clamped(_ retries: Int) -> Int { max(0, min(retries, maxRetries)) }

    /// The pause (milliseconds) before the next try after `failures` tries failed (1 after the
    /// first), or nil when the retries are spent. `retryAfterMilliseconds` is what the server asked
    /// for; `remainingMilliseconds` is the time left before the execution's deadline, if it has one.
    package func delay(afterFailures failures: Int, retryAfterMilliseconds: Int64? = nil, remainingMilliseconds: Int64? = nil,
               using random: inout some RandomNumberGenerator) -> Int64? {
        guard failures >= 1, failures <= retries else { return nil }
        let exponent = min(failures - 1, 30)
        let ceiling = min(capMilliseconds, baseMilliseconds.multipliedReportingOverflow(by: Int64(1) << exponent).partialValue)
        let half = max(0, ceiling / 2)
        var pause = half + Int64.random(in: 0...max(0, ceiling - half), using: &random)
        if let asked = retryAfterMilliseconds { pause = max(pause, min(max(0, asked), maxRetryAfterMilliseconds)) }
        if let remaining = remainingMilliseconds { pause = min(pause, max(0, remaining)) }
        return pause
    }

    /// A `Retry-After` value (RFC 9110 §10.2.3) as milliseconds from `now` (milliseconds since
    /// 1970): delta-seconds (digits only: `+5` or `1.5` is not one) or an HTTP-date; nil when it
    /// is neither. A date in the past is 0.
    package static func retryAfterMilliseconds(_ value: String, now: Int64) -> Int64? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Longer than 9 digits is more than any cap: saturate instead of overflowing.
            guard text.utf8.count <= 9, let seconds = Int64(text) else { return Int64.max / 2 }
            return seconds * 1000
        }
        guard let date = httpDate(text) else { return nil }
        return max(0, Int64(date.timeIntervalSince1970 * 1000) - now)
    }

    /// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send.
    private static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
