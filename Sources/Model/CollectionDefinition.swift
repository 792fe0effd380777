import JSON

/// Field types of spec 02.
package enum FieldType: String, Sendable, CaseIterable {
    case string, text, integer, double, boolean, date, datetime, json
    case belongsTo, hasOne, hasMany, belongsToMany

    package var isRelation: Bool { [.belongsTo, .hasOne, .hasMany, .belongsToMany].contains(self) }
    package var isToMany: Bool { self == .hasMany || self == .belongsToMany }
}

package enum OnDelete: String, Sendable { case setNull = "SET NULL", cascade = "CASCADE", restrict = "RESTRICT" }

/// One declared field of a collection.
package struct FieldDefinition: Sendable, Equatable {
    package var name: String
    package var type: FieldType
    package var required = false
    package var unique = false
    package var defaultValue: JSON?
    package var hidden = false
    package var index = false
    package var maxLength: Int?
    /// Relations: the other collection.
    package var target: String?
    /// belongsTo: column on this collection; hasOne / hasMany: column on the target.
    package var foreignKey: String?
    /// belongsToMany: the join table.
    package var through: String?
    package var onDelete: OnDelete = .setNull

    package init(name: String, type: FieldType, required: Bool = false, unique: Bool = false, defaultValue: JSON? = nil, hidden: Bool = false, index: Bool = false, maxLength: Int? = nil, target: String? = nil, foreignKey: String? = nil, through: String? = nil, onDelete: OnDelete = .setNull) {
        self.name = name
        self.type = type
        self.required = required
        self.unique = unique
        self.defaultValue = defaultValue
        self.hidden = hidden
        self.index = index
        self.maxLength = maxLength
        self.target = target
        self.foreignKey = foreignKey
        self.through = through
        self.onDelete = onDelete
    }

    /// The column this field stores in its own table, if any (scalars and belongsTo).
    package var column: String? {
        switch type {
        case .belongsTo: foreignKey
        case .hasOne, .hasMany, .belongsToMany: nil
        default: name
        }
    }
}

