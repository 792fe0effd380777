import JSON
import Model

/// `SchemaStore` over one SQL session.
struct SQLSchemaStore<Session: SQLSession>: SchemaStore {
    let connection: Session
    var builder: SchemaBuilder { SchemaBuilder(dialect: connection.dialect) }

    private func q(_ name: String) -> String { builder.dialect.quoted(name) }

    func catalogue() throws -> Catalogue {
        var definitions: [CollectionDefinition] = []
        for row in try connection.query("SELECT \"definition\" FROM \"collections\" ORDER BY \(builder.dialect.insertionOrder)") {
            guard let text = row[0].string, let json = try? JSON.parse(text) else { continue }
            definitions.append(try CollectionDefinition.parse(json))
        }
        return try Catalogue.base.adding(definitions)
    }

    func hasPublishedRecordWorkflow(_ definition: String) throws -> Bool {
        try !connection.query("SELECT 1 FROM \"recordWorkflowDefinitions\" WHERE \"id\" = ? AND \"published\" = 1 LIMIT 1",
                              [.text(definition)]).isEmpty
    }

    func migrate(from old: Catalogue, to new: Catalogue) throws {
        try connection.announce(.catalogueChanged)
        for statement in builder.statements(from: old, to: new) { try connection.execute(statement) }
    }

    func saveDefinition(_ definition: JSON, of name: String, createdAt: String) throws {
        try connection.announce(.catalogueChanged)
        try connection.run("""
            INSERT INTO "collections" ("name", "definition", "createdAt") VALUES (?, ?, ?)
            ON CONFLICT("name") DO UPDATE SET "definition" = excluded."definition"
            """, [.text(name), .text(definition.serialized()), .text(createdAt)])
    }

    func dropCollection(_ name: String, joinTables: [String]) throws {
        try connection.announce(.catalogueChanged)
        for statement in builder.dropStatements(name, joinTables: joinTables) { try connection.execute(statement) }
        try connection.run("DELETE FROM \"collections\" WHERE \"name\" = ?", [.text(name)])
    }

    func dropField(_ name: String, of collection: String, definition: JSON) throws {
        try connection.announce(.catalogueChanged)
        for statement in builder.dropFieldStatements(name, of: collection) { try connection.execute(statement) }
        try connection.run("UPDATE \"collections\" SET \"definition\" = ? WHERE \"name\" = ?",
                           [.text(definition.serialized()), .text(collection)])
    }

    func hasValues(_ name: String, of collection: String) throws -> Bool {
        try !connection.query("SELECT 1 FROM \(q(collection)) WHERE \(q(name)) IS NOT NULL LIMIT 1").isEmpty
    }
}

extension SQLSession {
    /// The collections' tables and stored definitions in this transaction.
    package var schema: any SchemaStore { SQLSchemaStore(connection: self) }
}
