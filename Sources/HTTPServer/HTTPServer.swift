import Foundation
import Glibc
import Logging
import Synchronization

/// A general HTTP/1.1 server over epoll (spec 01). It knows nothing of the application: requests
/// are handed to an `HTTPHandler`.
///
/// ```swift
/// let server = try HTTPServer(configuration: config, logger: logger) { request, responder in
///     responder.respond(.json("{}"))
/// }
/// try server.start()
/// server.wait()
/// ```
public final class HTTPServer: Sendable {
    private let shared: ServerShared
    private let stopped = DispatchGroup()
    private let started = AtomicFlag()

    /// Binds the listening socket (so `port` is known) without serving yet.
    public init(configuration: HTTPServerConfiguration, logger: Logger? = nil,
                handler: @escaping HTTPHandler) throws(SystemError) {
        signal(SIGPIPE, SIG_IGN)
        raiseFileLimit(to: configuration.maxConnections + 256)
        let listener = try Socket.listen(host: configuration.host, port: configuration.port)
        shared = ServerShared(configuration: configuration, listenerFD: listener, logger: logger, handler: handler)
        do {
            for index in 0..<max(1, configuration.eventLoopCount) {
                shared.loops.append(try EventLoop(index: index, shared: shared))
            }
        } catch {
            close(listener)
            throw error
        }
    }

    /// The bound port (useful with port 0).
    public var port: Int { Socket.localPort(shared.listenerFD) }

    /// Starts the event-loop threads and begins accepting.
    public func start() {
        guard started.set() else { return }
        for loop in shared.loops {
            stopped.enter()
            let thread = Thread { [stopped] in
                loop.run()
                stopped.leave()
            }
            thread.name = "http-loop-\(loop.index)"
            thread.start()
        }
    }

    /// Stops accepting, answers requests already received with `Connection: close`, closes idle
    /// connections, and lets `wait()` return once all are done or the grace period has passed.
    public func shutdown() {
        for loop in shared.loops { loop.beginShutdown() }
    }

    /// Blocks until every event loop has finished after `shutdown()`.
    public func wait() {
        stopped.wait()
        shared.closeListener()
    }
}

/// State shared by the server's loops. Immutable after `HTTPServer.init` returns except for the
/// atomic connection counter and the listener close flag.
///
/// `@unchecked Sendable`: `loops` is appended to only inside `HTTPServer.init`, before any loop
/// thread starts (`start()`), and only read afterwards.
final class ServerShared: @unchecked Sendable {
    let configuration: HTTPServerConfiguration
    let listenerFD: Int32
    let logger: Logger?
    let handler: HTTPHandler
    let openConnections = Atomic<Int>(0)
    let requestIDPrefix: String
    var loops: [EventLoop] = []
    private let listenerClosed = AtomicFlag()

    init(configuration: HTTPServerConfiguration, listenerFD: Int32, logger: Logger?, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.listenerFD = listenerFD
        self.logger = logger
        self.handler = handler
        var random: UInt32 = 0
        withUnsafeMutableBytes(of: &random) { _ = getentropy($0.baseAddress, $0.count) }
        self.requestIDPrefix = String(random, radix: 16) + "-"
    }

    func closeListener() {
        if listenerClosed.set() { close(listenerFD) }
    }

    /// One access-log line per request: method, path with tokens masked, status, duration.
    func accessLog(_ entry: ConnectionStateMachine.AccessLog) {
        guard let logger, logger.isEnabled(.info) else { return }
        let micros = (entry.finishedAt &- entry.startedAt) / 1000
        logger.info("request", [
            "requestId": .string(entry.requestID), "method": .string(entry.method),
            "path": .string(redact(entry.target)), "status": .int(entry.status),
            "durationMs": .double(Double(micros) / 1000),
        ])
    }

    /// The target with the values of `redactedQueryParameters` replaced by `***`.
    func redact(_ target: String) -> String {
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        let query = target[target.index(after: q)...]
        var changed = false
        let parts = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> Substring in
            let name = part.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if configuration.redactedQueryParameters.contains(name) || configuration.redactedQueryParameters.contains(name.removingPercentEncoding ?? name) {
                changed = true
                return Substring(name + "=***")
            }
            return part
        }
        return changed ? String(target[...q]) + parts.joined(separator: "&") : target
    }
}

/// Raises RLIMIT_NOFILE's soft limit toward `wanted` (up to the hard limit).
private func raiseFileLimit(to wanted: Int) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    let target = min(rlim_t(wanted), limit.rlim_max)
    if limit.rlim_cur < target {
        limit.rlim_cur = target
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
