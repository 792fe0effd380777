import Dispatch
import Foundation
@testable import HTTPServer

/// A live server on an ephemeral loopback port with a small echo application:
/// - `/echo` answers `{"method","target","bodyLength"}` plus the body in `X-Body`-free JSON;
/// - `/body` answers the request body itself;
/// - `/slow?ms=N` answers after N ms from another thread;
/// - `/peer` answers the request's `remoteAddress` as text;
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