/// A collection: a real table with declared fields (spec 02: Collections).
package struct CollectionDefinition: Sendable, Equatable {
    package var name: String
    package var fields: [FieldDefinition]
    /// The record workflow its records move through (spec 06), if bound.
    package var workflowDefinition: String? = nil

    package init(name: String, fields: [FieldDefinition], workflowDefinition: String? = nil) {
        self.name = name
        self.fields = fields
        self.workflowDefinition = workflowDefinition
    }

    /// Columns a collection bound to a record workflow has besides its fields.
    package static let workflowColumns: [(name: String, type: FieldType)] = [
        ("workflowState", .string), ("workflowVersion", .integer), ("published", .boolean), ("publishedAt", .datetime),
    ]

    /// A declared field, or one of the read-only system relations `createdBy` / `updatedBy`.
    package func field(_ name: String) -> FieldDefinition? {
        fields.first { $0.name == name } ?? Self.systemRelations[name]
    }

    /// `createdBy` and `updatedBy`: read-only belongsTo relations to `users` over the system columns
    /// (spec 02: exact shapes). Usable in appends and filters; never written through the API.
    package static let systemRelations: [String: FieldDefinition] = [
        "createdBy": FieldDefinition(name: "createdBy", type: .belongsTo, target: "users", foreignKey: "createdById"),
        "updatedBy": FieldDefinition(name: "updatedBy", type: .belongsTo, target: "users", foreignKey: "updatedById"),
    ]

    /// Collections that exist without a definition row: their tables come from `schema/` migrations.
    package static let builtIn: [CollectionDefinition] = [
        CollectionDefinition(name: "users", fields: [
            FieldDefinition(name: "username", type: .string, required: true, unique: true, maxLength: 255),
            FieldDefinition(name: "email", type: .string, unique: true, maxLength: 255),
            FieldDefinition(name: "nickname", type: .string, maxLength: 255),
            FieldDefinition(name: "password", type: .string, hidden: true),
        ]),
        CollectionDefinition(name: "workflows", fields: [
            FieldDefinition(name: "key", type: .string, required: true, maxLength: 64),
            FieldDefinition(name: "versionNumber", type: .integer),
            FieldDefinition(name: "title", type: .string, maxLength: 255),
            FieldDefinition(name: "type", type: .string, maxLength: 64),
            FieldDefinition(name: "enabled", type: .boolean),
            FieldDefinition(name: "current", type: .boolean),
            FieldDefinition(name: "sync", type: .boolean),
            FieldDefinition(name: "config", type: .json),
            FieldDefinition(name: "options", type: .json),
            FieldDefinition(name: "nodes", type: .json),
        ]),
        CollectionDefinition(name: "executions", fields: [
            FieldDefinition(name: "workflow", type: .belongsTo, target: "workflows", foreignKey: "workflowId"),
            FieldDefinition(name: "key", type: .string),
            FieldDefinition(name: "status", type: .integer),
            FieldDefinition(name: "statusName", type: .string),
            FieldDefinition(name: "context", type: .json),
            FieldDefinition(name: "businessKey", type: .string),
            FieldDefinition(name: "reason", type: .string),
            FieldDefinition(name: "attempts", type: .integer),
            FieldDefinition(name: "lastError", type: .string),
            FieldDefinition(name: "startedAt", type: .datetime),
            FieldDefinition(name: "finishedAt", type: .datetime),
            FieldDefinition(name: "jobs", type: .hasMany, target: "jobs", foreignKey: "executionId"),
        ]),
        CollectionDefinition(name: "jobs", fields: [
            FieldDefinition(name: "nodeId", type: .string),
            FieldDefinition(name: "nodeKey", type: .string),
            FieldDefinition(name: "status", type: .integer),
            FieldDefinition(name: "statusName", type: .string),
            FieldDefinition(name: "result", type: .json),
        ]),
    ]

    package var isBuiltIn: Bool { Self.builtIn.contains { $0.name == name } }

    /// System columns every collection has.
    package static let systemColumns = ["id", "createdAt", "updatedAt", "createdById", "updatedById"]

    /// Names that are management resources or internal tables, so never collections.
    package static let reservedNames: Set<String> = [
        "collections", "users", "roles", "workflows", "executions", "jobs", "apiKeys", "auth", "tokens",
        "migrations", "workflow", "management", "health", "metrics", "openapi", "recordWorkflowDefinitions", "recordWorkflowHistory",
    ]

    /// Whether `name` cannot be a table: one of `reservedNames`, or a name SQLite keeps for itself
    /// (any case of `sqlite_…`, sqlite.org/lang_createtable.html).
    package static func isReserved(_ name: String) -> Bool {
        reservedNames.contains(name) || name.utf8.count >= 7 && name.prefix(7).lowercased() == "sqlite_"
    }

    /// The JSON form (as `collections:get` answers and as stored).
    package var json: JSON {
        var object: JSONObject = ["name": .string(name), "fields": .array(fields.map(\.json))]
        if let workflowDefinition { object["workflowDefinition"] = .string(workflowDefinition) }
        return .object(object)
    }
}

extension FieldDefinition {
    package var json: JSON {
        var object: JSONObject = ["name": .string(name), "type": .string(type.rawValue)]
        if required { object["required"] = true }
        if unique { object["unique"] = true }
        if let defaultValue { object["default"] = defaultValue }
        if hidden { object["hidden"] = true }
        if index { object["index"] = true }
        if let maxLength { object["maxLength"] = .int(Int64(maxLength)) }
        if let target { object["target"] = .string(target) }
        if let foreignKey { object["foreignKey"] = .string(foreignKey) }
        if let through { object["through"] = .string(through) }
        if type.isRelation && onDelete != .setNull { object["onDelete"] = .string(onDelete.rawValue) }
        return .object(object)
    }

