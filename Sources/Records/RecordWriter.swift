import JSON
import Model
import Storage

/// What a write did, for the response and for the workflows that fire after it.
package struct WriteEffects: Sendable {
    /// Every record created, including nested ones, in order.
    package var created: [(collection: String, id: Int64)] = []
    package var updated: [(collection: String, id: Int64)] = []
}

/// Creates, updates and deletes records over one connection inside the caller's transaction (the
/// writer's savepoint for the request), so a bad nested value leaves nothing behind.
package struct RecordWriter {
    package let store: RecordStore
    package let actorID: Int64?
    package let now: String
    package var effects = WriteEffects()

    package init(connection: SQLiteConnection, catalogue: Catalogue, actorID: Int64?, now: String = Timestamp.now()) {
        self.store = RecordStore(connection: connection, catalogue: catalogue)
        self.actorID = actorID
        self.now = now
    }

    package var connection: SQLiteConnection { store.connection }
    private var catalogue: Catalogue { store.catalogue }

    // MARK: Create

    /// Inserts one record with its nested values; returns its id and the relations written.
    package mutating func create(_ collection: String, _ values: JSON, path: String = "",
                         fixed: [String: SQLiteValue] = [:]) throws -> (id: Int64, relations: [String]) {
        guard case .object(let object) = values else { throw DomainError.badRequest("\(path.isEmpty ? "body" : path) must be a JSON object") }
        guard let definition = catalogue.collection(collection) else { throw DomainError.collectionNotFound(collection) }
        var columns: [String] = ["createdAt", "updatedAt", "createdById", "updatedById"]
        var parameters: [SQLiteValue] = [.text(now), .text(now), actorID.map { .integer($0) } ?? .null, actorID.map { .integer($0) } ?? .null]
        var problems: [DomainError.Item] = []
        try checkKeys(object, definition: definition, path: path, problems: &problems)
        for (column, value) in fixed { columns.append(column); parameters.append(value) }
        if let binding = definition.workflowDefinition {
            // A bound record starts in the first state of the latest published definition.
            guard let state = try connection.query("""
                SELECT "initialState" FROM "recordWorkflowDefinitions" WHERE "id" = ? AND "published" = 1 ORDER BY "major" DESC LIMIT 1
                """, [.text(binding)]).first?[0].string else {
                throw DomainError(.conflict, code: "WORKFLOW_NOT_PUBLISHED", message: "record workflow '\(binding)' has no published version")
            }
            columns.append("workflowState")
            parameters.append(.text(state))
        }
        let assigned = try assignments(object, definition: definition, path: path, creating: true, skipping: Set(fixed.keys))
        columns += assigned.columns
        parameters += assigned.values
        problems += assigned.problems
        var relations = assigned.relations
        if !problems.isEmpty { throw DomainError(.invalid, items: problems) }
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        try mapConstraint(collection) {
            try connection.run("INSERT INTO \(Name.quoted(collection)) (\(columns.map(Name.quoted).joined(separator: ", "))) VALUES (\(marks))", parameters)
        }
        let id = connection.lastInsertRowID
        effects.created.append((collection, id))
        for (field, value) in assigned.later {
            try setToMany(field, of: collection, id: id, value: value, path: path.isEmpty ? field.name : "\(path).\(field.name)", replace: false)
            relations.append(field.name)
        }
        return (id, relations)
    }

    /// What a values object sets: columns of scalars and belongsTo keys (nested to-one records
    /// created on the way), to-many values to apply once the row exists, and every problem found.
    /// Creating applies defaults and requires required fields; updating checks only what is given.
    private struct Assignments {
        package var columns: [String] = []
        package var values: [SQLiteValue] = []
        package var later: [(FieldDefinition, JSON)] = []
        package var relations: [String] = []
        package var problems: [DomainError.Item] = []
    }

    private mutating func assignments(_ object: JSONObject, definition: CollectionDefinition, path: String,
                                      creating: Bool, skipping: Set<String>) throws -> Assignments {
        var result = Assignments()
        for field in definition.fields where !skipping.contains(field.column ?? "") {
            let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
            var value = object[field.name]
            if field.type == .belongsTo, value == nil, let fk = field.foreignKey, let raw = object[fk] { value = raw }
            if creating, value == nil || value == .null, let fallback = field.defaultValue, !field.type.isRelation { value = fallback }
            let missing = value == nil || value == .null || value == .string("")
            if field.required && missing && (creating || value != nil) {
                result.problems.append(.init(message: "'\(field.name)' is required", code: "VALIDATION_ERROR", field: fieldPath))
                continue
            }
            guard let value else { continue }
            switch field.type {
            case .belongsTo:
                do {
                    let id = try linkTarget(value, field: field, path: fieldPath)
                    result.columns.append(field.foreignKey!)
                    result.values.append(id.map { .integer($0) } ?? .null)
                    if case .object = value { result.relations.append(field.name) }
                } catch let error as DomainError {
                    result.problems += error.items
                }
            case .hasOne, .hasMany, .belongsToMany:
                result.later.append((field, value))
            default:
                do {
                    result.values.append(try RecordCodec.encode(value, for: field, path: fieldPath))
                    result.columns.append(field.name)
                } catch {
                    result.problems += error.items
                }
            }
        }
        return result
    }

    private func checkKeys(_ object: JSONObject, definition: CollectionDefinition, path: String, problems: inout [DomainError.Item]) throws {
        let writable = Set(definition.fields.map(\.name) + definition.fields.compactMap { $0.type == .belongsTo ? $0.foreignKey : nil })
        for key in object.keys where !writable.contains(key) {
            if key == "id" || CollectionDefinition.systemColumns.contains(key) { continue }
            problems.append(.init(message: "unknown field '\(key)'", code: "VALIDATION_ERROR", field: path.isEmpty ? key : "\(path).\(key)"))
        }
    }

    /// A to-one value: an id, `{id}` (link), or an object without id (create it now).
    private mutating func linkTarget(_ value: JSON, field: FieldDefinition, path: String) throws -> Int64? {
        let target = field.target!
        switch value {
        case .null: return nil
        case .int(let id):
            guard try store.exists(target, id: id) else { throw DomainError.validation(path, "\(target) \(id) does not exist") }
            return id
        case .object(let object):
            if let idValue = object["id"] {
                guard let id = idValue.intValue else { throw DomainError.validation(path, "'id' must be an integer") }
                guard try store.exists(target, id: id) else { throw DomainError.validation(path, "\(target) \(id) does not exist") }
                return id
            }
            return try create(target, value, path: path).id
        default:
            throw DomainError.validation(path, "'\(field.name)' must be an id or an object")
        }
    }

    /// Sets the records of a hasOne / hasMany / belongsToMany relation of one record.
    package mutating func setToMany(_ field: FieldDefinition, of collection: String, id: Int64, value: JSON, path: String, replace: Bool) throws {
        let target = field.target!
        var items: [JSON]
        switch value {
        case .array(let list) where field.type != .hasOne: items = list
        case .object, .int: items = [value]
        case .null: items = []
        default: throw DomainError.validation(path, "'\(field.name)' must be \(field.type == .hasOne ? "an id or an object" : "an array")")
        }
        if field.type == .hasOne && items.count > 1 { throw DomainError.validation(path, "'\(field.name)' takes one record") }
        let q = Name.quoted
        if field.type == .belongsToMany {
            let through = field.through!, (a, b) = Catalogue.joinColumns(of: field, in: collection)
            if replace { try connection.run("DELETE FROM \(q(through)) WHERE \(q(a)) = ?", [.integer(id)]) }
            for (i, item) in items.enumerated() {
                guard let other = try linkTarget(item, field: field, path: "\(path)[\(i)]") else { continue }
                try connection.run("INSERT OR IGNORE INTO \(q(through)) (\(q(a)), \(q(b))) VALUES (?, ?)", [.integer(id), .integer(other)])
            }
            return
        }
        let fk = field.foreignKey!
        if replace { try connection.run("UPDATE \(q(target)) SET \(q(fk)) = NULL WHERE \(q(fk)) = ?", [.integer(id)]) }
        for (i, item) in items.enumerated() {
            let itemPath = field.type == .hasOne ? path : "\(path)[\(i)]"
            if let existing = item.intValue ?? item["id"]?.intValue {
                guard try store.exists(target, id: existing) else { throw DomainError.validation(itemPath, "\(target) \(existing) does not exist") }
                try connection.run("UPDATE \(q(target)) SET \(q(fk)) = ?, \"updatedAt\" = ? WHERE \"id\" = ?", [.integer(id), .text(now), .integer(existing)])
            } else if case .object = item {
                _ = try create(target, item, path: itemPath, fixed: [fk: .integer(id)])
            } else {
                throw DomainError.validation(itemPath, "'\(field.name)' items must be ids or objects")
            }
        }
    }

    // MARK: Update

    /// Applies `values` to each record in `ids` (already scoped by the caller).
    package mutating func update(_ collection: String, ids: [Int64], values: JSON) throws -> [String] {
        guard case .object(let object) = values else { throw DomainError.badRequest("body must be a JSON object") }
        guard let definition = catalogue.collection(collection) else { throw DomainError.collectionNotFound(collection) }
        var problems: [DomainError.Item] = []
        try checkKeys(object, definition: definition, path: "", problems: &problems)
        var sets: [String] = ["\"updatedAt\" = ?", "\"updatedById\" = ?"]
        if definition.workflowDefinition != nil { sets.append("\"workflowVersion\" = \"workflowVersion\" + 1") }
        var parameters: [SQLiteValue] = [.text(now), actorID.map { .integer($0) } ?? .null]
        let assigned = try assignments(object, definition: definition, path: "", creating: false, skipping: [])
        sets += assigned.columns.map { "\(Name.quoted($0)) = ?" }
        parameters += assigned.values
        problems += assigned.problems
        let later = assigned.later
        let relations = assigned.relations
        if !problems.isEmpty { throw DomainError(.invalid, items: problems) }
        for id in ids {
            try mapConstraint(collection) {
                try connection.run("UPDATE \(Name.quoted(collection)) SET \(sets.joined(separator: ", ")) WHERE \"id\" = ?", parameters + [.integer(id)])
            }
            for (field, value) in later {
                try setToMany(field, of: collection, id: id, value: value, path: field.name, replace: true)
            }
            effects.updated.append((collection, id))
        }
        return relations + later.map(\.0.name)
    }

    // MARK: Destroy

    package mutating func destroy(_ collection: String, ids: [Int64]) throws -> Int {
        var count = 0
        for chunk in ids.chunked(500) where !chunk.isEmpty {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            try mapConstraint(collection) {
                count += try connection.run("DELETE FROM \(Name.quoted(collection)) WHERE \"id\" IN (\(marks))", chunk.map { .integer($0) })
            }
        }
        return count
    }

    /// Turns SQLite constraint errors into the API's: unique → 409, foreign key (RESTRICT) → 409.
    private func mapConstraint(_ collection: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as StorageError where error.isUniqueViolation {
            let field = error.message.split(separator: ".").last.map(String.init) ?? ""
            throw DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "'\(field)' must be unique", field: field)
        } catch let error as StorageError where error.isForeignKeyViolation {
            throw DomainError(.conflict, code: "FOREIGN_KEY_VIOLATION", message: "other records still refer to this \(collection) record")
        }
    }
}
