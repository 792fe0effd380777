import JSON
import Model
import Storage
import Synchronization

/// The catalogue as requests see it (`current`) and as the single writer sees it
/// (`writerCatalogue`).
///
/// The writer's view changes inside the write that runs the DDL, so later writes of the same
/// batch already see the new tables; it is put back if that write or its batch rolls back. `current`
/// is replaced only after the batch commits, on the writer thread before the next batch begins, so
/// requests never see a change that is not (or not yet) in the database.
package final class SchemaState: Sendable {
    private let committed: Mutex<Catalogue>
    private let pending: Mutex<Catalogue>

    package init(_ catalogue: Catalogue) {
        committed = Mutex(catalogue)
        pending = Mutex(catalogue)
    }

    package var current: Catalogue { committed.withLock { $0 } }

    /// Only read and replaced on the writer thread.
    package var writerCatalogue: Catalogue { pending.withLock { $0 } }

    /// Makes `new` the writer's view for the rest of the transaction: published once it commits,
    /// replaced by the view before it if it rolls back.
    private func stage(_ new: Catalogue, connection: any Transaction) {
        let old = pending.withLock { state in
            defer { state = new }
            return state
        }
        connection.onRollback { [self] in pending.withLock { $0 = old } }
        connection.afterCommit { [self] in
            let next = writerCatalogue
            committed.withLock { $0 = next }
        }
    }

    /// Takes the catalogue the database holds now, inside a write (another process changed it):
    /// the writer's view at once, requests' once the write commits.
    package func reload(connection: any Transaction) throws {
        stage(try connection.schema.catalogue(), connection: connection)
    }

    /// Creates collections inside a write; a name the writer's view already holds (one created
    /// earlier in the same batch, say) is 409 `COLLECTION_EXISTS`.
    package func create(_ definitions: [CollectionDefinition], connection: any Transaction) throws -> Catalogue {
        for definition in definitions where writerCatalogue.collection(definition.name) != nil {
            throw DomainError(.conflict, code: "COLLECTION_EXISTS", message: "collection '\(definition.name)' already exists")
        }
        return try apply(definitions, connection: connection)
    }

    /// Adds collections (or fields) inside a write: DDL, catalogue rows, and the writer's view.
    package func apply(_ definitions: [CollectionDefinition], connection: any Transaction) throws -> Catalogue {
        let old = writerCatalogue
        for definition in definitions {
            guard let binding = definition.workflowDefinition else { continue }
            guard try connection.schema.hasPublishedRecordWorkflow(binding) else {
                throw DomainError.validation("workflowDefinition", "'\(binding)' is not a published record workflow")
            }
        }
        let new = try old.adding(definitions)
        try connection.schema.migrate(from: old, to: new)
        for name in Set(definitions.map(\.name)) {
            guard let json = new.definitionJSON(name) else { continue }
            try connection.schema.saveDefinition(json, of: name, createdAt: Timestamp.now())
        }
        stage(new, connection: connection)
        return new
    }

    /// Drops a collection inside a write.
    package func drop(_ name: String, connection: any Transaction) throws {
        let catalogue = writerCatalogue
        guard catalogue.collection(name)?.isBuiltIn == false else { throw DomainError.collectionNotFound(name) }
        for other in catalogue.order where other != name {
            if catalogue.collection(other)?.fields.contains(where: { $0.target == name }) == true {
                throw DomainError(.conflict, code: "COLLECTION_IN_USE", message: "'\(other)' has a relation to '\(name)'")
            }
        }
        let joinTables = (catalogue.collection(name)?.fields ?? []).filter { $0.type == .belongsToMany }.compactMap(\.through)
        try connection.schema.dropCollection(name, joinTables: joinTables)
        stage(try connection.schema.catalogue(), connection: connection)
    }

    /// Removes a scalar field inside a write: drops its index and column, updates the definition.
    package func removeField(_ name: String, of collection: String, connection: any Transaction) throws {
        guard var definition = writerCatalogue.collection(collection), !definition.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        guard definition.field(name) != nil else { throw DomainError(.notFound, code: "NOT_FOUND", message: "'\(collection)' has no field '\(name)'") }
        definition.fields.removeAll { $0.name == name }
        try connection.schema.dropField(name, of: collection, definition: definition.json)
        stage(try connection.schema.catalogue(), connection: connection)
    }
}
