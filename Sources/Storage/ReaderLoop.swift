/// A reader thread's loop: one queued read at a time, so an idle reader takes the next one. A
/// read gets the reader's connection and resumes its caller itself.
final class ReaderLoop<Connection: SQLSession> {
    typealias Request = @Sendable (Connection) -> Void
    private let connection: Connection
    private let queue: BlockingQueue<Request>

    init(connection: Connection, queue: BlockingQueue<Request>) {
        self.connection = connection
        self.queue = queue
    }

    /// Serves reads until the queue is closed and drained, then closes the connection.
    func run() {
        defer { connection.close() }
        var batch: [Request] = []
        while queue.take(upTo: 1, into: &batch) {
            for request in batch {
                request(connection)
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
