/// Serializes responses to bytes (RFC 9112 §4, §6; RFC 9110 §8.6).
enum ResponseWriter {
    static let continueBytes: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The wire form of `response`. HEAD, 1xx, 204 and 304 carry no body; HEAD keeps the
    /// Content-Length that GET would send.
    static func serialize(_ response: HTTPResponse, requestID: String, isHead: Bool, version: HTTPVersion,
                          close: Bool, date: String, into out: inout [UInt8]) {
        // Written byte by byte into `out`: building the head as a String first cost a copy and an
        // allocation per piece, and lowercasing every header name another.
        let status = response.status
        let bodyless = (100..<200).contains(status) || status == 204 || status == 304
        let sendsBody = !bodyless && !isHead
        out.reserveCapacity(out.count + 192 + 64 * response.headers.count + (sendsBody ? response.body.count : 0))
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: HTTPResponse.reason(status).utf8)
        out.append(contentsOf: "\r\nDate: ".utf8)
        out.append(contentsOf: date.utf8)
        out.append(contentsOf: crlf)
        var hasContentType = false
        for field in response.headers {
            let name = field.name.utf8
            if framingFields.contains(where: { equalIgnoringASCIICase(name, $0) }) { continue }
            if equalIgnoringASCIICase(name, contentType) { hasContentType = true }
            out.append(contentsOf: name)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: crlf)
        }
        if !bodyless {
            if !hasContentType && !response.body.isEmpty { out.append(contentsOf: "Content-Type: application/octet-stream\r\n".utf8) }
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(response.body.count).utf8)
            out.append(contentsOf: crlf)
        }
        out.append(contentsOf: "X-Request-Id: ".utf8)
        out.append(contentsOf: requestID.utf8)
        out.append(contentsOf: crlf)
        if close {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version.minor == 0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: crlf)
        if sendsBody { out.append(contentsOf: response.body) }
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let contentType = Array("content-type".utf8)
    /// Header fields the server writes itself; a handler's own are dropped.
    private static let framingFields = ["content-length", "connection", "date", "transfer-encoding", "x-request-id"].map { Array($0.utf8) }

    /// Whether `name` is `lowercase` (given in lower case) in any ASCII case.
    private static func equalIgnoringASCIICase(_ name: String.UTF8View, _ lowercase: [UInt8]) -> Bool {
        guard name.count == lowercase.count else { return false }
        return zip(name, lowercase).allSatisfy { byte, lower in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == lower
        }
    }

    /// The bytes for a protocol error the server answers itself (always closes).
    static func errorBytes(_ error: HTTPError, requestID: String, date: String) -> [UInt8] {
        var out: [UInt8] = []
        serialize(.error(status: error.status, code: error.code, message: error.message), requestID: requestID,
                  isHead: false, version: .http1_1, close: true, date: date, into: &out)
        return out
    }
}
