/// An incremental, strict HTTP/1.x request parser: bytes in, events out, no I/O (STYLE habit 3).
///
/// Every limit is enforced here, before a head or body is complete, so a client can never make
/// the server buffer more than the configured sizes. Framing follows RFC 9112 §6 strictly:
/// `Content-Length` with `Transfer-Encoding`, differing lengths, a malformed length, or a coding
/// other than `chunked` are errors, and after any error the parser stays failed (the connection
/// must close), which is what stops request smuggling.
struct HTTPRequestParser {
    struct Limits: Sendable {
        var maxHeadBytes: Int
        var maxHeaderCount: Int
        var maxBodyBytes: Int
    }

    enum Event {
        /// Feed more bytes.
        case needMore
        /// The head asked for `Expect: 100-continue` and its body has not all arrived yet.
        case continueExpected
        /// A whole request (its `requestID` still empty).
        case request(HTTPRequest)
        /// A protocol error; answer it and close.
        case failure(HTTPError)
    }

    enum Phase: Equatable {
        /// Between requests, with no byte of the next one buffered.
        case idle
        /// Some bytes of a head have arrived.
        case head
        /// The head is parsed and the body is being read.
        case body
    }

    private struct PendingHead {
        var request: HTTPRequest
        var expectsContinue: Bool
    }

    private enum Framing {
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer(bytes: Int)
    }

    private enum State {
        case head
        case body(PendingHead, Framing)
        case failed
    }

    /// Longest chunk-size line we read, extensions included (RFC 9112 §7.1.1 asks for a cap).
    static let maxChunkLineBytes = 4096

    let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var state: State = .head
    private var body: [UInt8] = []
    private var bodyWireBytes = 0

    init(limits: Limits) {
        self.limits = limits
    }

    var phase: Phase {
        switch state {
        case .head: start < buffer.count ? .head : .idle
        case .body: .body
        case .failed: .idle
        }
    }

