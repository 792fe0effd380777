import JSON
import Storage
import Synchronization

/// The catalogue as requests see it (`current`, replaced after each schema change commits) and as
/// the single writer sees it (`writerCatalogue`, changed inside the write job that runs the DDL, so
/// later jobs of the same batch already see the new tables).
final class SchemaState: Sendable {
    private let committed: Mutex<Catalogue>
    private let pending: Mutex<Catalogue>

    init(_ catalogue: Catalogue) {
        committed = Mutex(catalogue)
        pending = Mutex(catalogue)
    }

    var current: Catalogue { committed.withLock { $0 } }

    /// Only read and replaced on the writer thread.
    var writerCatalogue: Catalogue { pending.withLock { $0 } }

    /// Adds collections (or fields) inside a write job: DDL, catalogue rows, and the writer's view.
    func apply(_ definitions: [CollectionDefinition], connection: SQLiteConnection, replaceExisting: Bool = true) throws -> Catalogue {
        let old = writerCatalogue
        for definition in definitions {
            guard let binding = definition.workflowDefinition else { continue }
            guard try !connection.query("SELECT 1 FROM \"recordWorkflowDefinitions\" WHERE \"id\" = ? AND \"published\" = 1 LIMIT 1",
                                        [.text(binding)]).isEmpty else {
                throw APIError.validation("workflowDefinition", "'\(binding)' is not a published record workflow")
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
        pending.withLock { $0 = new }
        return new
    }

    /// Drops a collection inside a write job.
    func drop(_ name: String, connection: SQLiteConnection) throws {
        var catalogue = writerCatalogue
        for other in catalogue.order where other != name {
            if catalogue.collection(other)?.fields.contains(where: { $0.target == name }) == true {
                throw APIError(status: 409, code: "COLLECTION_IN_USE", message: "'\(other)' has a relation to '\(name)'")
            }
        }
        try connection.execute("DROP TABLE IF EXISTS \(Name.quoted(name))")
        for field in catalogue.collection(name)?.fields ?? [] where field.type == .belongsToMany {
            if let through = field.through { try connection.execute("DROP TABLE IF EXISTS \(Name.quoted(through))") }
        }
        try connection.run("DELETE FROM \"collections\" WHERE \"name\" = ?", [.text(name)])
        catalogue = try Catalogue.load(connection)
        pending.withLock { $0 = catalogue }
    }

    /// Removes a scalar field inside a write job: drops its index and column, updates the definition.
    func removeField(_ name: String, of collection: String, connection: SQLiteConnection) throws {
        var catalogue = writerCatalogue
        guard var definition = catalogue.collection(collection) else { throw APIError.collectionNotFound(collection) }
        definition.fields.removeAll { $0.name == name }
        for prefix in ["ux_", "ix_"] { try connection.execute("DROP INDEX IF EXISTS \(Name.quoted("\(prefix)\(collection)_\(name)"))") }
        try connection.execute("ALTER TABLE \(Name.quoted(collection)) DROP COLUMN \(Name.quoted(name))")
        try connection.run("UPDATE \"collections\" SET \"definition\" = ? WHERE \"name\" = ?",
                           [.text(definition.json.serialized()), .text(collection)])
        catalogue = try Catalogue.load(connection)
        pending.withLock { $0 = catalogue }
    }

    /// Publishes the writer's view after a successful commit.
    func publish() { let next = writerCatalogue; committed.withLock { $0 = next } }

    /// After a failed batch, reloads both views from the database.
    func reload(_ catalogue: Catalogue) {
        pending.withLock { $0 = catalogue }
        committed.withLock { $0 = catalogue }
    }
}

extension Catalogue {
    /// Reads every stored definition (in creation order).
    static func load(_ connection: SQLiteConnection) throws -> Catalogue {
        var definitions: [CollectionDefinition] = []
        for row in try connection.query("SELECT \"definition\" FROM \"collections\" ORDER BY rowid") {
            guard let text = row[0].string, let json = try? JSON.parse(text) else { continue }
            definitions.append(try CollectionDefinition.parse(json))
        }
        return try Catalogue.base.adding(definitions)
    }
}
