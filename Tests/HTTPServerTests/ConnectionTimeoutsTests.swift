import Testing
@testable import HTTPServer

/// The deadline decisions driven by a hand-moved clock: no sleeps, no sockets.
struct ConnectionTimeoutsTests {
    static let second: UInt64 = 1_000_000_000
    static let timeouts = ConnectionTimeouts(head: 10 * second, body: 30 * second, idle: 60 * second)

    @Test func configurationTimeoutsAreTakenInNanoseconds() {
        var configuration = HTTPServerConfiguration()
        configuration.headTimeout = .milliseconds(600)
        configuration.bodyTimeout = .seconds(2)
        configuration.idleTimeout = .seconds(3)
        #expect(ConnectionTimeouts(configuration) == ConnectionTimeouts(head: 600_000_000, body: 2 * Self.second, idle: 3 * Self.second))
    }

    @Test func silentNewConnection_isClosedSilentlyAfterTheHeadTimeout() {
        var clock = ManualClock()
        let state = ConnectionTimeouts.State(idleSince: clock.now)
        clock.advance(.seconds(9))
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        clock.advance(.seconds(1))
        #expect(Self.timeouts.expired(state, now: clock.now) == .closeSilently)
    }

    @Test func headNotCompleteInTime_isAnswered408() {
        var clock = ManualClock()
        let state = ConnectionTimeouts.State(phase: .head, idleSince: clock.now, headStartedAt: clock.now)
        clock.advance(.milliseconds(9_999))
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        clock.advance(.milliseconds(1))
        #expect(Self.timeouts.expired(state, now: clock.now) == .answer(.headTimeout))
        #expect(HTTPError.headTimeout.status == 408)
    }

    @Test func theHeadTimeoutIsAbsolute_bytesTrickledInDoNotMoveIt() {
        var clock = ManualClock()
        let started = clock.now
        var state = ConnectionTimeouts.State(phase: .head, headStartedAt: started)
        for _ in 0..<9 {
            clock.advance(.seconds(1))
            state.lastBodyProgressAt = clock.now  // the state machine stamps every read
            #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        }
        #expect(Self.timeouts.next(state, now: clock.now)?.deadline == started + 10 * Self.second)
        clock.advance(.seconds(1))
        #expect(Self.timeouts.expired(state, now: clock.now) == .answer(.headTimeout))
    }

    @Test func aHeadWithoutAKnownStart_countsFromNow() {
        let clock = ManualClock()
        let state = ConnectionTimeouts.State(phase: .head)
        #expect(Self.timeouts.next(state, now: clock.now)?.deadline == clock.now + 10 * Self.second)
    }

    @Test func bodyThatStalls_isAnswered408_andEachPieceMovesTheDeadline() {
        var clock = ManualClock()
        var state = ConnectionTimeouts.State(phase: .body, lastBodyProgressAt: clock.now)
        clock.advance(.seconds(29))
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        state.lastBodyProgressAt = clock.now  // a piece arrives: the gap starts again
        clock.advance(.seconds(29))
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        clock.advance(.seconds(1))
        #expect(Self.timeouts.expired(state, now: clock.now) == .answer(.bodyTimeout))
        #expect(HTTPError.bodyTimeout.status == 408)
    }

    @Test func idleKeepAlive_isClosedSilentlyAfterTheIdleTimeout_notTheHeadTimeout() {
        var clock = ManualClock()
        let state = ConnectionTimeouts.State(requestsServed: 1, idleSince: clock.now)
        clock.advance(.seconds(30))
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        clock.advance(.seconds(30))
        #expect(Self.timeouts.expired(state, now: clock.now) == .closeSilently)
    }

    @Test func aResponseWrittenMovesTheIdleDeadline() {
        var clock = ManualClock()
        var state = ConnectionTimeouts.State(requestsServed: 1, idleSince: clock.now)
        let first = Self.timeouts.next(state, now: clock.now)?.deadline
        clock.advance(.seconds(50))
        state.requestsServed = 2
        state.idleSince = clock.now
        let moved = Self.timeouts.next(state, now: clock.now)?.deadline
        #expect(moved == clock.now + 60 * Self.second)
        #expect(moved! > first!)
        clock.advance(.seconds(20))
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
    }

    @Test func aRequestBeingHandled_hasNoDeadline() {
        let clock = ManualClock()
        let state = ConnectionTimeouts.State(hasOutstandingRequests: true, idleSince: 0)
        #expect(Self.timeouts.next(state, now: clock.now) == nil)
    }

    @Test func afterTheLastRequest_nothingTimesOutButOutputAndLinger() {
        var clock = ManualClock()
        var state = ConnectionTimeouts.State(stopReading: true, phase: .head, headStartedAt: 0)
        #expect(Self.timeouts.next(state, now: clock.now) == nil)
        state.hasPendingOutput = true
        state.lastWriteProgressAt = clock.now
        clock.advance(.seconds(30))
        #expect(Self.timeouts.expired(state, now: clock.now) == .closeSlowReader)
        state.lingerDeadline = clock.now + 2 * Self.second
        #expect(Self.timeouts.expired(state, now: clock.now) == nil)
        clock.advance(.seconds(2))
        #expect(Self.timeouts.expired(state, now: clock.now) == .lingerOver)
    }

    @Test func aPipelinedHeadStillTimesOutWhileEarlierRequestsAreHandled() {
        var clock = ManualClock()
        let state = ConnectionTimeouts.State(phase: .head, hasOutstandingRequests: true, headStartedAt: clock.now)
        clock.advance(.seconds(10))
        #expect(Self.timeouts.expired(state, now: clock.now) == .answer(.headTimeout))
    }

    @Test func hugeTimeoutsSaturateInsteadOfWrapping() {
        let timeouts = ConnectionTimeouts(head: .max, body: .max, idle: .max)
        let state = ConnectionTimeouts.State(requestsServed: 1, idleSince: 5)
        #expect(timeouts.next(state, now: 5)?.deadline == .max)
    }
}
