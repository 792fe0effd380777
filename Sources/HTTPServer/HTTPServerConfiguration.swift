/// Everything the server can be tuned with (spec 01: "Limits and timeouts"). Defaults are the spec's.
public struct HTTPServerConfiguration: Sendable {
    /// Address to listen on (IPv4 dotted quad, or `localhost`).
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks an ephemeral port (read it back from `HTTPServer.port`).
    public var port: Int = 13000
    /// Number of event-loop threads; defaults to the number of cores.
    public var eventLoopCount: Int = HTTPServerConfiguration.defaultEventLoopCount
    /// Request line plus header lines with their CRLFs, up to and including the empty line (431).
    public var maxHeadBytes: Int = 16 * 1024
    /// Header fields per request, `Host` included; exactly this many pass (431).
    public var maxHeaderCount: Int = 100
    /// Decoded request body (413).
    public var maxBodyBytes: Int = 1_048_576
    /// Time from a request's first byte to the end of its head (408). A new connection that sends
    /// nothing at all is closed silently after this long.
    public var headTimeout: Duration = .seconds(10)
    /// Longest gap between two pieces of a body (408).
    public var bodyTimeout: Duration = .seconds(30)
    /// Idle keep-alive connection, closed silently.
    public var idleTimeout: Duration = .seconds(60)
    /// Open connections; one more is answered 503 and closed.
    public var maxConnections: Int = 10_000
    /// Requests parsed ahead on one connection before the server stops reading from it.
    public var maxPipelineDepth: Int = 16
    /// How long shutdown waits for requests already received.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Query parameters whose values are masked in the access log (spec 03: tokens never logged).
    public var redactedQueryParameters: Set<String> = ["token"]
    /// Where every deadline above is measured; tests may pass a clock they move by hand.
    public var clock: any HTTPServerClock = SystemMonotonicClock()

    public init() {}

    public static var defaultEventLoopCount: Int {
        let cores = sysconfCores()
        return max(1, cores)
    }
}

#if canImport(Glibc)
import Glibc
private func sysconfCores() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#else
import Foundation
private func sysconfCores() -> Int { ProcessInfo.processInfo.activeProcessorCount }
#endif

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        return ns &+ UInt64(attoseconds / 1_000_000_000)
    }
}
