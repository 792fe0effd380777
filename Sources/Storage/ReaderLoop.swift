/// A read: gets a reader's connection, resumes its caller itself.
typealias ReadRequest = @Sendable (SQLiteConnection) -> Void

/// A reader thread's loop: one queued read at a time, so an idle reader takes the next one.
final class ReaderLoop {
    private let connection: SQLiteConnection
    private let queue: BlockingQueue<ReadRequest>

    init(connection: SQLiteConnection, queue: BlockingQueue<ReadRequest>) {
        self.connection = connection
        self.queue = queue
    }

    /// Serves reads until the queue is closed and drained, then closes the connection.
    func run() {
        defer { connection.close() }
        var batch: [ReadRequest] = []
        while queue.take(upTo: 1, into: &batch) {
            for request in batch {
                request(connection)
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
