import Logging

/// A response from the application. The server adds `Date`, `Content-Length`, `X-Request-Id` and
/// `Connection` itself.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeaders.Field]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers.map { HTTPHeaders.Field(name: $0.0, value: $0.1) }
        self.body = body
    }

    /// Adds a header field (name as given).
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append(HTTPHeaders.Field(name: name, value: value))
    }

    /// A JSON response (`Content-Type: application/json; charset=utf-8`).
    public static func json(status: Int = 200, _ body: [UInt8], headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: body)
    }

    /// A JSON response from UTF-8 text.
    public static func json(status: Int = 200, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        json(status: status, Array(text.utf8), headers: headers)
    }

    /// The error shape of every endpoint: `{"errors":[{"message":"...","code":"..."}]}`.
    public static func error(status: Int, code: String, message: String, headers: [(String, String)] = []) -> HTTPResponse {
        json(status: status, errorBody(code: code, message: message), headers: headers)
    }

    /// `{"errors":[{"message":...,"code":...}]}` as text.
    public static func errorBody(code: String, message: String) -> String {
        var text = "{\"errors\":[{\"message\":"
        appendJSONString(message, to: &text)
        text += ",\"code\":"
        appendJSONString(code, to: &text)
        text += "}]}"
        return text
    }

    static func appendJSONString(_ value: String, to out: inout String) {
        Logger.appendQuoted(value, to: &out)
    }

    /// The reason phrase for the status line.
    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
