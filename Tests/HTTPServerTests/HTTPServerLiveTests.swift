import Dispatch
import Foundation
import Synchronization
import Testing
@testable import HTTPServer

/// The server through real sockets on an ephemeral loopback port.
struct HTTPServerLiveTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            for _ in 0..<3 {
                client.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
                let response = try #require(client.readResponse())
                #expect(response.status == 200)
                #expect(response.header("Date") != nil)
                #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
                #expect(response.header("X-Request-Id")?.isEmpty == false)
            }
        }
    }

    /// Per-client limits (sign-in budgets) key on this address, so a header must not move it.
    @Test func everyRequestCarriesThePeerAddress_andForwardedHeadersDoNotChangeIt() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("GET /peer HTTP/1.1\r\nHost: a\r\n\r\nGET /peer HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\nX-Real-IP: 203.0.113.9\r\n\r\n")
            #expect(client.readResponse()?.bodyText == "127.0.0.1")
            #expect(client.readResponse()?.bodyText == "127.0.0.1")
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder_evenWhenTheFirstIsSlow() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("GET /slow?ms=200 HTTP/1.1\r\nHost: a\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
            #expect(client.readResponse()?.bodyText == #"{"slow":200}"#)
            #expect(client.readResponse()?.bodyText.contains("/echo?n=2") == true)
            #expect(client.readResponse()?.bodyText == "abc")
        }
    }

    /// A response handed over as a builder from another thread is built on the connection's
    /// event-loop thread (the one that ran the handler) and keeps its place in the pipeline.
    @Test func aResponseBuiltLaterIsBuiltOnTheConnectionsLoop_andKeepsItsPlace() throws {
        let threads = Mutex<(handler: pthread_t?, builder: pthread_t?)>((nil, nil))
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.eventLoopCount = 1
        let server = try HTTPServer(configuration: configuration) { request, responder in
            guard request.path == "/built" else { return TestServer.handle(request, responder) }
            threads.withLock { $0.handler = pthread_self() }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
                responder.respond(building: {
                    threads.withLock { $0.builder = pthread_self() }
                    return .json(#"{"built":true}"#)
                })
            }
        }
        server.start()
        defer { server.shutdown(); server.wait() }
        let client = try RawClient(port: server.port)
        client.send("GET /built HTTP/1.1\r\nHost: a\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(client.readResponse()?.bodyText == #"{"built":true}"#)
        #expect(client.readResponse()?.bodyText.contains("/echo?n=2") == true)
        let (handler, builder) = threads.withLock { $0 }
        #expect(handler != nil && builder != nil && pthread_equal(handler!, builder!) != 0)
    }

    /// A builder runs even when its client has gone: what it logs about the request is not lost.
    @Test func aResponseBuiltAfterTheClientLeftIsStillBuilt() throws {
        let arrived = DispatchSemaphore(value: 0)
        let built = DispatchSemaphore(value: 0)
        let closed = DispatchSemaphore(value: 0)
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = try HTTPServer(configuration: configuration) { _, responder in
            arrived.signal()
            DispatchQueue.global().async {
                _ = closed.wait(timeout: .now() + 5)
                Thread.sleep(forTimeInterval: 0.1)  // the server has seen the close by now
                responder.respond(building: {
                    built.signal()
                    return .json("{}")
                })
            }
        }
        server.start()
        defer { server.shutdown(); server.wait() }
        do {
            let client = try RawClient(port: server.port)
            client.send("GET /left HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(arrived.wait(timeout: .now() + 5) == .success)
            var reset = linger(l_onoff: 1, l_linger: 0)  // close with RST: the server drops the connection
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        }
        closed.signal()
        #expect(built.wait(timeout: .now() + 5) == .success)
    }

    @Test func chunkedBodyArrivesIntact() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            let payload = (0..<5000).map { String($0 % 10) }.joined()
            var request = "POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            var rest = Substring(payload)
            while !rest.isEmpty {
                let piece = rest.prefix(777)
                rest = rest.dropFirst(piece.count)
                request += String(piece.count, radix: 16) + "\r\n" + piece + "\r\n"
            }
            request += "0\r\n\r\n"
            client.send(request)
            #expect(client.readResponse()?.bodyText == payload)
        }
    }

    @Test func headIsAnsweredLikeGetWithoutABody() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n")
            let head = try #require(client.readResponse(head: true))
            #expect(head.status == 200)
            #expect(Int(head.header("Content-Length") ?? "") ?? 0 > 0)
            #expect(head.body.isEmpty)
            #expect(client.readResponse()?.bodyText == "{}")
        }
    }

    @Test func sensibleRequestIdIsEchoed_andAnInsaneOneReplaced() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123.x:y_z\r\n\r\n")
            #expect(client.readResponse()?.header("X-Request-Id") == "abc-123.x:y_z")
            client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: bad id<script>\r\n\r\n")
            let replaced = client.readResponse()?.header("X-Request-Id")
            #expect(replaced != nil && replaced != "bad id<script>")
        }
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(client.readResponse()?.header("Connection") == "keep-alive")
            client.send("GET / HTTP/1.0\r\n\r\n")
            #expect(client.readResponse()?.header("Connection") == "close")
            #expect(client.waitForClose())
        }
    }

    @Test func connectionCloseFromTheClientClosesAfterTheResponse_andLaterRequestsGetNothing() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse()?.header("Connection") == "close")
            #expect(client.readUntilClose().isEmpty)
        }
    }

    @Test func expectContinueGets100BeforeTheBody() throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send("POST /body HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            #expect(client.readResponse()?.status == 100)
            client.send("data")
            #expect(client.readResponse()?.bodyText == "data")
        }
    }

    @Test func expectContinueOverTheLimitGets413WithoutA100() throws {
        try withTestServer({ c in c.maxBodyBytes = 10 }) { port in
            let client = try RawClient(port: port)
            client.send("POST /body HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 413)
            #expect(client.waitForClose())
        }
    }

    // MARK: The limits table of spec 01, one row each, with a small configured limit.

    @Test func headOverMaxHeadIs431AndClosed() throws {
        try withTestServer({ c in c.maxHeadBytes = 256 }) { port in
            let client = try RawClient(port: port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "x", count: 300))\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 431)
            #expect(response.bodyText.contains("\"code\":\"HEADERS_TOO_LARGE\""))
            #expect(response.header("Connection") == "close")
            #expect(client.waitForClose())
        }
    }

    @Test func moreThanMaxHeadersIs431AndClosed() throws {
        try withTestServer({ c in c.maxHeaderCount = 5 }) { port in
            let ok = try RawClient(port: port)
            ok.send("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n")
            #expect(ok.readResponse()?.status == 200)
            let client = try RawClient(port: port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n")
            #expect(client.readResponse()?.status == 431)
            #expect(client.waitForClose())
        }
    }

    @Test func bodyOverMaxBodyIs413AndClosed() throws {
        try withTestServer({ c in c.maxBodyBytes = 100 }) { port in
            let client = try RawClient(port: port)
            client.send("POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n" + String(repeating: "x", count: 101))
            let response = try #require(client.readResponse())
            #expect(response.status == 413)
            #expect(response.bodyText.contains("PAYLOAD_TOO_LARGE"))
            #expect(client.waitForClose())
        }
    }

    // MARK: Timeouts, one per kind. The state-machine tests cover their rules; these check that
    // the loop arms and acts on them, on a clock moved forward instead of waiting.

    @Test func slowHeadGets408_whileAnotherClientIsServedNormally() throws {
        try withSteppedServer { port, clock in
            let slow = try RawClient(port: port)
            slow.send("GET / HTTP/1.1\r\nHost: a\r\n")
            let fast = try RawClient(port: port)
            for _ in 0..<5 {
                fast.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(fast.readResponse()?.status == 200)
            }
            clock.advance(.seconds(10))
            fast.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(fast.readResponse()?.status == 200)
            let response = try #require(slow.readResponse())
            #expect(response.status == 408)
            #expect(slow.waitForClose())
        }
    }

    /// The one timeout left on the real clock, so the default clock is checked end to end: the
    /// client blocks in recv (5 s upper bound) until the server closes.
    @Test func silentNewConnectionIsClosedWithoutAnAnswer() throws {
        try withTestServer({ c in c.headTimeout = .milliseconds(300) }) { port in
            let client = try RawClient(port: port)
            #expect(client.readUntilClose().isEmpty)
            #expect(client.sawClose)
        }
    }

    @Test func stalledBodyGets408() throws {
        try withSteppedServer { port, clock in
            let client = try RawClient(port: port)
            client.send("POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
            try roundTrip(port: port)
            clock.advance(.seconds(30))
            try roundTrip(port: port)
            let response = try #require(client.readResponse())
            #expect(response.status == 408)
            #expect(client.waitForClose())
        }
    }

    @Test func idleKeepAliveConnectionIsClosedSilently() throws {
        try withSteppedServer { port, clock in
            let client = try RawClient(port: port)
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
            clock.advance(.seconds(60))
            try roundTrip(port: port)
            #expect(client.readUntilClose().isEmpty)
            #expect(client.sawClose)
        }
    }

    /// The write timeout: the answer backs up in a client that does not read (a 4 KiB receive
    /// buffer), the output stops moving, and the connection is closed before all of it is sent.
    @Test func aClientThatStopsReadingIsClosedAfterTheWriteTimeout() throws {
        try withSteppedServer { port, clock in
            let total = 16 << 20
            let client = try RawClient(port: port, receiveBuffer: 4096)
            client.send("GET /big?bytes=\(total) HTTP/1.1\r\nHost: a\r\n\r\n")
            try roundTrip(port: port)
            clock.advance(.seconds(30))
            try roundTrip(port: port)
            let received = client.readUntilClose()
            #expect(client.sawClose)
            #expect(received.count < total)
        }
    }

    @Test func connectionOverMaxConnectionsGets503() throws {
        try withTestServer({ c in c.maxConnections = 2 }) { port in
            let first = try RawClient(port: port)
            let second = try RawClient(port: port)
            first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            second.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(first.readResponse()?.status == 200)
            #expect(second.readResponse()?.status == 200)
            let third = try RawClient(port: port)
            #expect(third.readResponse()?.status == 503)
            #expect(third.waitForClose())
            first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(first.readResponse()?.status == 200)
        }
    }

    @Test func pipelineDepthStopsReadingUntilAnswered_butAnswersEverything() throws {
        try withTestServer({ c in c.maxPipelineDepth = 2 }) { port in
            let client = try RawClient(port: port)
            let requests = (0..<10).map { "GET /slow?ms=\(10 * (10 - $0)) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()
            client.send(requests)
            for i in 0..<10 {
                #expect(client.readResponse()?.bodyText == "{\"slow\":\(10 * (10 - i))}")
            }
        }
    }

    // MARK: Smuggling: rejected and closed, nothing after it answered.

    static let smuggling: [(String, Int)] = [
        ("POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 30\r\n\r\nabcdGET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4x\r\nabcd\r\n0\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    ]

    @Test(arguments: smuggling)
    func smugglingAttemptsAreRejectedAndClosed(request: String, status: Int) throws {
        try withTestServer { port in
            let client = try RawClient(port: port)
            client.send(request)
            let response = try #require(client.readResponse())
            #expect(response.status == status)
            #expect(response.header("Connection") == "close")
            #expect(response.bodyText.hasPrefix("{\"errors\":[{"))
            #expect(client.readUntilClose().isEmpty, "nothing may be answered after the rejected request")
        }
    }

    // MARK: Hostile input

    @Test func randomBytesAndTruncatedRequestsNeverStopTheServer() throws {
        try withTestServer({ c in c.headTimeout = .milliseconds(200) }) { port in
            let port = port
            let valid = Array("POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)
            DispatchQueue.concurrentPerform(iterations: 1000) { i in
                var generator = SystemRandomNumberGenerator()
                guard let client = try? RawClient(port: port, receiveTimeout: 2) else { return }
                var bytes: [UInt8]
                if i % 2 == 0 {
                    bytes = (0..<Int.random(in: 1...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                } else {
                    bytes = Array(valid.prefix(Int.random(in: 0..<valid.count, using: &generator)))
                    if i % 4 == 1, !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
                }
                client.send(bytes)
                client.shutdownWrite()
                _ = client.readUntilClose()
            }
            let client = try RawClient(port: port)
            client.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
        }
    }

    // MARK: Shutdown

    /// The held request is answered only after shutdown began, so it must carry `Connection: close`;
    /// the idle keep-alive connection is closed at once.
    @Test func shutdownLetsAReceivedRequestFinish_withConnectionClose() throws {
        let arrived = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = try HTTPServer(configuration: configuration) { request, responder in
            guard request.path == "/held" else { return TestServer.handle(request, responder) }
            arrived.signal()
            DispatchQueue.global().async {
                release.wait()
                responder.respond(.json("{}"))
            }
        }
        server.start()
        let port = server.port  // the listener's descriptor is closed after wait(): read it now
        let idle = try RawClient(port: port)
        idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(idle.readResponse()?.status == 200)
        do {
            // Closed at the end of this block, which ends the server's lingering close at once.
            let busy = try RawClient(port: server.port)
            busy.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(arrived.wait(timeout: .now() + 5) == .success)
            server.shutdown()
            release.signal()
            let response = try #require(busy.readResponse())
            #expect(response.status == 200)
            #expect(response.header("Connection") == "close")
            #expect(busy.waitForClose())
        }
        #expect(idle.readUntilClose().isEmpty && idle.sawClose)
        server.wait()
        #expect((try? RawClient(port: port)) == nil, "no longer accepting")
    }
}
