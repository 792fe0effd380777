/// What every connection of one event loop shares: the limits and timeouts from the
/// configuration, and the loop's request-id counter and `Date` text. Used on the loop's thread
/// only (not Sendable).
final class ConnectionEnvironment {
    let limits: HTTPRequestParser.Limits
    let maxPipelineDepth: Int
    /// Output not yet taken by the socket beyond which no further request is read (backpressure).
    let maxBufferedOutput: Int
    let timeouts: ConnectionTimeouts
    /// How long a half-closed connection keeps discarding input (RFC 9112 §9.6), in nanoseconds.
    let lingerDuration: UInt64
    private let requestIDPrefix: String
    private var requestCounter: UInt64 = 0
    private var dateCache = DateCache()

    init(limits: HTTPRequestParser.Limits, maxPipelineDepth: Int, maxBufferedOutput: Int = 1 << 20,
         timeouts: ConnectionTimeouts, lingerDuration: UInt64 = 2_000_000_000, requestIDPrefix: String) {
        self.limits = limits
        self.maxPipelineDepth = maxPipelineDepth
        self.maxBufferedOutput = maxBufferedOutput
        self.timeouts = timeouts
        self.lingerDuration = lingerDuration
        self.requestIDPrefix = requestIDPrefix
    }

    convenience init(_ configuration: HTTPServerConfiguration, requestIDPrefix: String) {
        self.init(limits: .init(maxHeadBytes: configuration.maxHeadBytes, maxHeaderCount: configuration.maxHeaderCount,
                                maxBodyBytes: configuration.maxBodyBytes),
                  maxPipelineDepth: configuration.maxPipelineDepth, timeouts: ConnectionTimeouts(configuration),
                  requestIDPrefix: requestIDPrefix)
    }

    /// A request id unique on this server: the prefix, then a counter in hex.
    func nextRequestID() -> String {
        requestCounter &+= 1
        return requestIDPrefix + String(requestCounter, radix: 16)
    }

    /// The `Date` header's value for now.
    func date() -> String { dateCache.current() }
}
