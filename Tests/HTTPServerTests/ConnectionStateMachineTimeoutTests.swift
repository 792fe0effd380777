import Testing
@testable import HTTPServer

/// Every timeout of a connection with the clock moved by hand (head 10 s, body 30 s, idle 60 s,
/// linger 2 s): what is written and when the connection closes, without a socket or a sleep.
struct ConnectionStateMachineTimeoutTests {
    static let second = ConnectionDriver.second

    @Test func aSilentNewConnection_isClosedWithoutAnAnswer_afterTheHeadTimeout() {
        var driver = ConnectionDriver()
        #expect(driver.deadline == driver.clock.now + 10 * Self.second)
        driver.advance(.milliseconds(9_999))
        #expect(!driver.closed)
        driver.advance(.milliseconds(1))
        #expect(driver.closed && driver.written.isEmpty)
    }

    @Test func aSlowHead_isAnswered408_thenClosedAfterTheLinger() throws {
        var driver = ConnectionDriver()
        driver.advance(.seconds(3))
        let started = driver.clock.now
        driver.receive("GET / HTTP/1.1\r\nHost: a\r\n")
        #expect(driver.deadline == started + 10 * Self.second)
        driver.advance(.milliseconds(9_999))
        #expect(driver.written.isEmpty)
        driver.advance(.milliseconds(1))
        let response = try #require(driver.responses.first)
        #expect(response.status == 408)
        #expect(response.body.contains("REQUEST_TIMEOUT"))
        #expect(response.header("Connection") == "close")
        #expect(driver.logs.map(\.status) == [408])
        #expect(driver.shutDownWrite && !driver.closed)
        driver.advance(.milliseconds(1_999))
        #expect(!driver.closed)
        driver.advance(.milliseconds(1))
        #expect(driver.closed)
    }

    /// Slowloris: bytes that keep arriving do not move the head deadline.
    @Test func aHeadTrickledByteByByte_stillTimesOutTenSecondsAfterItsFirstByte() {
        var driver = ConnectionDriver()
        let started = driver.clock.now
        for byte in "GET / HTTP/1.1\r\nHost: aaaa".prefix(10) {
            driver.receive(String(byte))
            driver.advance(.milliseconds(999))
        }
        #expect(driver.written.isEmpty)
        #expect(driver.clock.now == started + 9_990_000_000)
        driver.advance(.milliseconds(10))
        #expect(driver.responses.map(\.status) == [408])
    }

    @Test func aStalledBody_isAnswered408_andEachPieceStartsTheGapAgain() {
        var driver = ConnectionDriver()
        driver.receive("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        driver.advance(.seconds(29))
        driver.receive("def")
        driver.advance(.seconds(29))
        #expect(driver.written.isEmpty)
        driver.advance(.seconds(1))
        #expect(driver.responses.map(\.status) == [408])
        #expect(driver.responses.first?.body.contains("request body stalled") == true)
        #expect(driver.requests.isEmpty)
    }

    /// The body gap starts with the body, not with the head that came long before it.
    @Test func aBodyPausingUnderTheTimeout_isReadWhole() {
        var driver = ConnectionDriver()
        driver.receive("POST / HTTP/1.1\r\n")
        driver.advance(.seconds(9))
        driver.receive("Host: a\r\nContent-Length: 6\r\n\r\nabc")
        driver.advance(.seconds(29))
        driver.receive("def")
        #expect(driver.requests.first?.request.body == Array("abcdef".utf8))
        #expect(driver.written.isEmpty)
    }

    @Test func anIdleKeepAliveConnection_isClosedSilently_sixtySecondsAfterItsLastAnswer() {
        var driver = ConnectionDriver()
        driver.receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        driver.advance(.seconds(5))
        driver.respond(0)
        let answered = driver.written.count
        #expect(driver.deadline == driver.clock.now + 60 * Self.second)
        driver.advance(.seconds(59))
        #expect(!driver.closed)
        driver.advance(.seconds(1))
        #expect(driver.closed)
        #expect(driver.written.count == answered, "closed without an answer")
    }

    @Test func aRequestBeingHandled_neverTimesOut() {
        var driver = ConnectionDriver()
        driver.receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        driver.advance(.seconds(3_600))
        #expect(!driver.closed && driver.written.isEmpty)
        driver.respond(0)
        #expect(driver.responses.map(\.status) == [200])
    }

    @Test func aPipelinedHeadThatTimesOut_isAnswered408AfterTheAnswersBeforeIt() {
        var driver = ConnectionDriver()
        driver.receive("GET /0 HTTP/1.1\r\nHost: a\r\n\r\nGET /1 HT")
        driver.advance(.seconds(10))
        #expect(driver.written.isEmpty, "the first request is still being handled")
        driver.respond(0)
        #expect(driver.responses.map(\.status) == [200, 408])
        #expect(driver.shutDownWrite)
    }

    /// The write timeout: output that the socket stops taking for the body timeout closes the
    /// connection; every bit taken starts the wait again.
    @Test func aClientThatStopsReadingItsAnswers_isClosedAfterTheWriteTimeout() {
        var driver = ConnectionDriver()
        driver.socketTakesOutput = false
        driver.receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        driver.respond(0, String(repeating: "x", count: 10_000))
        driver.advance(.seconds(20))
        driver.socketTakes(4_096)
        driver.advance(.seconds(29))
        #expect(!driver.closed)
        driver.advance(.seconds(1))
        #expect(driver.closed)
        #expect(driver.written.count == 4_096)
    }
}
