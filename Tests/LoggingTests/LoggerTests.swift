import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Logging

/// Issue 13: logging never blocks the caller and never tears a line. No assertion here depends
/// on timing: ordering comes from semaphores and `flush()`.
struct LoggerTests {
    /// Collects what the sink receives.
    final class Chunks: Sendable {
        private let chunks = Mutex<[String]>([])
        func append(_ text: String) { chunks.withLock { $0.append(text) } }
        var count: Int { chunks.withLock { $0.count } }
        var lines: [String] { chunks.withLock { $0.joined() }.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Parses each line (the last, after the final `\n`, must be empty) as one JSON object.
    func objects(_ lines: [String]) throws -> [[String: Any]] {
        #expect(lines.last == "", "output ends with a newline")
        return try lines.dropLast().map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object, "not a JSON object: \(line)")
        }
    }

    /// Every string a line carries is a JSON string that Foundation reads back as it was.
    @Test(arguments: ["", "plain", "quote \" and \\ backslash", "line\nbreak\r\ttab", "\u{0}\u{1}\u{f}\u{10}\u{1f}\u{7f}",
                      "é ✓ 🚀 末尾\"", "\"\"", "\\"])
    func quotedTextReadsBackAsItWas(text: String) throws {
        var line = ""
        Logger.appendQuoted(text, to: &line)
        #expect(line.first == "\"" && line.last == "\"")
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(line)]".utf8)) as? [String]
        #expect(decoded == [text], "\(line)")
        #expect(!line.utf8.dropFirst().dropLast().contains { $0 < 0x20 }, "no raw control character")
    }

    @Test func concurrentLinesThroughAPipeArriveWholeAndAllOfThem() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let received = Mutex<[UInt8]>([])
        let readerDone = DispatchSemaphore(value: 0)
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                received.withLock { $0.append(contentsOf: buffer[0..<n]) }
            }
            close(readEnd)
            readerDone.signal()
        }
        reader.start()

        let threads = 8, perThread = 2_000
        // Large enough that nothing is dropped: this test is about whole lines, not the bound.
        let logger = Logger(level: .debug, maxBufferedBytes: 256 << 20, sink: Logger.writing(to: writeEnd))
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                logger.info("line \"\(i)\"\n\té", ["thread": .int(thread), "i": .int(i), "pad": .string(String(repeating: "x", count: i % 300))])
            }
        }
        logger.flush()
        close(writeEnd)
        readerDone.wait()

        let text = try #require(String(validating: received.withLock { $0 }, as: UTF8.self))
        let objects = try objects(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        #expect(objects.count == threads * perThread)
        #expect(logger.droppedLineCount == 0)
        var seen = Set<[Int]>()
        for object in objects {
            let thread = try #require(object["thread"] as? Int), i = try #require(object["i"] as? Int)
            #expect(object["msg"] as? String == "line \"\(i)\"\n\té" && object["level"] as? String == "info")
            #expect((object["pad"] as? String)?.count == i % 300)
            seen.insert([thread, i])
        }
        #expect(seen.count == threads * perThread, "every line arrives exactly once")
    }

    @Test func aBlockedSinkNeverBlocksLoggingAndLinesBeyondTheBoundAreDroppedAndCounted() throws {
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let firstCall = Atomic<Bool>(true)
        let chunks = Chunks()
        let bound = 4_096
        let logger = Logger(level: .info, maxBufferedBytes: bound) { text in
            if firstCall.exchange(false, ordering: .relaxed) {
                entered.signal()
                release.wait()
            }
            chunks.append(text)
        }
        logger.info("first")
        entered.wait()  // The writer has taken "first" and is stuck in the sink.

        let attempts = 1_000
        for i in 0..<attempts { logger.warning("queued", ["i": .int(100_000 + i)]) }
        // The sink records a chunk only after it is released, so every call above returned while
        // the one writer was blocked.
        #expect(chunks.count == 0)
        let dropped = logger.droppedLineCount
        #expect(dropped > 0 && dropped < attempts)

        release.signal()
        logger.flush()
        let objects = try objects(chunks.lines)
        #expect(objects.first?["msg"] as? String == "first")
        let kept = Array(objects.dropFirst())
        #expect(kept.count + dropped == attempts)
        // The first lines that fit were kept, in order; each line has the same length.
        #expect(kept.map { $0["i"] as? Int } == (0..<kept.count).map { 100_000 + $0 })
        let lineBytes = chunks.lines[1].utf8.count + 1
        #expect(kept.count == bound / lineBytes)

        logger.error("after")
        logger.flush()
        #expect(try self.objects(chunks.lines).last?["msg"] as? String == "after", "room again once written")
        #expect(logger.droppedLineCount == dropped)
    }

    @Test func flushWritesEverythingQueuedBeforeIt() throws {
        let chunks = Chunks()
        let logger = Logger(level: .info, sink: chunks.append)
        logger.flush()  // Nothing queued: returns at once.
        logger.debug("below the level")
        logger.info("one", ["n": 1])
        logger.warning("two", ["ok": .bool(true), "ratio": .double(0.5), "nan": .double(.nan)])
        logger.error("three")
        logger.flush()
        let objects = try objects(chunks.lines)
        #expect(objects.map { $0["msg"] as? String } == ["one", "two", "three"])
        #expect(objects.map { $0["level"] as? String } == ["info", "warning", "error"])
        #expect(objects[1]["ok"] as? Bool == true && objects[1]["ratio"] as? Double == 0.5 && objects[1]["nan"] is NSNull)
        let ts = try #require(objects[0]["ts"] as? String)
        #expect(ts.utf8.count == 24 && ts.hasSuffix("Z"), "RFC 3339 with milliseconds: \(ts)")
    }

    @Test func closeWritesWhatIsQueuedThenDropsLaterLines() throws {
        let chunks = Chunks()
        let logger = Logger(level: .info, sink: chunks.append)
        logger.info("before")
        logger.close()
        #expect(try objects(chunks.lines).map { $0["msg"] as? String } == ["before"])
        logger.info("after")
        logger.flush()
        logger.close()
        #expect(try objects(chunks.lines).count == 1)
        #expect(logger.droppedLineCount == 1)
    }

    @Test func closingALoggerThatNeverLoggedReturnsAtOnce() {
        let logger = Logger(level: .error, sink: { _ in Issue.record("nothing to write") })
        logger.info("below the level")
        logger.close()
        logger.flush()
        #expect(logger.droppedLineCount == 0)
    }
}
