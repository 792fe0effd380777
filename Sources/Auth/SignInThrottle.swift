import Foundation
import Model
import Synchronization

/// How much password hashing anyone who can reach the port may cause (issue 13). The defaults are
/// the documented numbers (README, Authentication).
public struct SignInLimits: Sendable {
    /// Threads that hash and verify passwords (default: the active cores). Nothing else hashes.
    public var hashThreads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Sign-ins hashing or waiting for a hashing thread at once, server-wide (default: twice the
    /// hashing threads); one more is answered 429 `TOO_MANY_REQUESTS` with `Retry-After: 1`.
    public var maxConcurrentSignIns: Int = 2 * ProcessInfo.processInfo.activeProcessorCount
    /// Sign-in attempts one client address may make at once before it must wait (default 10).
    public var perAddressBurst: Int = 10
    /// Seconds one client address waits to earn one more attempt (default 1: 60 a minute).
    public var perAddressRefillSeconds: Double = 1
    /// Client addresses remembered at most (default 10,000, about 1 MB); the fullest buckets are forgotten first.
    public var maxTrackedAddresses: Int = 10_000
    /// Other callers (`users:create|update`) waiting for a hashing thread at most (default 64);
    /// one more is answered 503 `OVERLOADED`.
    public var maxWaitingHashes: Int = 64

    public init() {}
}

/// Per-client-address token buckets (pure; the time is passed in, so tests move a clock): each
/// address holds up to `burst` attempts and earns one back every `refillSeconds`.
package struct AddressBudget {
    private struct Bucket { var tokens: Double; var updatedAt: Double }

    package let burst: Int
    package let refillSeconds: Double
    package let maxAddresses: Int
    private var buckets: [String: Bucket] = [:]

    package init(burst: Int, refillSeconds: Double, maxAddresses: Int) {
        self.burst = max(1, burst)
        self.refillSeconds = max(0, refillSeconds)
        self.maxAddresses = max(1, maxAddresses)
    }

    package var trackedAddresses: Int { buckets.count }

    /// Takes one attempt for `address` at `now` (monotonic seconds): nil when allowed, else the
    /// whole seconds until the next attempt is earned (for `Retry-After`).
    package mutating func take(_ address: String, now: Double) -> Int? {
        var bucket = buckets[address].map { refilled($0, now) } ?? Bucket(tokens: Double(burst), updatedAt: now)
        guard bucket.tokens >= 1 else {
            buckets[address] = bucket
            return max(1, Int((refillSeconds * (1 - bucket.tokens)).rounded(.up)))
        }
        bucket.tokens -= 1
        if buckets[address] == nil && buckets.count >= maxAddresses { evict(now) }
        buckets[address] = bucket
        return nil
    }

    private func refilled(_ bucket: Bucket, _ now: Double) -> Bucket {
        guard refillSeconds > 0 else { return Bucket(tokens: Double(burst), updatedAt: now) }
        let earned = max(0, now - bucket.updatedAt) / refillSeconds
        return Bucket(tokens: min(Double(burst), bucket.tokens + earned), updatedAt: now)
    }

    /// Forgets the addresses whose buckets are full again (they lose nothing); if none is, the
    /// fullest half, so a spent (hostile) address is the last to be forgotten.
    private mutating func evict(_ now: Double) {
        let full = buckets.filter { refilled($0.value, now).tokens >= Double(burst) }.map(\.key)
        if !full.isEmpty {
            for key in full { buckets.removeValue(forKey: key) }
            return
        }
        let fullest = buckets.sorted { refilled($0.value, now).tokens > refilled($1.value, now).tokens }.prefix(max(1, buckets.count / 2))
        for (key, _) in fullest { buckets.removeValue(forKey: key) }
    }
}

/// The admission checks in front of every sign-in hash: the per-address budget and the global cap
/// on sign-ins hashing at once (the per-account slow-down is `SignInFailures`). Counts refusals
/// for `/metrics`.
package final class SignInThrottle: Sendable {
    package let limits: SignInLimits
    private let budget: Mutex<AddressBudget>
    private let inProgress = Atomic<Int>(0)
    private let refusedBusy = Atomic<Int>(0)
    private let refusedAddress = Atomic<Int>(0)
    private let now: @Sendable () -> Double

    package init(limits: SignInLimits, now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.limits = limits
        self.now = now
        budget = Mutex(AddressBudget(burst: limits.perAddressBurst, refillSeconds: limits.perAddressRefillSeconds,
                                     maxAddresses: limits.maxTrackedAddresses))
    }

    /// Takes one attempt from `address`'s budget, or throws 429 with the seconds until the next.
    package func admit(address: String) throws(DomainError) {
        let time = now()
        if let wait = budget.withLock({ $0.take(address, now: time) }) {
            refusedAddress.wrappingAdd(1, ordering: .relaxed)
            throw Self.tooManyRequests("too many sign-in attempts from this address", retryAfter: wait)
        }
    }

    /// Runs `body` (the hash) as one of at most `maxConcurrentSignIns`, or throws 429 at once.
    package func withHashSlot<T>(_ body: () async throws -> T) async throws -> T {
        guard inProgress.wrappingAdd(1, ordering: .acquiring).newValue <= limits.maxConcurrentSignIns else {
            inProgress.wrappingSubtract(1, ordering: .releasing)
            refusedBusy.wrappingAdd(1, ordering: .relaxed)
            throw Self.tooManyRequests("too many sign-ins in progress", retryAfter: 1)
        }
        defer { inProgress.wrappingSubtract(1, ordering: .releasing) }
        return try await body()
    }

    /// Sign-ins hashing or waiting for a hashing thread now.
    package var signInsInProgress: Int { inProgress.load(ordering: .relaxed) }

    package var prometheusLines: String {
        """
        triggerbase_signin_refused_total{reason="busy"} \(refusedBusy.load(ordering: .relaxed))
        triggerbase_signin_refused_total{reason="address"} \(refusedAddress.load(ordering: .relaxed))
        """
    }

    package static func tooManyRequests(_ message: String, retryAfter seconds: Int) -> DomainError {
        var error = DomainError(.rateLimited, code: "TOO_MANY_REQUESTS", message: message)
        error.retryAfterSeconds = seconds
        return error
    }
}
