import Dispatch
import Foundation
import Synchronization
@testable import Storage

/// A fresh path in a new temporary directory, for one test's database file.
func makeDatabasePath() -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("storage-tests-\(UUID().uuidString)")
        .appendingPathComponent("test.sqlite").path
}

extension SQLiteDatabase {
    /// A database on a fresh file, with `configure` applied to the default configuration.
    static func make(_ configure: (inout SQLiteConfiguration) -> Void = { _ in }) throws -> SQLiteDatabase {
        var configuration = SQLiteConfiguration(path: makeDatabasePath())
        configure(&configuration)
        return try SQLiteDatabase(configuration: configuration)
    }
}

extension SQLiteConnection {
    /// A read-write connection on a fresh file.
    static func make() throws -> SQLiteConnection {
        try SQLiteConnection(path: makeDatabasePath(), mode: .readWrite)
    }
}

/// Waits for `semaphore` on a Dispatch thread, so the test never blocks the cooperative pool.
func waitOffPool(_ semaphore: DispatchSemaphore) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            semaphore.wait()
            continuation.resume()
        }
    }
}

/// Holds the writer inside a job: `started` is signalled once the job runs, and the job waits
/// for `open`.
struct WriterGate: Sendable {
    let started = DispatchSemaphore(value: 0)
    let open = DispatchSemaphore(value: 0)

    /// Queues a job that runs `body`, signals `started` and blocks until `open`.
    func hold(
        _ database: SQLiteDatabase,
        body: @escaping @Sendable (any Transaction) throws -> Void = { _ in },
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void = { _ in }
    ) {
        database.write({ connection in
            try body(connection)
            started.signal()
            open.wait()
        }, completion: completion)
    }
}

/// Collects callback results by label.
final class Outcomes: Sendable {
    private let results = Mutex<[String: Result<Void, any Error>]>([:])
    private let arrived = DispatchSemaphore(value: 0)

    /// A completion handler that records its result under `label`.
    func record<T>(_ label: String) -> @Sendable (Result<T, any Error>) -> Void {
        { result in
            self.results.withLock { $0[label] = result.map { _ in () } }
            self.arrived.signal()
        }
    }

    /// Waits until `count` results have arrived.
    func wait(count: Int) async {
        for _ in 0..<count { await waitOffPool(arrived) }
    }

    var count: Int { results.withLock { $0.count } }

    func error(_ label: String) -> (any Error)? {
        results.withLock { results in
            guard case .failure(let error)? = results[label] else { return nil }
            return error
        }
    }

    func succeeded(_ label: String) -> Bool {
        results.withLock { results in
            if case .success? = results[label] { return true }
            return false
        }
    }
}

/// An error a job throws on purpose.
struct JobFailure: Error, Equatable {}
