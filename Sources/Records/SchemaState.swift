import JSON
import Model
import Storage
import Synchronization

/// The catalogue as requests see it (`current`) and as the single writer sees it
/// (`writerCatalogue`).
///
/// The writer's view changes inside the write job that runs the DDL, so later jobs of the same
/// batch already see the new tables; it is put back if that job or its batch rolls back. `current`
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
    private func stage(_ new: Catalogue, connection: SQLiteConnection) {
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

    /// Creates collections inside a write job; a name the writer's view already holds (one created
    /// earlier in the same batch, say) is 409 `COLLECTION_EXISTS`.
    package func create(_ definitions: [CollectionDefinition], connection: SQLiteConnection) throws -> Catalogue {
        for definition in definitions where writerCatalogue.collection(definition.name) != nil {
            throw DomainError(.conflict, code: "COLLECTION_EXISTS", message: "collection '\(definition.name)' already exists")
        }
        return try apply(definitions, connection: connection)
    }

    /// Adds collections (or fields) inside a write job: DDL, catalogue rows, and the writer's view.
    package func apply(_ definitions: [CollectionDefinition], connection: SQLiteConnection) throws -> Catalogue {
        let old = writerCatalogue
        for definition in definitions {
            guard let binding = definition.workflowDefinition else { continue }
            guard try !connection.query("SELECT 1 FROM \"recordWorkflowDefinitions\" WHERE \"id\" = ? AND \"published\" = 1 LIMIT 1",
                                        [.text(binding)]).isEmpty else {
                throw DomainError.validation("workflowDefinition", "'\(binding)' is not a published record workflow")
            }
        }
        let new = try old.adding(definitions)
        for statement in SchemaBuilder.statements(from: old, to: new) { try connection.execute(statement) }
        for name in Set(definitions.map(\.name)) {
            guard let json = new.definitionJSON(name) else { continue }
            try connection.run("""
                INSERT INTO "collections" ("name", "definition", "createdAt") VALUES (?, ?, ?)
                ON CONFLICT("name") DO UPDATE SET "definition" = excluded."definition"
                """, [.text(name), .text(json.serialized()), .text(Timestamp.now())])
        }
        stage(new, connection: connection)
        return new
    }

    /// Drops a collection inside a write job.
    package func drop(_ name: String, connection: SQLiteConnection) throws {
        let catalogue = writerCatalogue
        guard catalogue.collection(name)?.isBuiltIn == false else { throw DomainError.collectionNotFound(name) }
        for other in catalogue.order where other != name {
            if catalogue.collection(other)?.fields.contains(where: { $0.target == name }) == true {
                throw DomainError(.conflict, code: "COLLECTION_IN_USE", message: "'\(other)' has a relation to '\(name)'")
            }
        }
        try connection.execute("DROP TABLE IF EXISTS \(Name.quoted(name))")
        for field in catalogue.collection(name)?.fields ?? [] where field.type == .belongsToMany {
            if let through = field.through { try connection.execute("DROP TABLE IF EXISTS \(Name.quoted(through))") }
        }
        try connection.run("DELETE FROM \"collections\" WHERE \"name\" = ?", [.text(name)])
        stage(try Catalogue.load(connection), connection: connection)
    }

    /// Removes a scalar field inside a write job: drops its index and column, updates the definition.
    package func removeField(_ name: String, of collection: String, connection: SQLiteConnection) throws {
        guard var definition = writerCatalogue.collection(collection), !definition.isBuiltIn else { throw DomainError.collectionNotFound(collection) }
        guard definition.field(name) != nil else { throw DomainError(.notFound, code: "NOT_FOUND", message: "'\(collection)' has no field '\(name)'") }
        definition.fields.removeAll { $0.name == name }
        for prefix in ["ux_", "ix_"] { try connection.execute("DROP INDEX IF EXISTS \(Name.quoted("\(prefix)\(collection)_\(name)"))") }
        try connection.execute("ALTER TABLE \(Name.quoted(collection)) DROP COLUMN \(Name.quoted(name))")
        try connection.run("UPDATE \"collections\" SET \"definition\" = ? WHERE \"name\" = ?",
                           [.text(definition.json.serialized()), .text(collection)])
        stage(try Catalogue.load(connection), connection: connection)
    }
}

extension Catalogue {
    /// Reads every stored definition (in creation order).
    package static func load(_ connection: SQLiteConnection) throws -> Catalogue {
        var definitions: [CollectionDefinition] = []
        for row in try connection.query("SELECT \"definition\" FROM \"collections\" ORDER BY rowid") {
            guard let text = row[0].string, let json = try? JSON.parse(text) else { continue }
            definitions.append(try CollectionDefinition.parse(json))
        }
        return try Catalogue.base.adding(definitions)
    }
}