    var hasFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    /// Bytes received and not yet consumed by a request.
    var bufferedByteCount: Int { buffer.count - start }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        } else if start > 65_536 {
            buffer.removeFirst(start)
            scanned = max(0, scanned - start)
            start = 0
        }
        buffer.append(contentsOf: bytes.bindMemory(to: UInt8.self))
    }

    mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next event from the bytes fed so far.
    mutating func next() -> Event {
        switch state {
        case .failed:
            return .needMore
        case .head:
            return parseHead()
        case .body(let head, let framing):
            return continueBody(head, framing, justParsedHead: false)
        }
    }

    private mutating func fail(_ error: HTTPError) -> Event {
        state = .failed
        buffer = []
        start = 0
        body = []
        return .failure(error)
    }

    // MARK: Head

    private mutating func parseHead() -> Event {
        // RFC 9112 §2.2: ignore empty lines received before a request line.
        while buffer.count - start >= 2 && buffer[start] == 13 && buffer[start + 1] == 10 {
            start += 2
        }
        if buffer.count - start == 1 && buffer[start] == 13 { return .needMore }
        let available = buffer.count - start
        guard available > 0 else { return .needMore }

        let searchFrom = max(start, start + scanned - 3)
        let searchTo = min(buffer.count, start + limits.maxHeadBytes)
        var headEnd = -1
        buffer.withUnsafeBufferPointer { bytes in
            var i = searchFrom
            while i + 3 < searchTo {
                if bytes[i + 3] != 10 { i += bytes[i + 3] == 13 ? 1 : 4; continue }
                if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 { headEnd = i; return }
                i += 1
            }
        }
        guard headEnd >= 0 else {
            if available >= limits.maxHeadBytes {
                return fail(.headTooLarge("request head is larger than \(limits.maxHeadBytes) bytes"))
            }
            scanned = available
            return .needMore
        }
        let headBytes = headEnd + 4 - start
        let result = buffer.withUnsafeBufferPointer { bytes in
            Self.parseHeadBytes(UnsafeBufferPointer(rebasing: bytes[start..<(headEnd + 2)]), limits: limits)
        }
        start += headBytes
        scanned = 0
        switch result {
        case .failure(let error):
            return fail(error)
        case .success(let (head, framing)):
            body = []
            bodyWireBytes = 0
            return continueBody(head, framing, justParsedHead: true)
        }
    }

    /// Parses the request line and header lines (each ending in CRLF; the final empty line excluded).
    private static func parseHeadBytes(_ bytes: UnsafeBufferPointer<UInt8>, limits: Limits) -> Result<(PendingHead, Framing), HTTPError> {
        var lineStart = 0
        func nextLine() -> Range<Int>? {
            guard lineStart < bytes.count else { return nil }
            var i = lineStart
            while i + 1 < bytes.count && !(bytes[i] == 13 && bytes[i + 1] == 10) { i += 1 }
            let range = lineStart..<i
            lineStart = i + 2
            return range
        }
        guard let requestLine = nextLine() else { return .failure(.badRequest("empty request line")) }

        // METHOD SP request-target SP HTTP-version (RFC 9112 §3), strictly one space each.
        var i = requestLine.lowerBound
        while i < requestLine.upperBound && isTokenByte(bytes[i]) { i += 1 }
        guard i > requestLine.lowerBound, i < requestLine.upperBound, bytes[i] == 32 else {
            return .failure(.badRequest("malformed request line"))
        }
        let method = String(decoding: UnsafeBufferPointer(rebasing: bytes[requestLine.lowerBound..<i]), as: UTF8.self)
        i += 1
        let targetStart = i
        while i < requestLine.upperBound && bytes[i] > 32 && bytes[i] < 127 { i += 1 }
        guard i > targetStart, i < requestLine.upperBound, bytes[i] == 32 else {
            return .failure(.badRequest("malformed request line"))
        }
        let target = String(decoding: UnsafeBufferPointer(rebasing: bytes[targetStart..<i]), as: UTF8.self)
        i += 1
        guard requestLine.upperBound - i == 8,
              bytes[i] == 72, bytes[i + 1] == 84, bytes[i + 2] == 84, bytes[i + 3] == 80, bytes[i + 4] == 47,
              isDigit(bytes[i + 5]), bytes[i + 6] == 46, isDigit(bytes[i + 7]) else {
            return .failure(.badRequest("malformed request line"))
        }
        let version = HTTPVersion(major: Int(bytes[i + 5] - 48), minor: Int(bytes[i + 7] - 48))
        guard version.major == 1 else { return .failure(.unsupportedVersion) }

        var headers = HTTPHeaders()
        while let line = nextLine() {
            guard !line.isEmpty else { return .failure(.badRequest("empty header line")) }
            if bytes[line.lowerBound] == 32 || bytes[line.lowerBound] == 9 {
                return .failure(.badRequest("obsolete line folding is not allowed"))
            }
            var j = line.lowerBound
            while j < line.upperBound && bytes[j] != 58 {
                guard isTokenByte(bytes[j]) else { return .failure(.badRequest("invalid character in header name")) }
                j += 1
            }
            guard j < line.upperBound else { return .failure(.badRequest("header line without a colon")) }
            guard j > line.lowerBound else { return .failure(.badRequest("empty header name")) }
            guard headers.count < limits.maxHeaderCount else {
                return .failure(.headTooLarge("more than \(limits.maxHeaderCount) header fields"))
            }
            // Token bytes are ASCII: lowercased straight into the string's storage.
            let name = String(unsafeUninitializedCapacity: j - line.lowerBound) { storage in
                for k in line.lowerBound..<j {
                    let b = bytes[k]
                    storage[k - line.lowerBound] = b >= 65 && b <= 90 ? b + 32 : b
                }
                return j - line.lowerBound
            }
            var valueStart = j + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd && (bytes[valueStart] == 32 || bytes[valueStart] == 9) { valueStart += 1 }
            while valueEnd > valueStart && (bytes[valueEnd - 1] == 32 || bytes[valueEnd - 1] == 9) { valueEnd -= 1 }
            for k in valueStart..<valueEnd {
                let b = bytes[k]
                if (b < 32 && b != 9) || b == 127 { return .failure(.badRequest("control character in header value")) }
            }
            let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
            headers.append(name: name, value: value)
        }
        return interpret(method: method, target: target, version: version, headers: headers, limits: limits)
    }

    /// Decides framing, persistence and expectations from the parsed head (RFC 9112 §6, §9.3).
    private static func interpret(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders,
                                  limits: Limits) -> Result<(PendingHead, Framing), HTTPError> {
        if headers.values("host").count > 1 { return .failure(.badRequest("more than one Host header")) }

        let connection = headers.tokens("connection")
        let keepAlive = version.minor >= 1 ? !connection.contains("close") : connection.contains("keep-alive")

        var framing = Framing.length(remaining: 0)
        let codings = headers.tokens("transfer-encoding")
        let lengths = headers.values("content-length")
        if !codings.isEmpty {
            if !lengths.isEmpty { return .failure(.badRequest("both Content-Length and Transfer-Encoding")) }
            if version.minor == 0 { return .failure(.badRequest("Transfer-Encoding in an HTTP/1.0 request")) }
            if let unknown = codings.first(where: { $0 != "chunked" && !$0.isEmpty && !$0.hasPrefix("chunked") }) {
                return .failure(.unsupportedCoding(unknown))
            }
            guard codings == ["chunked"] else { return .failure(.badRequest("malformed Transfer-Encoding")) }
            framing = .chunkSize
        } else if !lengths.isEmpty {
            var declared: Int?
            for member in lengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
                guard let value = parseDecimal(member.trimmingOWS().utf8) else {
                    return .failure(.badRequest("invalid Content-Length"))
                }
                if let d = declared, d != value { return .failure(.badRequest("differing Content-Length values")) }
                declared = value
            }
            let length = declared ?? 0
            if length > limits.maxBodyBytes { return .failure(.bodyTooLarge) }
            framing = .length(remaining: length)
        }

        var expectsContinue = false
        if let expect = headers["expect"], version.minor >= 1 {
            guard expect.lowercased() == "100-continue" else { return .failure(.expectationFailed) }
            expectsContinue = true
        }
        let request = HTTPRequest(method: method, target: target, version: version, headers: headers,
                                  body: [], requestID: "", keepAlive: keepAlive)
        return .success((PendingHead(request: request, expectsContinue: expectsContinue), framing))
    }

    // MARK: Body

    private mutating func continueBody(_ head: PendingHead, _ framing: Framing, justParsedHead: Bool) -> Event {
        var framing = framing
        loop: while true {
            switch framing {
            case .length(let remaining):
                let take = min(remaining, buffer.count - start)
                if take > 0 {
                    body.append(contentsOf: buffer[start..<(start + take)])
                    start += take
                }
                if remaining - take == 0 { break loop }
                framing = .length(remaining: remaining - take)
                return waitForBody(head, framing, justParsedHead: justParsedHead)

            case .chunkSize:
                let limit = min(buffer.count, start + Self.maxChunkLineBytes)
                var lineEnd = -1
                var k = start
                while k + 1 < limit { if buffer[k] == 13 && buffer[k + 1] == 10 { lineEnd = k; break }; k += 1 }
                guard lineEnd >= 0 else {
                    if buffer.count - start >= Self.maxChunkLineBytes { return fail(.badRequest("chunk-size line too long")) }
                    return waitForBody(head, framing, justParsedHead: justParsedHead)
                }
                guard let size = Self.parseChunkSizeLine(buffer[start..<lineEnd]) else {
                    return fail(.badRequest("malformed chunk size"))
                }
                bodyWireBytes += lineEnd + 2 - start
                start = lineEnd + 2
                if size > limits.maxBodyBytes - body.count { return fail(.bodyTooLarge) }
                framing = size == 0 ? .trailer(bytes: 0) : .chunkData(remaining: size)

            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - start)
                if take > 0 {
                    body.append(contentsOf: buffer[start..<(start + take)])
                    start += take
                    bodyWireBytes += take
                }
                framing = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                if remaining != take { return waitForBody(head, framing, justParsedHead: justParsedHead) }

            case .chunkDataEnd:
                guard buffer.count - start >= 2 else {
                    if buffer.count - start == 1 && buffer[start] != 13 { return fail(.badRequest("chunk data not followed by CRLF")) }
                    return waitForBody(head, framing, justParsedHead: justParsedHead)
                }
                guard buffer[start] == 13 && buffer[start + 1] == 10 else { return fail(.badRequest("chunk data not followed by CRLF")) }
                start += 2
                bodyWireBytes += 2
                framing = .chunkSize

            case .trailer(let bytes):
                // Trailer fields are read and discarded, never merged into the headers (RFC 9110 §6.5.1).
                var k = start
                var lineEnd = -1
                while k + 1 < buffer.count { if buffer[k] == 13 && buffer[k + 1] == 10 { lineEnd = k; break }; k += 1 }
                guard lineEnd >= 0 else {
                    if bytes + buffer.count - start > limits.maxHeadBytes { return fail(.headTooLarge("trailer section too large")) }
                    return waitForBody(head, framing, justParsedHead: justParsedHead)
                }
                let lineLength = lineEnd + 2 - start
                if bytes + lineLength > limits.maxHeadBytes { return fail(.headTooLarge("trailer section too large")) }
                let isEmpty = lineEnd == start
                if !isEmpty && !buffer[start..<lineEnd].contains(58) { return fail(.badRequest("malformed trailer field")) }
                start = lineEnd + 2
                if isEmpty { break loop }
                framing = .trailer(bytes: bytes + lineLength)
            }
            if bodyWireBytes > limits.maxBodyBytes * 2 + 65_536 { return fail(.bodyTooLarge) }
        }
        var request = head.request
        request.body = body
        body = []
        state = .head
        return .request(request)
    }

    private mutating func waitForBody(_ head: PendingHead, _ framing: Framing, justParsedHead: Bool) -> Event {
        state = .body(head, framing)
        if justParsedHead && head.expectsContinue { return .continueExpected }
        return .needMore
    }

    // MARK: Lexical helpers

    /// `1*HEXDIG [ BWS ";" chunk-ext ]` (RFC 9112 §7.1); nil when malformed or absurdly large.
    private static func parseChunkSizeLine(_ line: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var digits = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            if digits >= 15 { return nil }
            value = value * 16 + digit
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        while index < line.endIndex && (line[index] == 32 || line[index] == 9) { index += 1 }
        if index == line.endIndex { return value }
        guard line[index] == 59 else { return nil }
        for b in line[index...] where (b < 32 && b != 9) || b == 127 { return nil }
        return value
    }

    /// `1*DIGIT` as an Int; signs, spaces, empty text and overflow are nil (STYLE habit 10).
    static func parseDecimal(_ text: some Collection<UInt8>) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for b in text {
            guard isDigit(b) else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(b - 48))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: Int(b - 48)
        case 65...70: Int(b - 55)
        case 97...102: Int(b - 87)
        default: nil
        }
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 48...57, 65...90, 97...122: true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: true
        default: false
        }
    }
}
