import Testing
@testable import HTTPServer

/// The parser fed whole, byte by byte, and as several requests in one buffer (STYLE habit 12).
struct HTTPRequestParserTests {
    static let limits = HTTPRequestParser.Limits(maxHeadBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 64)

    enum Outcome: Equatable {
        case request(method: String, target: String, body: String)
        case failure(Int)
        case needMore
    }

    /// Feeds `input` in pieces of `chunk` bytes and collects every outcome.
    static func run(_ input: String, chunk: Int = .max, limits: HTTPRequestParser.Limits = limits) -> [Outcome] {
        var parser = HTTPRequestParser(limits: limits)
        var outcomes: [Outcome] = []
        let bytes = Array(input.utf8)
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + max(1, chunk))
            parser.feed(Array(bytes[offset..<end]))
            offset = end
            loop: while true {
                switch parser.next() {
                case .needMore: break loop
                case .continueExpected: continue
                case .request(let r): outcomes.append(.request(method: r.method, target: r.target, body: String(decoding: r.body, as: UTF8.self)))
                case .failure(let e): outcomes.append(.failure(e.status)); return outcomes
                }
            }
        } while offset < bytes.count
        return outcomes
    }

    static let good: [(String, Outcome)] = [
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", .request(method: "GET", target: "/", body: "")),
        ("POST /p?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", .request(method: "POST", target: "/p?x=1", body: "hello")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n", .request(method: "POST", target: "/", body: "hello world")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", .request(method: "POST", target: "/", body: "0123456789")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .request(method: "POST", target: "/", body: "abc")),
        ("\r\nGET /after-empty-line HTTP/1.1\r\nHost: a\r\n\r\n", .request(method: "GET", target: "/after-empty-line", body: "")),
        ("GET / HTTP/1.0\r\n\r\n", .request(method: "GET", target: "/", body: "")),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Spaces:   v a l   \r\n\r\n", .request(method: "GET", target: "/", body: "")),
    ]

    @Test(arguments: good)
    func acceptsWellFormedRequests_wholeAndByteByByte(input: String, expected: Outcome) {
        #expect(Self.run(input) == [expected])
        #expect(Self.run(input, chunk: 1) == [expected])
    }

    static let bad: [(String, Int)] = [
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400), // CL + TE
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400), // two CLs
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400), // bad chunk size
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400), // overflow
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY", 400), // no CRLF after data
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", 413), // chunk over the body limit
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65\r\n\r\n", 413),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400), // obs-fold
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400), // space before colon
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n: v\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX: a\u{1}b\r\n\r\n", 400), // control character
        ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400), // bare CR
        ("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n", 400), // bare LF inside the head
        ("GET  / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1 \r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("GET / HTTP/1.x\r\n\r\n", 400),
        ("get\t/ HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx", 417),
    ]

    @Test(arguments: bad)
    func rejectsMalformedRequests_wholeAndByteByByte(input: String, status: Int) {
        #expect(Self.run(input).last == .failure(status))
        #expect(Self.run(input, chunk: 1).last == .failure(status))
    }

    @Test func headAtExactlyTheLimitPasses_andOneByteMoreIs431() {
        let base = "GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n"
        let limit = 64
        let exact = base.replacingOccurrences(of: "X: ", with: "X: " + String(repeating: "v", count: limit - base.utf8.count))
        let limits = HTTPRequestParser.Limits(maxHeadBytes: limit, maxHeaderCount: 10, maxBodyBytes: 10)
        #expect(exact.utf8.count == limit)
        #expect(Self.run(exact, limits: limits).count == 1)
        #expect(Self.run(exact.replacingOccurrences(of: "X: ", with: "X: v"), limits: limits) == [.failure(431)])
        #expect(Self.run("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 200), chunk: 7, limits: limits) == [.failure(431)])
    }

    @Test func exactlyMaxHeadersPass_andOneMoreIs431() {
        let headers = (0..<10).map { "H\($0): v\r\n" }.joined()
        #expect(Self.run("GET / HTTP/1.1\r\n\(headers)\r\n").count == 1)
        #expect(Self.run("GET / HTTP/1.1\r\n\(headers)Extra: 1\r\n\r\n") == [.failure(431)])
    }

    @Test func chunkedBodyOverTheLimitIs413_evenInSmallChunks() {
        let chunks = String(repeating: "8\r\n12345678\r\n", count: 9) + "0\r\n\r\n"
        #expect(Self.run("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks) == [.failure(413)])
    }

    @Test func pipelinedRequestsComeOutInOrder_wholeAndByteByByte() {
        let input = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"
        let expected: [Outcome] = [.request(method: "GET", target: "/1", body: ""), .request(method: "POST", target: "/2", body: "hi"),
                                   .request(method: "GET", target: "/3", body: "")]
        #expect(Self.run(input) == expected)
        #expect(Self.run(input, chunk: 1) == expected)
        #expect(Self.run(input, chunk: 5) == expected)
    }

    @Test func nothingIsParsedAfterAnError() {
        let input = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(Self.run(input) == [.failure(400)])
    }

    @Test func keepAliveFollowsVersionAndConnectionTokens() {
        func keepAlive(_ head: String) -> Bool? {
            var parser = HTTPRequestParser(limits: Self.limits)
            parser.feed(Array(head.utf8))
            if case .request(let r) = parser.next() { return r.keepAlive }
            return nil
        }
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == true)
    }

    @Test func expectContinueIsSignalledOnceBeforeTheBody() {
        var parser = HTTPRequestParser(limits: Self.limits)
        parser.feed(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        guard case .continueExpected = parser.next() else { Issue.record("no continue"); return }
        guard case .needMore = parser.next() else { Issue.record("expected needMore"); return }
        #expect(parser.phase == .body)
        parser.feed(Array("ok".utf8))
        guard case .request(let r) = parser.next() else { Issue.record("no request"); return }
        #expect(r.body == Array("ok".utf8))
    }

    @Test(arguments: ["0", "42", "1048576"])
    func decimalParsingAcceptsDigits(_ text: String) {
        #expect(HTTPRequestParser.parseDecimal(Array(text.utf8)) == Int(text))
    }

    @Test(arguments: ["", "+1", "-1", " 1", "1 ", "1_0", "0x1", "99999999999999999999"])
    func decimalParsingRejectsEverythingElse(_ text: String) {
        #expect(HTTPRequestParser.parseDecimal(Array(text.utf8)) == nil)
    }
}
