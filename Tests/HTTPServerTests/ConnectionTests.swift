import Testing
@testable import HTTPServer

/// A connection's pure decisions (no socket is touched: the fd is never used here).
struct ConnectionTests {
    static let limits = HTTPRequestParser.Limits(maxHeadBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 64)

    static func make() -> Connection {
        Connection(id: 7, fd: -1, remoteAddress: "127.0.0.1", limits: limits, now: 0)
    }

    static func slot(_ sequence: UInt64, close: Bool = false) -> Connection.Slot {
        Connection.Slot(sequence: sequence, requestID: "r\(sequence)", method: "GET", target: "/\(sequence)",
                        version: .http1_1, isHead: false, close: close, startedAt: 0, bytes: nil, isInterim: false)
    }

    static func answer(_ connection: Connection, _ sequence: UInt64) {
        let index = connection.slotIndex(for: sequence)!
        connection.slots[index].bytes = Array("<\(sequence)>".utf8)
    }

    static func outputText(_ connection: Connection) -> String {
        String(decoding: connection.output[connection.outputOffset...], as: UTF8.self)
    }

    @Test func pipelinedAnswersAreWrittenInRequestOrder_whateverOrderTheyArriveIn() {
        let connection = Self.make()
        connection.slots = [Self.slot(0), Self.slot(1), Self.slot(2)]
        Self.answer(connection, 2)
        #expect(connection.drainAnsweredSlots().isEmpty)
        #expect(Self.outputText(connection) == "")
        Self.answer(connection, 0)
        #expect(connection.drainAnsweredSlots().map(\.sequence) == [0])
        Self.answer(connection, 1)
        #expect(connection.drainAnsweredSlots().map(\.sequence) == [1, 2])
        #expect(Self.outputText(connection) == "<0><1><2>")
        #expect(connection.slots.isEmpty)
    }

    @Test func answersAfterAClosingOneAreDropped() {
        let connection = Self.make()
        connection.slots = [Self.slot(0, close: true), Self.slot(1)]
        Self.answer(connection, 1)
        Self.answer(connection, 0)
        #expect(connection.drainAnsweredSlots().map(\.sequence) == [0])
        #expect(connection.closeAfterOutput)
        #expect(Self.outputText(connection) == "<0>")
        #expect(connection.slots.isEmpty)
    }

    @Test func aFullPipelineStopsReading_andAnAnswerResumesIt() {
        let connection = Self.make()
        connection.slots = (0..<4).map { Self.slot($0) }
        #expect(!connection.canTakeRequest(maxPipelineDepth: 4, maxBufferedOutput: 1 << 20))
        #expect(!connection.wantsRead(maxPipelineDepth: 4, maxBufferedOutput: 1 << 20))
        Self.answer(connection, 0)
        _ = connection.drainAnsweredSlots()
        #expect(connection.wantsRead(maxPipelineDepth: 4, maxBufferedOutput: 1 << 20))
    }

    @Test func backedUpOutputStopsReading() {
        let connection = Self.make()
        connection.output = Array(repeating: 0, count: 100)
        #expect(!connection.wantsRead(maxPipelineDepth: 16, maxBufferedOutput: 100))
        connection.outputOffset = 1
        #expect(connection.wantsRead(maxPipelineDepth: 16, maxBufferedOutput: 100))
    }

    @Test func lingeringKeepsReading_evenAfterTheLastRequest() {
        let connection = Self.make()
        connection.stopReading = true
        #expect(!connection.wantsRead(maxPipelineDepth: 16, maxBufferedOutput: 1 << 20))
        connection.lingerDeadline = 5
        #expect(connection.wantsRead(maxPipelineDepth: 16, maxBufferedOutput: 1 << 20))
    }

    @Test func aHalfClosedPeerStillGetsItsAnswers_thenTheConnectionCloses() {
        let connection = Self.make()
        connection.peerClosed = true
        connection.slots = [Self.slot(0)]
        connection.inFlight = 1
        #expect(!connection.isDoneAfterPeerClose)
        #expect(!connection.wantsRead(maxPipelineDepth: 16, maxBufferedOutput: 1 << 20))
        connection.inFlight = 0
        Self.answer(connection, 0)
        _ = connection.drainAnsweredSlots()
        #expect(!connection.isDoneAfterPeerClose)  // the answer is still in the output buffer
        connection.outputOffset = connection.output.count
        #expect(connection.isDoneAfterPeerClose)
    }

    @Test func theTimeoutStateReflectsTheConnection() {
        let connection = Self.make()
        connection.parser.feed(Array("GET / HT".utf8))
        connection.headStartedAt = 3
        connection.inFlight = 1
        let state = connection.timeoutState
        #expect(state.phase == .head)
        #expect(state.headStartedAt == 3)
        #expect(state.hasOutstandingRequests)
        #expect(!state.hasPendingOutput)
    }
}
