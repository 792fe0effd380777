import JSON
import Model
import Storage

/// What a write did, for the response and for the workflows that fire after it.
package struct WriteEffects: Sendable {
    /// Every record created, including nested ones, in order.
    package var created: [(collection: String, id: Int64)] = []
    package var updated: [(collection: String, id: Int64)] = []
}

/// Creates, updates and deletes records through a record store inside the caller's transaction
/// (the writer's savepoint for the request), so a bad nested value leaves nothing behind. The
/// checks are here: assignments, required fields, defaults, nested relations, and what a failed
/// constraint means to the API; the store only stores.
package struct RecordWriter {
    package let store: any RecordStore
    package let actorID: Int64?
    package let now: String
    package var effects = WriteEffects()

    package init(store: any RecordStore, actorID: Int64?, now: String = Timestamp.now()) {
        self.store = store
        self.actorID = actorID
        self.now = now
    }

    /// The writer over `connection`'s records of `catalogue`.
    package init(connection: any Transaction, catalogue: Catalogue, actorID: Int64?, now: String = Timestamp.now()) {
        self.init(store: connection.records(catalogue), actorID: actorID, now: now)
    }

    private var catalogue: Catalogue { store.catalogue }

    // MARK: Create

    /// Inserts one record with its nested values; returns its id and the relations written.
    package mutating func create(_ collection: String, _ values: JSON, path: String = "",
                         fixed: [String: ColumnValue] = [:]) throws -> (id: Int64, relations: [String]) {
        let created = try insert(collection, values, path: path, fixed: fixed)
        return (created.id, created.relations)
    }

    /// `create`, answering the record as stored (without its relations embedded) instead of its
    /// id: built from what was inserted where the store can, so the write need not read it back.
    /// Only for a record nothing changes after this call in the same write.
    package mutating func createRecord(_ collection: String, _ values: JSON, fixed: [String: ColumnValue] = [:])
        throws -> (id: Int64, record: JSONObject, relations: [String]) {
        let created = try insert(collection, values, path: "", fixed: fixed)
        guard let record = try created.values.flatMap({ store.insertedRecord(collection, id: created.id, values: $0) })
            ?? store.records(collection, ids: [created.id]).first else {
            throw DomainError.notFound
        }
        return (created.id, record, created.relations)
    }

    /// The insert of `create`; `values` are the row's columns as inserted, or nil when a relation
    /// written after it may have changed the row (a hasOne or hasMany of the collection itself).
    private mutating func insert(_ collection: String, _ values: JSON, path: String, fixed: [String: ColumnValue])
        throws -> (id: Int64, relations: [String], values: [(column: String, value: ColumnValue)]?) {
        guard case .object(let object) = values else { throw DomainError.badRequest("\(path.isEmpty ? "body" : path) must be a JSON object") }
        guard let definition = catalogue.collection(collection) else { throw DomainError.collectionNotFound(collection) }
        var columns: [String] = ["createdAt", "updatedAt", "createdById", "updatedById"]
        var parameters: [ColumnValue] = [.text(now), .text(now), actorID.map { .integer($0) } ?? .null, actorID.map { .integer($0) } ?? .null]
        var problems: [DomainError.Item] = []
        try checkKeys(object, definition: definition, path: path, problems: &problems)
        for (column, value) in fixed { columns.append(column); parameters.append(value) }
        if let binding = definition.workflowDefinition {
            // A bound record starts in the first state of the latest published definition.
            guard let state = try store.publishedInitialState(ofRecordWorkflow: binding) else {
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
        let inserted = zip(columns, parameters).map { (column: $0.0, value: $0.1) }
        let id = try mapConstraint(collection) { try store.insert(collection, values: inserted) }
        effects.created.append((collection, id))
        for (field, value) in assigned.later {
            try setToMany(field, of: collection, id: id, value: value, path: path.isEmpty ? field.name : "\(path).\(field.name)", replace: false)
            relations.append(field.name)
        }
        let rowMayHaveChanged = assigned.later.contains { field, _ in field.type != .belongsToMany && field.target == collection }
        return (id, relations, rowMayHaveChanged ? nil : inserted)
    }

    /// What a values object sets: columns of scalars and belongsTo keys (nested to-one records
    /// created on the way), to-many values to apply once the row exists, and every problem found.
    /// Creating applies defaults and requires required fields; updating checks only what is given.
    private struct Assignments {
        package var columns: [String] = []
        package var values: [ColumnValue] = []
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
                    result.values.append(try RecordCodec.value(value, for: field, path: fieldPath))
                    result.columns.append(field.name)
                } catch {
                    result.problems += error.items
                }
            }
        }
        return result
    }

    private func checkKeys(_ object: JSONObject, definition: CollectionDefinition, path: String, problems: inout [DomainError.Item]) throws {
        // A scan, not a Set built per request: a collection has few fields.
        func isWritable(_ key: String) -> Bool {
            definition.fields.contains { $0.name == key || ($0.type == .belongsTo && $0.foreignKey == key) }
        }
        for key in object.keys where !isWritable(key) {
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
        if field.type == .belongsToMany {
            if replace { try store.removeLinks(field, of: collection, owner: id) }
            for (i, item) in items.enumerated() {
                guard let other = try linkTarget(item, field: field, path: "\(path)[\(i)]") else { continue }
                try store.addLink(field, of: collection, owner: id, target: other)
            }
            return
        }
        let fk = field.foreignKey!
        if replace { try store.clearForeignKey(target, column: fk, owner: id, updatedAt: nil) }
        for (i, item) in items.enumerated() {
            let itemPath = field.type == .hasOne ? path : "\(path)[\(i)]"
            if let existing = item.intValue ?? item["id"]?.intValue {
                guard try store.exists(target, id: existing) else { throw DomainError.validation(itemPath, "\(target) \(existing) does not exist") }
                try store.setForeignKey(target, column: fk, of: existing, to: id, updatedAt: now)
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
        var values: [(column: String, value: ColumnValue)] = [("updatedAt", .text(now)), ("updatedById", actorID.map { .integer($0) } ?? .null)]
        let assigned = try assignments(object, definition: definition, path: "", creating: false, skipping: [])
        values += zip(assigned.columns, assigned.values).map { (column: $0.0, value: $0.1) }
        problems += assigned.problems
        let later = assigned.later
        let relations = assigned.relations
        if !problems.isEmpty { throw DomainError(.invalid, items: problems) }
        for id in ids {
            try mapConstraint(collection) {
                try store.update(collection, id: id, values: values, raisingWorkflowVersion: definition.workflowDefinition != nil)
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
        try mapConstraint(collection) { try store.delete(collection, ids: ids) }
    }

    /// Turns failed constraints into the API's errors: unique → 409 naming the field, foreign key
    /// (RESTRICT) → 409.
    private func mapConstraint<T>(_ collection: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageError {
            switch error.constraint {
            case .unique(_, let columns):
                let field = columns.last ?? ""
                throw DomainError(.conflict, code: "UNIQUE_VIOLATION", message: "'\(field)' must be unique", field: field)
            case .foreignKey:
                throw DomainError(.conflict, code: "FOREIGN_KEY_VIOLATION", message: "other records still refer to this \(collection) record")
            case .notNull, nil:
                throw error
            }
        }
    }
}
