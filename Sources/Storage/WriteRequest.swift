/// A write on its way to, or running on, the writer thread.
protocol WriteRequest: AnyObject, Sendable {
    /// Runs the write inside its own savepoint and keeps its result (writer thread only).
    func perform<Connection: SQLSession>(on connection: Connection)
    /// The error the write threw, once performed.
    var failure: (any Error)? { get }
    /// Hands the kept result to the caller (after the batch committed).
    func complete()
    /// Hands `error` to the caller instead (the batch did not commit, or the write never ran).
    func fail(_ error: any Error)
    /// Work nobody is waiting on (see `StorageBackend.write(background:)`).
    var isBackground: Bool { get }
}

/// What the writer thread is asked to do.
enum WriterCommand<Connection: SQLSession>: Sendable {
    /// A write to batch with its neighbours into one transaction.
    case write(any WriteRequest)
    /// Work that needs the connection outside any batch transaction (migrations); the open batch
    /// is committed first.
    case exclusive(@Sendable (Connection) -> Void)
}

/// One caller's write and the way its result goes back.
///
/// `@unchecked Sendable` because of the mutable `outcome`. It is safe: the caller creates the
/// request and hands it over through `BlockingQueue`, whose mutex orders that hand-off before the
/// writer's first access; after that `outcome` is written and read only on the writer thread
/// (`perform`, then `complete` / `fail` after the commit). `work` and `delivery` are immutable and
/// `Sendable`.
final class TypedWriteRequest<T: Sendable>: WriteRequest, @unchecked Sendable {
    enum Delivery: Sendable {
        case continuation(CheckedContinuation<T, any Error>)
        case callback(@Sendable (Result<T, any Error>) -> Void)
    }

    private let work: @Sendable (any Transaction) throws -> T
    private let delivery: Delivery
    private var outcome: Result<T, any Error>?
    let isBackground: Bool

    init(work: @escaping @Sendable (any Transaction) throws -> T, delivery: Delivery, isBackground: Bool = false) {
        self.work = work
        self.delivery = delivery
        self.isBackground = isBackground
    }

    func perform<Connection: SQLSession>(on connection: Connection) {
        do {
            outcome = .success(try connection.inSavepoint { try work(connection) })
        } catch {
            outcome = .failure(error)
        }
    }

    var failure: (any Error)? {
        if case .failure(let error) = outcome { return error }
        return nil
    }

    func complete() {
        deliver(outcome ?? .failure(StorageError.misuse("the write was never run")))
    }

    func fail(_ error: any Error) {
        deliver(.failure(error))
    }

    private func deliver(_ result: Result<T, any Error>) {
        switch delivery {
        case .continuation(let continuation): continuation.resume(with: result)
        case .callback(let callback): callback(result)
        }
    }
}
