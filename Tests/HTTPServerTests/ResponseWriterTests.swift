import Testing
@testable import HTTPServer

/// The wire form of responses: the server's own framing fields, whatever a handler sets.
@Suite struct ResponseWriterTests {
    private func wire(_ response: HTTPResponse, isHead: Bool = false, version: HTTPVersion = .http1_1, close: Bool = false) -> String {
        var out: [UInt8] = []
        ResponseWriter.serialize(response, requestID: "r-1", isHead: isHead, version: version, close: close,
                                 date: "Mon, 07 Dec 2026 15:00:00 GMT", into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func framingFieldsAHandlerSetsAreReplacedInAnyCase_andItsOwnFieldsKept() {
        let response = HTTPResponse(status: 201, headers: [("CONTENT-LENGTH", "999"), ("connection", "upgrade"), ("Date", "x"),
                                                           ("Transfer-Encoding", "chunked"), ("x-request-id", "forged"),
                                                           ("content-TYPE", "text/plain"), ("X-Own", "kept")], body: Array("hi".utf8))
        #expect(wire(response) == "HTTP/1.1 201 Created\r\nDate: Mon, 07 Dec 2026 15:00:00 GMT\r\ncontent-TYPE: text/plain\r\n"
            + "X-Own: kept\r\nContent-Length: 2\r\nX-Request-Id: r-1\r\n\r\nhi")
    }

    @Test func aBodyWithoutContentTypeIsOctetStream_andHeadKeepsItsLengthWithoutTheBody() {
        let response = HTTPResponse(status: 200, body: Array("abc".utf8))
        #expect(wire(response, isHead: true, close: true) == "HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 15:00:00 GMT\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 3\r\nX-Request-Id: r-1\r\nConnection: close\r\n\r\n")
    }

    @Test func noContentHasNoLength_andHTTP10IsToldKeepAlive() {
        #expect(wire(HTTPResponse(status: 204), version: .http1_0) == "HTTP/1.1 204 No Content\r\nDate: Mon, 07 Dec 2026 15:00:00 GMT\r\n"
            + "X-Request-Id: r-1\r\nConnection: keep-alive\r\n\r\n")
    }
}
