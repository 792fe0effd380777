/// Serializes responses to bytes (RFC 9112 §4, §6; RFC 9110 §8.6).
enum ResponseWriter {
    static let continueBytes: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The wire form of `response`. HEAD, 1xx, 204 and 304 carry no body; HEAD keeps the
    /// Content-Length that GET would send.
    static func serialize(_ response: HTTPResponse, requestID: String, isHead: Bool, version: HTTPVersion,
                          close: Bool, date: String, into out: inout [UInt8]) {
        let status = response.status
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\nDate: \(date)\r\n"
        let bodyless = (100..<200).contains(status) || status == 204 || status == 304
        var hasContentType = false
        for field in response.headers {
            let lower = field.name.lowercased()
            if lower == "content-length" || lower == "connection" || lower == "date" || lower == "transfer-encoding"
                || lower == "x-request-id" { continue }
            if lower == "content-type" { hasContentType = true }
            head += field.name
            head += ": "
            head += field.value
            head += "\r\n"
        }
        if !bodyless {
            if !hasContentType && !response.body.isEmpty { head += "Content-Type: application/octet-stream\r\n" }
            head += "Content-Length: \(response.body.count)\r\n"
        }
        head += "X-Request-Id: \(requestID)\r\n"
        if close {
            head += "Connection: close\r\n"
        } else if version.minor == 0 {
            head += "Connection: keep-alive\r\n"
        }
        head += "\r\n"
        out.append(contentsOf: head.utf8)
        if !bodyless && !isHead { out.append(contentsOf: response.body) }
    }

    /// The bytes for a protocol error the server answers itself (always closes).
    static func errorBytes(_ error: HTTPError, requestID: String, date: String) -> [UInt8] {
        var out: [UInt8] = []
        serialize(.error(status: error.status, code: error.code, message: error.message), requestID: requestID,
                  isHead: false, version: .http1_1, close: true, date: date, into: &out)
        return out
    }
}
