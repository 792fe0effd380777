import Dispatch
import Foundation
import Synchronization
@testable import HTTPServer

/// A live server on an ephemeral loopback port with a small echo application:
/// - `/echo` answers `{"method","target","bodyLength"}` plus the body in `X-Body`-free JSON;
/// - `/body` answers the request body itself;
/// - `/slow?ms=N` answers after N ms from another thread;
/// - `/peer` answers the request's `remoteAddress` as text;
/// - `/big?bytes=N` answers N bytes;
/// - anything else answers `{}`.
final class TestServer {
    let server: HTTPServer
    var port: Int { server.port }

    init(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoopCount = 2
        configure(&configuration)
        server = try HTTPServer(configuration: configuration, handler: TestServer.handle)
        server.start()
    }

    deinit {
        server.shutdown()
        server.wait()
    }

    static func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let path = request.path
        if path == "/body" {
            responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: request.body))
        } else if path == "/slow" {
            let ms = Int(request.query.split(separator: "=").last ?? "100") ?? 100
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
                responder.respond(.json("{\"slow\":\(ms)}"))
            }
        } else if path == "/big" {
            let count = Int(request.query.split(separator: "=").last ?? "0") ?? 0
            responder.respond(HTTPResponse(status: 200, body: [UInt8](repeating: 120, count: count)))
        } else if path == "/peer" {
            responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array(request.remoteAddress.utf8)))
        } else if path == "/echo" {
            responder.respond(.json("{\"method\":\"\(request.method)\",\"target\":\"\(request.target)\",\"bodyLength\":\(request.body.count)}"))
        } else {
            responder.respond(.json("{}"))
        }
    }
}

/// Runs `body` with the port of a live `TestServer`, kept alive for the whole body.
func withTestServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }, _ body: (Int) throws -> Void) throws {
    let server = try TestServer(configure)
    try withExtendedLifetime(server) { try body(server.port) }
}

/// The real monotonic clock plus an offset the test moves forward: a deadline passes the moment
/// the test says so, while everything else (epoll waits, the shutdown grace period) keeps real time.
final class SteppedClock: HTTPServerClock {
    private let offset = Atomic<UInt64>(0)

    func now() -> UInt64 { SystemMonotonicClock().now() + offset.load(ordering: .sequentiallyConsistent) }

    func advance(_ duration: Duration) { offset.wrappingAdd(duration.nanoseconds, ordering: .sequentiallyConsistent) }
}

/// Runs `body` against a server with one event loop on a `SteppedClock`, with the port and the clock.
func withSteppedServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                       _ body: (Int, SteppedClock) throws -> Void) throws {
    let clock = SteppedClock()
    try withTestServer({ c in
        c.clock = clock
        c.eventLoopCount = 1
        configure(&c)
    }) { port in try body(port, clock) }
}

/// A GET on a new connection, answered. With one event loop this is a barrier: the loop has read
/// whatever was sent to it before, and has woken since (checking its deadlines at the end of that pass).
func roundTrip(port: Int) throws {
    let client = try RawClient(port: port)
    client.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
    guard client.readResponse()?.status == 200 else { throw RoundTripFailed() }
}

struct RoundTripFailed: Error {}
