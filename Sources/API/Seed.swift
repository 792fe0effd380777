import Auth
import Foundation
import JSON
import Model
import RecordWorkflows
import Records
import Storage
import Workflows

/// Seed files (spec 07): one JSON document applied in one transaction, idempotent by name —
/// collections are created or gain missing fields, records with an `id` are upserted, records
/// without one are inserted unless an identical record exists; `roles` and `users` are upserted by
/// name; `workflows` by key (identical content changes nothing; a changed definition updates the
/// current version, or becomes a new current version once the old one has executions).
/// `recordWorkflows` are saved and published before the collections (so those can bind to them);
/// identical content makes no new version.
package enum Seed {
    package struct Summary: Sendable { var collections = 0; var created = 0; var updated = 0 }

    package static let knownKeys: Set<String> = ["collections", "roles", "users", "workflows", "recordWorkflows", "records", "$schema"]

    package static func load(path: String) throws -> JSON {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DomainError.badRequest("cannot read seed file '\(path)'")
        }
        do { return try JSON.parse(Array(data)) } catch { throw DomainError.badRequest("seed file '\(path)' is not valid JSON: \(error)") }
    }

    package static func apply(_ seed: JSON, database: any StorageBackend, schema: SchemaState, registry: WorkflowRegistry,
                      hasher: PasswordHasher) async throws -> Summary {
        guard case .object(let document) = seed else { throw DomainError.badRequest("a seed file is a JSON object") }
        for key in document.keys where !knownKeys.contains(key) { throw DomainError.validation(key, "unknown seed key '\(key)'") }
        var definitions: [CollectionDefinition] = []
        for item in document["collections"]?.arrayValue ?? [] { definitions.append(try CollectionDefinition.parse(item)) }
        let records = document["records"]?.objectValue ?? JSONObject()
        let roles = try (document["roles"]?.arrayValue ?? []).map(SeedRole.parse)
        var users = try (document["users"]?.arrayValue ?? []).map(SeedUser.parse)
        // Passwords of new users are hashed before the write (issue 13), one at a time: a seed
        // is start-up or CLI work and should not take every hashing thread from sign-ins. An
        // existing user keeps its password, so a re-applied seed hashes nothing.
        let existing = try await database.read { [users] connection in
            try Set(users.filter { $0.password != nil }.filter {
                try connection.identities.userID(named: $0.username) != nil
            }.map(\.username))
        }
        for index in users.indices where !existing.contains(users[index].username) {
            users[index] = try await users[index].hashingPassword(hasher)
        }
        let workflows = try (document["workflows"]?.arrayValue ?? []).enumerated().map(seedWorkflow)
        let recordWorkflows = try (document["recordWorkflows"]?.arrayValue ?? []).enumerated().map { index, item in
            guard let id = item["id"]?.stringValue, Name.isValidKey(id) else {
                throw DomainError.validation("recordWorkflows[\(index)].id", "a seeded record workflow needs a valid id")
            }
            var object = item.objectValue ?? [:]
            _ = object.removeValue(forKey: "version")
            _ = object.removeValue(forKey: "published")
            return (id, JSON.object(object), try RecordWorkflowDefinition.parse(.object(object), id: id))
        }
        let summary = try await database.write { [definitions, users] connection -> Summary in
            var summary = Summary()
            let now = Timestamp.now()
            for (id, definition, parsed) in recordWorkflows {
                try RecordWorkflowVersions.save(id, definition, parsed: parsed, claimedVersion: nil, actorID: nil,
                                                store: connection.recordWorkflows, now: now, skipIdentical: true)
                if try connection.recordWorkflows.latestVersion(of: id, publishedOnly: false)?.published == false {
                    _ = try RecordWorkflowVersions.publish(id, claimedVersion: nil, store: connection.recordWorkflows, now: now)
                }
            }
            let catalogue = definitions.isEmpty ? schema.writerCatalogue : try schema.apply(definitions, connection: connection)
            summary.collections = definitions.count
            for role in roles { try role.apply(to: connection.identities, now: now) }
            for user in users { try user.apply(to: connection.identities, now: now) }
            var writer = RecordWriter(connection: connection, catalogue: catalogue, actorID: nil)
            for (collection, list) in records {
                guard catalogue.collection(collection)?.isBuiltIn == false else { throw DomainError.collectionNotFound(collection) }
                for (i, item) in (list.arrayValue ?? []).enumerated() {
                    guard case .object(var values) = item else { throw DomainError.validation("records.\(collection)[\(i)]", "a record is an object") }
                    if let id = values["id"]?.intValue {
                        values.removeValue(forKey: "id")
                        if try writer.store.exists(collection, id: id) {
                            _ = try writer.update(collection, ids: [id], values: .object(values))
                            summary.updated += 1
                        } else {
                            _ = try writer.create(collection, .object(values), path: "records.\(collection)[\(i)]", fixed: ["id": .integer(id)])
                            summary.created += 1
                        }
                    } else if try !identicalExists(collection, values, catalogue: catalogue, connection: connection) {
                        _ = try writer.create(collection, .object(values), path: "records.\(collection)[\(i)]")
                        summary.created += 1
                    }
                }
            }
            if !workflows.isEmpty {
                for (i, definition) in workflows.enumerated() {
                    do throws(DomainError) { try definition.validate(catalogue: catalogue) } catch {
                        throw WorkflowDefinition.invalid("workflows[\(i)].\(error.items.first?.field ?? "")", error.items.first?.message ?? "")
                    }
                    try apply(definition, connection)
                }
                try registry.reload(connection)
            }
            return summary
        }
        return summary
    }

    private static func seedWorkflow(_ index: Int, _ item: JSON) throws -> WorkflowDefinition {
        guard case .object(let object) = item, let key = object["key"]?.stringValue else {
            throw DomainError.validation("workflows[\(index)]", "a seeded workflow is an object with a key")
        }
        guard Name.isValidKey(key) else { throw WorkflowDefinition.invalid("workflows[\(index)].key", "'\(key)' is not a valid key (^[A-Za-z0-9_-]{1,64}$)") }
        var definition = WorkflowDefinition(key: key)
        try definition.merge(object)
        return definition
    }

    /// Saves a seeded workflow: a new key gets version 1; an identical current version is kept; a
    /// changed one is updated in place until it has executions, then gets a new version.
    private static func apply(_ definition: WorkflowDefinition, _ connection: any Transaction) throws {
        guard let (id, number) = try connection.workflows.currentOrLatestVersion(key: definition.key) else {
            _ = try WorkflowService.insert(definition, versionNumber: 1, actorID: nil, connection)
            return
        }
        if try WorkflowDefinition.load(id, connection) == definition { return }
        if try !connection.executions.hasExecutions(ofVersion: id) {
            try connection.workflows.replaceContent(id, definition)
            if definition.enabled { try WorkflowService.makeCurrent(id, key: definition.key, connection) }
        } else {
            let newID = try WorkflowService.insert(definition, versionNumber: number + 1, actorID: nil, connection, current: false)
            if definition.enabled { try WorkflowService.makeCurrent(newID, key: definition.key, connection) }
        }
    }

    /// Whether a record with the same scalar values exists (so a seed without ids stays idempotent).
    private static func identicalExists(_ collection: String, _ values: JSONObject, catalogue: Catalogue,
                                        connection: any Transaction) throws -> Bool {
        guard let definition = catalogue.collection(collection) else { return false }
        var condition: RecordCondition?
        for field in definition.fields where !field.type.isRelation {
            guard let value = values[field.name] else { continue }
            let matches = try RecordCondition.field(field, equals: value)
            condition = condition.map { $0 && matches } ?? matches
        }
        guard let condition else { return false }
        return try connection.records(catalogue).exists(collection, where: condition)
    }
}

extension Application {
    /// Applies a seed document (also used by `triggerbase seed` and `serve --seed`).
    public func applySeed(_ seed: JSON) async throws -> (collections: Int, created: Int, updated: Int) {
        let summary = try await Seed.apply(seed, database: database, schema: schema, registry: workflowRuntime.registry,
                                           hasher: passwordHasher)
        authCache.invalidate()
        return (summary.collections, summary.created, summary.updated)
    }

    /// Reads and applies a seed file, blocking (start-up and CLI use).
    public func applySeedFile(_ path: String) throws -> (collections: Int, created: Int, updated: Int) {
        let seed = try Seed.load(path: path)
        return try runBlocking { try await self.applySeed(seed) }
    }
}