    /// Parses one field definition; relation defaults (foreign key, through) are filled by the catalogue.
    package static func parse(_ json: JSON, path: String) throws(DomainError) -> FieldDefinition {
        guard case .object(let object) = json else { throw .validation(path, "a field must be an object") }
        let known: Set<String> = ["name", "type", "required", "unique", "default", "hidden", "index", "maxLength",
                                  "target", "foreignKey", "through", "onDelete", "title", "interface", "uiSchema"]
        for key in object.keys where !known.contains(key) { throw .validation("\(path).\(key)", "unknown field option '\(key)'") }
        guard let name = object["name"]?.stringValue else { throw .validation("\(path).name", "a field needs a name") }
        guard Name.isValid(name) else { throw .invalidName(name) }
        guard let typeName = object["type"]?.stringValue, let type = FieldType(rawValue: typeName) else {
            throw .validation("\(path).type", "field '\(name)' has an unknown type")
        }
        var field = FieldDefinition(name: name, type: type)
        func flag(_ key: String) throws(DomainError) -> Bool {
            guard let value = object[key] else { return false }
            guard case .bool(let b) = value else { throw .validation("\(path).\(key)", "'\(key)' must be true or false") }
            return b
        }
        field.required = try flag("required")
        field.unique = try flag("unique")
        field.hidden = try flag("hidden")
        field.index = try flag("index")
        if let value = object["default"], !value.isNull { field.defaultValue = value }
        if let max = object["maxLength"] {
            guard let n = max.intValue, n > 0 else { throw .validation("\(path).maxLength", "maxLength must be a positive integer") }
            field.maxLength = Int(n)
        }
        if type.isRelation {
            guard let target = object["target"]?.stringValue else { throw .validation("\(path).target", "relation '\(name)' needs a target") }
            guard Name.isValid(target) else { throw .invalidName(target) }
            field.target = target
            if let fk = object["foreignKey"] {
                guard let fk = fk.stringValue, Name.isValid(fk) else { throw .invalidName(object["foreignKey"]?.stringValue ?? "") }
                field.foreignKey = fk
            }
            if let through = object["through"] {
                guard let through = through.stringValue, Name.isValid(through), !CollectionDefinition.isReserved(through) else {
                    throw .invalidName(object["through"]?.stringValue ?? "")
                }
                field.through = through
            }
            if let onDelete = object["onDelete"] {
                guard let text = onDelete.stringValue, let parsed = OnDelete(rawValue: text.uppercased()) else {
                    throw .validation("\(path).onDelete", "onDelete is SET NULL, CASCADE or RESTRICT")
                }
                field.onDelete = parsed
            }
        } else {
            // Found by schemathesis: these were ignored on a scalar field, even when malformed.
            for key in ["target", "foreignKey", "through", "onDelete"] where object[key] != nil {
                throw .validation("\(path).\(key)", "'\(key)' applies to relation fields only")
            }
            if type == .string && field.maxLength == nil { field.maxLength = 255 }
        }
        return field
    }
}

extension CollectionDefinition {
    /// Parses `{"name", "fields": [...]}` (spec 02; JSON Schema in schema/collection.schema.json).
    package static func parse(_ json: JSON) throws(DomainError) -> CollectionDefinition {
        guard case .object(let object) = json else { throw .badRequest("a collection must be a JSON object") }
        guard let name = object["name"]?.stringValue else { throw .validation("name", "a collection needs a name") }
        guard Name.isValid(name) else { throw .invalidName(name) }
        guard !isReserved(name) else {
            throw DomainError(.invalid, code: "INVALID_NAME", message: "'\(name)' is reserved", field: "name")
        }
        var fields: [FieldDefinition] = []
        if let list = object["fields"] {
            guard case .array(let items) = list else { throw .validation("fields", "fields must be an array") }
            for (i, item) in items.enumerated() {
                let field = try FieldDefinition.parse(item, path: "fields[\(i)]")
                if systemColumns.contains(field.name) || fields.contains(where: { $0.name == field.name }) {
                    throw .validation("fields[\(i)].name", "field '\(field.name)' is declared twice or is a system field")
                }
                fields.append(field)
            }
        }
        var binding: String?
        if let value = object["workflowDefinition"], !value.isNull {
            guard let id = value.stringValue, Name.isValidKey(id) else {
                throw .validation("workflowDefinition", "workflowDefinition must be a record workflow id")
            }
            binding = id
        }
        for field in fields where workflowColumns.contains(where: { $0.name == field.name }) && binding != nil {
            throw .validation("fields", "'\(field.name)' is a record workflow column")
        }
        return CollectionDefinition(name: name, fields: fields, workflowDefinition: binding)
    }
}
