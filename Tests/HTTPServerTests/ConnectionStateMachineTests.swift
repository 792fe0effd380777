import Testing
@testable import HTTPServer

/// The protocol of one connection driven by made-up bytes and answers: no socket, no thread.
struct ConnectionStateMachineTests {
    static let get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

    static func get(_ path: String, _ extra: String = "") -> String { "GET \(path) HTTP/1.1\r\nHost: a\r\n\(extra)\r\n" }

    @Test func aRequestIsHandedOver_andItsAnswerWrittenWithTheServersHeaders_keepingTheConnection() throws {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/a?b=1"))
        let dispatch = try #require(driver.requests.first)
        #expect(dispatch.request.method == "GET" && dispatch.request.target == "/a?b=1")
        #expect(dispatch.request.remoteAddress == "192.0.2.7")
        #expect(dispatch.request.requestID.hasPrefix("t-"))
        #expect(driver.written.isEmpty)

        driver.respond(dispatch.sequence, "{}")
        let response = try #require(driver.responses.first)
        #expect(response.status == 200 && response.body == "{}")
        #expect(response.header("Content-Length") == "2")
        #expect(response.header("X-Request-Id") == dispatch.request.requestID)
        #expect(response.header("Date") != nil)
        #expect(response.header("Connection") == nil)
        #expect(driver.reading && !driver.shutDownWrite && !driver.closed)
        #expect(driver.logs == [.init(method: "GET", target: "/a?b=1", status: 200, requestID: dispatch.request.requestID,
                                      startedAt: driver.clock.now, finishedAt: driver.clock.now)])
    }

    @Test func pipelinedRequestsAreAnsweredInRequestOrder_whateverOrderTheAnswersComeIn() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0") + Self.get("/1") + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        #expect(driver.requests.map(\.request.target) == ["/0", "/1", "/2"])
        #expect(driver.requests.last?.request.body == Array("abc".utf8))
        driver.respond(2, "two")
        #expect(driver.written.isEmpty, "the third answer waits for the first two")
        driver.respond(0, "zero")
        #expect(driver.responses.map(\.body) == ["zero"])
        driver.respond(1, "one")
        #expect(driver.responses.map(\.body) == ["zero", "one", "two"])
    }

    @Test func aFullPipelineStopsReading_andAnAnswerWrittenTakesTheNextBufferedRequest() {
        var driver = ConnectionDriver(maxPipelineDepth: 2)
        driver.receive(Self.get("/0") + Self.get("/1") + Self.get("/2"))
        #expect(driver.requests.map(\.request.target) == ["/0", "/1"])
        #expect(!driver.reading)
        driver.respond(0)
        #expect(driver.requests.map(\.request.target) == ["/0", "/1", "/2"])
        #expect(!driver.reading, "the pipeline is full again")
        driver.respond(1)
        driver.respond(2)
        #expect(driver.responses.count == 3)
        #expect(driver.reading)
    }

    /// A client that pipelines more than the output limit of answers and reads only at the end
    /// gets every answer: the requests left in the buffer are taken once the output is written.
    @Test func backedUpOutputStopsReading_andTakesTheBufferedRequestOnceTheSocketTakesIt() {
        var driver = ConnectionDriver(maxBufferedOutput: 100)
        driver.socketTakesOutput = false
        driver.receive(Self.get("/0"))
        driver.respond(0, String(repeating: "x", count: 200))
        #expect(!driver.reading)
        driver.receive(Self.get("/1"))
        #expect(driver.requests.count == 1, "no request is taken while the output is backed up")
        driver.socketTakes(50)
        #expect(driver.requests.count == 1)
        driver.socketTakes(1_000)
        #expect(driver.requests.map(\.request.target) == ["/0", "/1"])
        #expect(driver.reading)
    }

    @Test func expectContinueGets100BeforeTheBody_whichThenCompletesTheRequest() throws {
        var driver = ConnectionDriver()
        driver.receive("POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        #expect(driver.writtenText == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(driver.requests.isEmpty)
        driver.receive("data")
        let dispatch = try #require(driver.requests.first)
        #expect(dispatch.request.body == Array("data".utf8))
        driver.respond(dispatch.sequence, "ok")
        #expect(driver.responses.map(\.status) == [100, 200])
        #expect(driver.logs.count == 1, "the interim answer is not a request")
    }

    @Test func expectContinueOverTheBodyLimitGets413WithoutA100() {
        var driver = ConnectionDriver()
        driver.receive("POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 65\r\n\r\n")
        #expect(driver.responses.map(\.status) == [413])
        #expect(driver.shutDownWrite)
    }

    static let limitErrors: [(String, Int, String)] = [
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "x", count: 1100))\r\n\r\n", 431, "HEADERS_TOO_LARGE"),
        ("GET / HTTP/1.1\r\n" + (0..<11).map { "H\($0): 1\r\n" }.joined() + "\r\n", 431, "HEADERS_TOO_LARGE"),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65\r\n\r\n", 413, "PAYLOAD_TOO_LARGE"),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "BAD_REQUEST"),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
    ]

    /// Answered by the server itself, then a lingering close: half-close, discard what still
    /// arrives, close when the peer does.
    @Test(arguments: limitErrors)
    func aProtocolErrorIsAnswered_thenTheConnectionHalfClosesAndDiscardsTheRest(request: String, status: Int, code: String) throws {
        var driver = ConnectionDriver()
        driver.receive(request + Self.get("/after"))
        let response = try #require(driver.responses.first)
        #expect(driver.responses.count == 1)
        #expect(response.status == status)
        #expect(response.body.contains("\"code\":\"\(code)\""))
        #expect(response.header("Connection") == "close")
        #expect(driver.logs.map(\.status) == [status])
        #expect(driver.requests.isEmpty)
        #expect(driver.shutDownWrite && driver.reading && !driver.closed)

        driver.receive(Self.get("/later"))
        #expect(driver.requests.isEmpty && driver.responses.count == 1)
        driver.peerCloses()
        #expect(driver.closed)
    }

    @Test func anErrorAfterPipelinedRequestsWaitsForTheirAnswers() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0") + "BROKEN\r\n\r\n")
        #expect(driver.requests.count == 1)
        #expect(driver.written.isEmpty && !driver.shutDownWrite)
        driver.respond(0, "zero")
        #expect(driver.responses.map(\.status) == [200, 400])
        #expect(driver.shutDownWrite)
    }

    @Test func connectionCloseFromTheClient_isAnsweredWithClose_andWhatFollowsIsNotRead() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0", "Connection: close\r\n") + Self.get("/1"))
        #expect(driver.requests.map(\.request.target) == ["/0"])
        #expect(!driver.reading)
        driver.respond(0)
        #expect(driver.responses.map { $0.header("Connection") } == ["close"])
        #expect(driver.shutDownWrite && driver.requests.count == 1)
    }

    @Test func http10KeepsTheConnectionOnlyWhenAsked() {
        var driver = ConnectionDriver()
        driver.receive("GET /0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        driver.respond(0)
        #expect(driver.responses.last?.header("Connection") == "keep-alive")
        #expect(!driver.shutDownWrite)
        driver.receive("GET /1 HTTP/1.0\r\n\r\n")
        driver.respond(1)
        #expect(driver.responses.last?.header("Connection") == "close")
        #expect(driver.shutDownWrite)
    }

    @Test func aHeadAnswerKeepsTheLengthOfGet_butNoBody() {
        var driver = ConnectionDriver()
        driver.receive("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
        driver.respond(0, "12345")
        #expect(driver.writtenText.contains("Content-Length: 5\r\n"))
        #expect(driver.writtenText.hasSuffix("\r\n\r\n"))
    }

    @Test func aSaneRequestIDIsKept_andAnInsaneOneReplaced() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0", "X-Request-Id: abc-123.x:y_z\r\n") + Self.get("/1", "X-Request-Id: bad id<script>\r\n"))
        #expect(driver.requests.map(\.request.requestID) == ["abc-123.x:y_z", "t-1"])
    }

    @Test func aHalfClosedPeerStillGetsItsAnswer_thenTheConnectionCloses() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0"))
        driver.peerCloses()
        #expect(!driver.closed && !driver.reading)
        driver.respond(0, "zero")
        #expect(driver.responses.map(\.body) == ["zero"])
        #expect(driver.closed)
    }

    @Test func thePeerClosingWithNothingOwed_closesAtOnce_evenMidHead() {
        var driver = ConnectionDriver()
        driver.receive("GET / HT")
        driver.peerCloses()
        #expect(driver.closed && driver.written.isEmpty)
    }

    @Test func drainingClosesAConnectionThatOwesNothing_atOnce() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0"))
        driver.respond(0)
        driver.beginDraining()
        #expect(driver.closed)
    }

    @Test func drainingAnswersTheLastRequestWithClose() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0") + Self.get("/1"))
        driver.beginDraining()
        #expect(!driver.closed)
        driver.respond(0)
        driver.respond(1)
        #expect(driver.responses.map { $0.header("Connection") } == [nil, "close"])
        #expect(driver.shutDownWrite)
    }

    @Test func aBodyArrivingAtShutdownIsStillRead_andItsRequestAnsweredWithClose() {
        var driver = ConnectionDriver()
        driver.receive(Self.get("/0") + "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
        driver.beginDraining()
        driver.respond(0)
        #expect(driver.responses.first?.header("Connection") == nil, "a request is still arriving")
        driver.receive("cd")
        #expect(driver.requests.last?.request.body == Array("abcd".utf8))
        driver.respond(1)
        #expect(driver.responses.last?.header("Connection") == "close")
        #expect(driver.shutDownWrite)
    }
}
