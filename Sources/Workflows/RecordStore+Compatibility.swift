import Model
import Storage

/// Transitional: `RecordStore` was a struct built over a connection; it is the protocol of the
/// record store now, reached as `connection.records(catalogue)`. This keeps the callers that
/// still build it compiling (Application, the workflow, execution, direct-start and
/// record-workflow services) until they move. It lives here, not in Storage, because a function
/// cannot share its module with the protocol it is named after; every caller imports Workflows.
@available(*, deprecated, message: "use connection.records(catalogue)")
package func RecordStore(connection: SQLiteConnection, catalogue: Catalogue) -> any RecordStore {
    connection.records(catalogue)
}
