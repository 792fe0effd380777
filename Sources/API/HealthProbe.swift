import Dispatch
import Storage
import Synchronization

/// Whether the database answers (spec 07: `/health` is 200 only then). A read runs once a second
/// on the storage threads; `/health` answers from the last result on the event loop without
/// touching SQLite. A database whose last successful probe is older than 5 s counts as down.
package final class HealthProbe: Sendable {
    private let lastSuccess = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    private let stopped = Atomic<Bool>(false)
    private let database: any StorageBackend
    private let queue = DispatchQueue(label: "triggerbase.health")
    private let interval: DispatchTimeInterval
    private let staleAfterNanoseconds: UInt64

    package init(database: any StorageBackend, interval: DispatchTimeInterval = .seconds(1), staleAfterNanoseconds: UInt64 = 5_000_000_000) {
        self.database = database
        self.interval = interval
        self.staleAfterNanoseconds = staleAfterNanoseconds
    }

    package var isHealthy: Bool {
        let now = DispatchTime.now().uptimeNanoseconds, last = lastSuccess.load(ordering: .relaxed)
        return now < last || now - last < staleAfterNanoseconds
    }

    package func start() { schedule() }

    package func stop() { stopped.store(true, ordering: .relaxed) }

    private func schedule() {
        queue.asyncAfter(deadline: .now() + interval) { [self] in
            guard !stopped.load(ordering: .relaxed) else { return }
            Task {
                if (try? await database.ping()) != nil {
                    lastSuccess.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
                }
                schedule()
            }
        }
    }
}
