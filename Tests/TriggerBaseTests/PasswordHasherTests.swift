import CLinux
import Dispatch
import Foundation
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// The hashing pool of issue 13: hashes run on its own threads, at most `threads` at once, and a
/// caller beyond `maxWaiting` is refused at once instead of queueing without bound.
@Suite struct PasswordHasherTests {
    @Test func hashesRunOnTheHashingThreads_andVerifyAgainstWhatTheyMade() async throws {
        let hasher = PasswordHasher(threads: 2, maxWaiting: 4)
        defer { hasher.stop() }
        let thread = try await hasher.perform { () -> String in
            var name = [CChar](repeating: 0, count: 32)
            _ = clinux_thread_name(&name, name.count)
            return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #expect(thread.hasPrefix("password-"))
        let stored = try await hasher.hash("correct horse")
        #expect(stored.hasPrefix("pbkdf2-sha256$\(Crypto.passwordIterations)$"))
        #expect(try await hasher.verify("correct horse", stored: stored))
        #expect(try await !hasher.verify("correct horsf", stored: stored))
        // An unknown account is verified against a hash as costly as a real one, which nothing matches.
        #expect(PasswordSignIn.dummyHash.hasPrefix("pbkdf2-sha256$\(Crypto.passwordIterations)$"))
        #expect(try await !hasher.verify("", stored: PasswordSignIn.dummyHash))
    }

    @Test func atMostThreadsRun_andCallersBeyondMaxWaitingAreRefusedAtOnce() async throws {
        let hasher = PasswordHasher(threads: 1, maxWaiting: 1)
        defer { hasher.stop() }
        let gate = DispatchSemaphore(value: 0)
        let ran = Shared<[Int]>([])
        #expect(hasher.enqueue { gate.wait(); ran.withLock { $0.append(1) } })
        try await eventually { hasher.load.running == 1 }
        #expect(hasher.enqueue { ran.withLock { $0.append(2) } })
        #expect(hasher.load.running == 1 && hasher.load.waiting == 1, "the second job waits for the only thread")
        #expect(!hasher.enqueue { ran.withLock { $0.append(3) } })
        await #expect(throws: PasswordHasher.Busy.self) { try await hasher.perform { 3 } }
        gate.signal()
        try await eventually { hasher.load == (0, 0) }
        #expect(try await hasher.perform { 4 } == 4, "room again once the queue drained")
        #expect(ran.withLock { $0 } == [1, 2], "in order, and the refused jobs never ran")
    }
}

/// Waits (yielding, up to ~60 s on a loaded machine) until `condition` holds; for states reached
/// on other threads. Not a timing assertion: it returns as soon as the state is reached.
func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<6000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}

/// The same, for synchronous tests.
func eventuallyBlocking(_ condition: () -> Bool) {
    for _ in 0..<6000 where !condition() { usleep(10_000) }
    #expect(condition())
}
