import Glibc

/// The time source of the server's deadlines (head, body, idle and write timeouts, the lingering
/// close, the accept pause, the shutdown grace period): monotonic nanoseconds since an arbitrary
/// fixed point, never decreasing.
///
/// The default, `SystemMonotonicClock`, is what a server wants. A test may pass a clock it moves by
/// hand in `HTTPServerConfiguration.clock`: an event loop reads the clock when it wakes (for a
/// socket event, a message or a deadline it computed from this clock), so a clock moved forward
/// takes effect at the loop's next wake-up.
public protocol HTTPServerClock: Sendable {
    /// The current time in nanoseconds.
    func now() -> UInt64
}

/// `CLOCK_MONOTONIC`: unaffected by changes to the wall clock.
public struct SystemMonotonicClock: HTTPServerClock {
    /// The clock; it has no state.
    public init() {}

    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    @inline(__always)
    public func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
