import JSON
import Model

/// Compiles the filter language (spec 02) to a parameterised SQL condition. Field names are
/// resolved against the catalogue, relation paths become `IN (SELECT …)` subqueries; values are
/// always bound, never spliced.
package struct FilterCompiler {
    package let catalogue: Catalogue
    package private(set) var parameters: [SQLiteValue] = []
    private var aliasCounter = 0

    package init(catalogue: Catalogue) { self.catalogue = catalogue }

    /// Parses a filter given as JSON text in the `filter` query parameter.
    package static func parse(text: String) throws(DomainError) -> Filter {
        guard let json = try? JSON.parse(text) else { throw .invalidParameter("filter", "not valid JSON") }
        return try parse(json)
    }

    package static func parse(_ json: JSON) throws(DomainError) -> Filter {
        guard case .object = json else { throw .invalidParameter("filter", "must be a JSON object") }
        do { return try Filter.parse(json) } catch { throw .invalidParameter("filter", error.message) }
    }

    /// The SQL condition for `filter` on `collection`, whose table is aliased `alias`.
    package mutating func compile(_ filter: Filter, collection: String, alias: String) throws(DomainError) -> String {
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
            return try condition(path: path, op: op, value: value, collection: collection, alias: alias)
        }
    }

    private mutating func nextAlias() -> String {
        aliasCounter += 1
        return "f\(aliasCounter)"
    }

    private mutating func condition(path: [String], op: FilterOperator, value: JSON, collection: String, alias: String) throws(DomainError) -> String {
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
            let through = field.through!, (a, b) = Catalogue.joinColumns(of: field, in: collection)
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

    private mutating func bindText(_ text: String) -> String {
        parameters.append(.text(text))
        return "?"
    }

    private mutating func comparison(_ column: String, type: FieldType, op: FilterOperator, value: JSON) throws(DomainError) -> String {
        // Operand shapes were checked by Filter.parse; what is left is how each reads in SQL.
        switch op {
        case .eq:
            if let items = value.arrayValue { return membership(column, items, type: type, negated: false) }
            return value.isNull ? "\(column) IS NULL" : "\(column) = \(bind(value, type: type))"
        case .ne:
            // Scalar `$ne` keeps NULL rows; `$ne [..]` is `$notIn`, which leaves them out (NocoBase ne.ts).
            if let items = value.arrayValue { return membership(column, items, type: type, negated: true) }
            return value.isNull ? "\(column) IS NOT NULL" : "(\(column) IS NULL OR \(column) <> \(bind(value, type: type)))"
        case .gt: return "\(column) > \(bind(value, type: type))"
        case .gte: return "\(column) >= \(bind(value, type: type))"
        case .lt: return "\(column) < \(bind(value, type: type))"
        case .lte: return "\(column) <= \(bind(value, type: type))"
        case .in, .notIn:
            guard case .array(let items) = value else { throw .invalidParameter("filter", "\(op.rawValue) needs an array") }
            return membership(column, items, type: type, negated: op == .notIn)
        case .includes, .notIncludes:
            // Case-insensitive substring (NocoBase string.ts), with the ESCAPE clause NocoBase
            // forgets on SQLite; NOT LIKE leaves NULL rows out. `null` means IS (NOT) NULL there too.
            if value.isNull { return op == .includes ? "\(column) IS NULL" : "\(column) IS NOT NULL" }
            let items = value.arrayValue ?? [value]
            if items.isEmpty { return op == .includes ? "0" : "\(column) IS NOT NULL" }
            var tests: [String] = []
            for item in items {
                let pattern = LikePattern.containing(Filter.likeText(item) ?? "")
                tests.append("\(column) \(op == .includes ? "LIKE" : "NOT LIKE") \(bindText(pattern)) ESCAPE '\\'")
            }
            return "(" + tests.joined(separator: op == .includes ? " OR " : " AND ") + ")"
        case .like, .notLike:
            // The client's own pattern, wildcards and all, as Sequelize's Op.like passes it.
            guard let pattern = Filter.likeText(value) else { return "0" }
            return "\(column) \(op == .like ? "LIKE" : "NOT LIKE") \(bindText(pattern))"
        case .startsWith:
            let text = SQLiteValue.text(value.stringValue ?? value.serialized())
            parameters += [text, text]
            return "substr(\(column), 1, length(?)) = ?"
        case .endsWith:
            let text = SQLiteValue.text(value.stringValue ?? value.serialized())
            parameters += [text, text, text]
            return "(length(?) = 0 OR substr(\(column), -length(?)) = ?)"
        case .empty:
            return "(\(column) IS NULL OR \(column) = '' OR \(column) = '[]')"
        case .notEmpty:
            return "(\(column) IS NOT NULL AND \(column) <> '' AND \(column) <> '[]')"
        case .exists:
            return value == .bool(false) ? "\(column) IS NULL" : "\(column) IS NOT NULL"
        case .notExists:
            return value == .bool(false) ? "\(column) IS NOT NULL" : "\(column) IS NULL"
        case .isTruly:
            return "\(column) = 1"  // the value is ignored (NocoBase boolean.ts)
        case .isFalsy:
            return "(\(column) IS NULL OR \(column) = 0)"
        case .dateOn, .dateNotOn, .dateBefore, .dateAfter, .dateNotBefore, .dateNotAfter, .dateBetween:
            return try dateComparison(column, type: type, op: op, value: value)
        }
    }

    /// `IN` / `NOT IN`. A `null` member means the NULL value itself (`IS NULL`), not SQL's
    /// three-valued surprise where `NOT IN (1, NULL)` matches nothing; `NOT IN` always leaves NULL
    /// rows out (spec 02), so `$notIn: []` is `IS NOT NULL`.
    private mutating func membership(_ column: String, _ items: [JSON], type: FieldType, negated: Bool) -> String {
        var marks: [String] = []
        for item in items where !item.isNull { marks.append(bind(item, type: type)) }
        let hasNull = items.contains { $0.isNull }
        let list = marks.joined(separator: ", ")
        if negated {
            return marks.isEmpty ? "\(column) IS NOT NULL" : "(\(column) IS NOT NULL AND \(column) NOT IN (\(list)))"
        }
        switch (marks.isEmpty, hasNull) {
        case (true, false): return "0"
        case (true, true): return "\(column) IS NULL"
        case (false, false): return "\(column) IN (\(list))"
        case (false, true): return "(\(column) IS NULL OR \(column) IN (\(list)))"
        }
    }

    /// The date family over the stored text forms, which order like time: a `datetime` column is
    /// compared with bounds written as `YYYY-MM-DDTHH:MM:SS.sssZ`, a `date` column with day strings
    /// after the range is widened to whole UTC days (what `Filter.evaluate` does for a date-only
    /// value). A bound beyond the four-digit years cannot be written in that form, so it becomes
    /// the constant it is (every stored value is on its side of it).
    private mutating func dateComparison(_ column: String, type: FieldType, op: FilterOperator, value: JSON) throws(DomainError) -> String {
        guard type == .date || type == .datetime else {
            throw .invalidParameter("filter", "\(op.rawValue) needs a date or datetime field")
        }
        guard var range = Filter.dateRange(op, value) else { throw .invalidParameter("filter", "\(op.rawValue) needs a date") }
        if type == .date { range = range.wholeDays }
        let bounds = Filter.DateBounds(op, range)
        func text(_ ms: Int64) -> String { type == .date ? DateRange.dayText(ms) : DateRange.timestampText(ms) }
        var tests: [String] = []
        if let lower = bounds.lower {
            if lower >= DateRange.latest { tests.append("0") }
            else if lower > DateRange.earliest { tests.append("\(column) >= \(bindText(text(lower)))") }
        }
        if let upper = bounds.upper {
            if upper <= DateRange.earliest { tests.append("0") }
            else if upper < DateRange.latest { tests.append("\(column) < \(bindText(text(upper)))") }
        }
        let within = tests.isEmpty ? "1" : tests.joined(separator: " AND ")
        return bounds.inside ? "(\(column) IS NOT NULL AND \(within))" : "(\(column) IS NOT NULL AND NOT (\(within)))"
    }
}
