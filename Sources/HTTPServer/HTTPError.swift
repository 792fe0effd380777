/// A protocol error found while reading a request. Every one is answered by the server itself
/// with the JSON error shape, and the connection is closed after it (spec 01: Errors).
public struct HTTPError: Error, Sendable, Equatable {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> HTTPError { HTTPError(status: 400, code: "BAD_REQUEST", message: message) }
    static func headTooLarge(_ message: String) -> HTTPError { HTTPError(status: 431, code: "HEADERS_TOO_LARGE", message: message) }
    static let bodyTooLarge = HTTPError(status: 413, code: "PAYLOAD_TOO_LARGE", message: "request body is larger than the limit")
    static let headTimeout = HTTPError(status: 408, code: "REQUEST_TIMEOUT", message: "request head not received in time")
    static let bodyTimeout = HTTPError(status: 408, code: "REQUEST_TIMEOUT", message: "request body stalled")
    static func unsupportedCoding(_ coding: String) -> HTTPError {
        HTTPError(status: 501, code: "NOT_IMPLEMENTED", message: "transfer coding '\(coding)' is not supported")
    }
    static let unsupportedVersion = HTTPError(status: 505, code: "HTTP_VERSION_NOT_SUPPORTED", message: "only HTTP/1.0 and HTTP/1.1 are supported")
    static let expectationFailed = HTTPError(status: 417, code: "EXPECTATION_FAILED", message: "only 'Expect: 100-continue' is supported")
    static let tooManyConnections = HTTPError(status: 503, code: "TOO_MANY_CONNECTIONS", message: "the server has too many open connections")
}
