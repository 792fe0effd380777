import HTTPServer
import Logging

/// Settings of the application layer (the HTTP server has its own).
public struct ApplicationConfiguration: Sendable {
    /// Folder holding the database and the root token.
    public var dataDirectory: String = "./data"
    public init() {}
}

/// TriggerBase itself: turns HTTP requests into actions. For now it serves `/health` and answers
/// everything else with a JSON 404.
public final class Application: Sendable {
    public let configuration: ApplicationConfiguration
    private let logger: Logger

    public init(configuration: ApplicationConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
    }

    /// The request handler to give to `HTTPServer`.
    public var handler: HTTPHandler {
        { [self] request, responder in handle(request, responder) }
    }

    private func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let path = request.path
        if path == "/health" {
            guard request.method == "GET" || request.method == "HEAD" else {
                responder.respond(Self.methodNotAllowed(allow: "GET, HEAD"))
                return
            }
            responder.respond(.json(Self.healthBody))
            return
        }
        responder.respond(.error(status: 404, code: "NOT_FOUND", message: "no route for \(request.method) \(path)"))
    }

    private static let healthBody: [UInt8] = Array(#"{"data":{"status":"ok"}}"#.utf8)

    static func methodNotAllowed(allow: String) -> HTTPResponse {
        .error(status: 405, code: "METHOD_NOT_ALLOWED", message: "method not allowed; allowed: \(allow)",
               headers: [("Allow", allow)])
    }

    /// Finishes background work (write batches, the workflow dispatcher) before exit.
    public func shutdown() {
        logger.flush()
    }
}
