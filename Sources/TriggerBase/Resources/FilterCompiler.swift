import JSON
import Storage

/// Compiles the filter language (spec 02) to a parameterised SQL condition. Field names are
/// resolved against the catalogue, relation paths become `IN (SELECT …)` subqueries; values are
/// always bound, never spliced.
struct FilterCompiler {
    let catalogue: Catalogue
    private(set) var parameters: [SQLiteValue] = []
    private var aliasCounter = 0

    init(catalogue: Catalogue) { self.catalogue = catalogue }

    /// Parses a filter given as JSON text in the `filter` query parameter.
    static func parse(text: String) throws(APIError) -> Filter {
        guard let json = try? JSON.parse(text) else { throw .invalidParameter("filter", "not valid JSON") }
        return try parse(json)
    }

    static func parse(_ json: JSON) throws(APIError) -> Filter {
        guard case .object = json else { throw .invalidParameter("filter", "must be a JSON object") }
        do { return try Filter.parse(json) } catch { throw .invalidParameter("filter", error.message) }
    }

    /// The SQL condition for `filter` on `collection`, whose table is aliased `alias`.
    mutating func compile(_ filter: Filter, collection: String, alias: String) throws(APIError) -> String {
        switch filter {
        case .and(let parts):
            if parts.isEmpty { return "1" }
            var sql: [String] = []
            for part in parts { sql.append(try compile(part, collection: collection, alias: alias)) }
            return "(" + sql.joined(separator: " AND ") + ")"
        case .or(let parts):
            if parts.isEmpty { return "0" }
            var sql: [String] = []
            for part in parts { sql.append(try compile(part, collection: collection, alias: alias)) }
            return "(" + sql.joined(separator: " OR ") + ")"
        case .condition(let path, let op, let value):
            return try condition(path: path, op: op.rawValue, value: value, collection: collection, alias: alias)
        }
    }

    private mutating func nextAlias() -> String {
        aliasCounter += 1
        return "f\(aliasCounter)"
    }

    private mutating func condition(path: [String], op: String, value: JSON, collection: String, alias: String) throws(APIError) -> String {
        guard let definition = catalogue.collection(collection), let first = path.first else {
            throw .invalidParameter("filter", "empty field path")
        }
        let columns = catalogue.allColumns(collection)
        if path.count == 1, columns.contains(first) {
            let field = definition.field(first)
            if field?.hidden == true { throw .invalidParameter("filter", "unknown field '\(first)'") }
            let type: FieldType = field?.type == .belongsTo ? .integer : field?.type ?? (first.hasSuffix("At") ? .datetime : .integer)
            return try comparison("\(alias).\(Name.quoted(first))", type: type, op: op, value: value)
        }
        guard let field = definition.field(first), field.type.isRelation, let target = field.target else {
            throw .invalidParameter("filter", "unknown field '\(path.joined(separator: "."))'")
        }
        if path.count == 1 {
            // {"category": 3} or {"category": {"$exists": true}} compares the foreign key.
            guard field.type == .belongsTo, let fk = field.foreignKey else {
                throw .invalidParameter("filter", "'\(first)' needs a field of the related collection")
            }
            return try comparison("\(alias).\(Name.quoted(fk))", type: .integer, op: op, value: value)
        }
        let inner = nextAlias()
        let rest = try condition(path: Array(path.dropFirst()), op: op, value: value, collection: target, alias: inner)
        let q = Name.quoted
        switch field.type {
        case .belongsTo:
            return "\(alias).\(q(field.foreignKey!)) IN (SELECT \(inner).\"id\" FROM \(q(target)) \(inner) WHERE \(rest))"
        case .hasOne, .hasMany:
            return "\(alias).\"id\" IN (SELECT \(inner).\(q(field.foreignKey!)) FROM \(q(target)) \(inner) WHERE \(rest))"
        default:
            let through = field.through!, a = Catalogue.singular(collection) + "Id", b = Catalogue.singular(target) + "Id"
            return "\(alias).\"id\" IN (SELECT \(q(a)) FROM \(q(through)) WHERE \(q(b)) IN (SELECT \(inner).\"id\" FROM \(q(target)) \(inner) WHERE \(rest)))"
        }
    }

    private mutating func bind(_ value: JSON, type: FieldType) -> String {
        switch value {
        case .bool(let b): parameters.append(.integer(b ? 1 : 0))
        case .int(let i): parameters.append(type == .double ? .real(Double(i)) : .integer(i))
        case .double(let d): parameters.append(.real(d))
        case .string(let s):
            if type == .datetime, let normalized = RecordCodec.normalizeDateTime(s) { parameters.append(.text(normalized)) }
            else { parameters.append(.text(s)) }
        case .null: parameters.append(.null)
        default: parameters.append(.text(value.serialized()))
        }
        return "?"
    }

    private mutating func comparison(_ column: String, type: FieldType, op: String, value: JSON) throws(APIError) -> String {
        switch op {
        case "$eq":
            return value.isNull ? "\(column) IS NULL" : "\(column) = \(bind(value, type: type))"
        case "$ne":
            return value.isNull ? "\(column) IS NOT NULL" : "(\(column) IS NULL OR \(column) <> \(bind(value, type: type)))"
        case "$gt": return "\(column) > \(bind(value, type: type))"
        case "$gte": return "\(column) >= \(bind(value, type: type))"
        case "$lt": return "\(column) < \(bind(value, type: type))"
        case "$lte": return "\(column) <= \(bind(value, type: type))"
        case "$in", "$notIn":
            guard case .array(let items) = value else { throw .invalidParameter("filter", "\(op) needs an array") }
            if items.isEmpty { return op == "$in" ? "0" : "1" }
            var marks: [String] = []
            for item in items { marks.append(bind(item, type: type)) }
            let list = marks.joined(separator: ", ")
            return op == "$in" ? "\(column) IN (\(list))" : "(\(column) IS NULL OR \(column) NOT IN (\(list)))"
        case "$includes":
            return "instr(\(column), \(bind(value, type: .text))) > 0"
        case "$notIncludes":
            return "(\(column) IS NULL OR instr(\(column), \(bind(value, type: .text))) = 0)"
        case "$startsWith":
            let text = SQLiteValue.text(value.stringValue ?? value.serialized())
            parameters += [text, text]
            return "substr(\(column), 1, length(?)) = ?"
        case "$endsWith":
            let text = SQLiteValue.text(value.stringValue ?? value.serialized())
            parameters += [text, text, text]
            return "(length(?) = 0 OR substr(\(column), -length(?)) = ?)"
        case "$empty":
            return "(\(column) IS NULL OR \(column) = '' OR \(column) = '[]')"
        case "$notEmpty":
            return "(\(column) IS NOT NULL AND \(column) <> '' AND \(column) <> '[]')"
        case "$exists":
            return value == .bool(false) ? "\(column) IS NULL" : "\(column) IS NOT NULL"
        case "$notExists":
            return value == .bool(false) ? "\(column) IS NOT NULL" : "\(column) IS NULL"
        default:
            throw .invalidParameter("filter", "unknown operator \(op)")
        }
    }
}
