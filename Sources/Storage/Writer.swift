import Logging
import Synchronization

/// What a backend and its writer thread share: the queue of commands, the commit observers and
/// the batch counters.
final class Writer<Connection: SQLSession>: Sendable {
    let queue = BlockingQueue<WriterCommand<Connection>>()
    let maxBatchSize: Int
    let backgroundDelayMicroseconds: Int
    let logger: Logger?
    private let observers = Mutex<[@Sendable () -> Void]>([])
    private let statistics = Mutex<(batches: Int, writes: Int)>((0, 0))

    init(maxBatchSize: Int, backgroundDelayMicroseconds: Int = 0, logger: Logger?) {
        self.maxBatchSize = maxBatchSize
        self.backgroundDelayMicroseconds = backgroundDelayMicroseconds
        self.logger = logger
    }

    func addCommitObserver(_ observer: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(observer) }
    }

    var writeStatistics: (batches: Int, writes: Int) {
        statistics.withLock { $0 }
    }

    /// Counts a committed batch of `writes` writes and calls the observers (writer thread).
    func didCommit(writes: Int) {
        statistics.withLock { $0.batches += 1; $0.writes += writes }
        for observer in observers.withLock({ $0 }) {
            observer()
        }
    }
}
