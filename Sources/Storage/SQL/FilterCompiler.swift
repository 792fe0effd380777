import JSON
import Model

/// Compiles the filter language (spec 02) to a `RecordCondition`: field names are resolved
/// against the catalogue (an unknown or hidden one is a 400 naming `filter`), relation paths
/// become subqueries, values take their columns' stored forms. It writes no SQL: a record store
/// writes the condition through its dialect, with every value bound, never spliced.
package struct FilterCompiler {
    package let catalogue: Catalogue
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

    /// The condition `filter` puts on the records of `collection`.
    package mutating func compile(_ filter: Filter, collection: String) throws(DomainError) -> RecordCondition {
        RecordCondition(try node(filter, collection: collection, table: .root))
    }

    private typealias Node = RecordCondition.Node
    private typealias Column = RecordCondition.Column

    private mutating func node(_ filter: Filter, collection: String, table: Column.Table) throws(DomainError) -> Node {
        switch filter {
        case .and(let parts):
            if parts.isEmpty { return .constant(true) }
            var nodes: [Node] = []
            for part in parts { nodes.append(try node(part, collection: collection, table: table)) }
            return .and(nodes)
        case .or(let parts):
            if parts.isEmpty { return .constant(false) }
            var nodes: [Node] = []
            for part in parts { nodes.append(try node(part, collection: collection, table: table)) }
            return .or(nodes)
        case .condition(let path, let op, let value):
            return try condition(path: path, op: op, value: value, collection: collection, table: table)
        }
    }

    private mutating func nextAlias() -> String {
        aliasCounter += 1
        return "f\(aliasCounter)"
    }

    private mutating func condition(path: [String], op: FilterOperator, value: JSON, collection: String, table: Column.Table) throws(DomainError) -> Node {
        guard let definition = catalogue.collection(collection), let first = path.first else {
            throw .invalidParameter("filter", "empty field path")
        }
        let columns = catalogue.allColumns(collection)
        if path.count == 1, columns.contains(first) {
            let field = definition.field(first)
            if field?.hidden == true { throw .invalidParameter("filter", "unknown field '\(first)'") }
            let type: FieldType = field?.type == .belongsTo ? .integer : field?.type ?? (first.hasSuffix("At") ? .datetime : .integer)
            return try comparison(Column(table: table, name: first), type: type, op: op, value: value)
        }
        guard let field = definition.field(first), field.type.isRelation, let target = field.target else {
            throw .invalidParameter("filter", "unknown field '\(path.joined(separator: "."))'")
        }
        if path.count == 1 {
            // {"category": 3} or {"category": {"$exists": true}} compares the foreign key.
            guard field.type == .belongsTo, let fk = field.foreignKey else {
                throw .invalidParameter("filter", "'\(first)' needs a field of the related collection")
            }
            return try comparison(Column(table: table, name: fk), type: .integer, op: op, value: value)
        }
        let inner = nextAlias()
        let rest = try condition(path: Array(path.dropFirst()), op: op, value: value, collection: target, table: .alias(inner))
        switch field.type {
        case .belongsTo:
            return .inSubquery(Column(table: table, name: field.foreignKey!), select: Column(table: .alias(inner), name: "id"),
                               from: target, alias: inner, where: rest)
        case .hasOne, .hasMany:
            return .inSubquery(Column(table: table, name: "id"), select: Column(table: .alias(inner), name: field.foreignKey!),
                               from: target, alias: inner, where: rest)
        default:
            let through = field.through!, (a, b) = Catalogue.joinColumns(of: field, in: collection)
            let targets: Node = .inSubquery(.plain(b), select: Column(table: .alias(inner), name: "id"), from: target, alias: inner, where: rest)
            return .inSubquery(Column(table: table, name: "id"), select: .plain(a), from: through, alias: nil, where: targets)
        }
    }

    private func stored(_ value: JSON, type: FieldType) -> SQLiteValue {
        switch value {
        case .bool(let b): .integer(b ? 1 : 0)
        case .int(let i): type == .double ? .real(Double(i)) : .integer(i)
        case .double(let d): .real(d)
        case .string(let s): .text(type == .datetime ? RecordCodec.normalizeDateTime(s) ?? s : s)
        case .null: .null
        default: .text(value.serialized())
        }
    }

    private func comparison(_ column: Column, type: FieldType, op: FilterOperator, value: JSON) throws(DomainError) -> Node {
        // Operand shapes were checked by Filter.parse; what is left is what each one means.
        switch op {
        case .eq:
            if let items = value.arrayValue { return membership(column, items, type: type, negated: false) }
            return value.isNull ? .isNull(column, negated: false) : .compare(column, .eq, stored(value, type: type))
        case .ne:
            // Scalar `$ne` keeps NULL rows; `$ne [..]` is `$notIn`, which leaves them out (NocoBase ne.ts).
            if let items = value.arrayValue { return membership(column, items, type: type, negated: true) }
            return value.isNull ? .isNull(column, negated: true)
                : .or([.isNull(column, negated: false), .compare(column, .ne, stored(value, type: type))])
        case .gt: return .compare(column, .gt, stored(value, type: type))
        case .gte: return .compare(column, .gte, stored(value, type: type))
        case .lt: return .compare(column, .lt, stored(value, type: type))
        case .lte: return .compare(column, .lte, stored(value, type: type))
        case .in, .notIn:
            guard case .array(let items) = value else { throw .invalidParameter("filter", "\(op.rawValue) needs an array") }
            return membership(column, items, type: type, negated: op == .notIn)
        case .includes, .notIncludes:
            // Case-insensitive substring (NocoBase string.ts); the negation leaves NULL rows out.
            // `null` means IS (NOT) NULL there too.
            if value.isNull { return .isNull(column, negated: op == .notIncludes) }
            let items = value.arrayValue ?? [value]
            if items.isEmpty { return op == .includes ? .constant(false) : .isNull(column, negated: true) }
            let tests: [Node] = items.map { .contains(column, Filter.likeText($0) ?? "", negated: op == .notIncludes) }
            return op == .includes ? .or(tests) : .and(tests)
        case .like, .notLike:
            // The client's own pattern, wildcards and all, as Sequelize's Op.like passes it.
            guard let pattern = Filter.likeText(value) else { return .constant(false) }
            return .like(column, pattern, negated: op == .notLike)
        case .startsWith:
            return .startsWith(column, value.stringValue ?? value.serialized())
        case .endsWith:
            return .endsWith(column, value.stringValue ?? value.serialized())
        case .empty:
            return .empty(column, negated: false)
        case .notEmpty:
            return .empty(column, negated: true)
        case .exists:
            return .isNull(column, negated: value != .bool(false))
        case .notExists:
            return .isNull(column, negated: value == .bool(false))
        case .isTruly:
            return .isTrue(column)  // the value is ignored (NocoBase boolean.ts)
        case .isFalsy:
            return .isFalsy(column)
        case .dateOn, .dateNotOn, .dateBefore, .dateAfter, .dateNotBefore, .dateNotAfter, .dateBetween:
            return try dateComparison(column, type: type, op: op, value: value)
        }
    }

    /// `IN` / `NOT IN`. A `null` member means the NULL value itself (`IS NULL`), not SQL's
    /// three-valued surprise where `NOT IN (1, NULL)` matches nothing; `NOT IN` always leaves NULL
    /// rows out (spec 02), so `$notIn: []` is `IS NOT NULL`.
    private func membership(_ column: Column, _ items: [JSON], type: FieldType, negated: Bool) -> Node {
        let values = items.filter { !$0.isNull }.map { stored($0, type: type) }
        let hasNull = items.contains { $0.isNull }
        if negated {
            return values.isEmpty ? .isNull(column, negated: true)
                : .and([.isNull(column, negated: true), .member(column, values, negated: true)])
        }
        switch (values.isEmpty, hasNull) {
        case (true, false): return .constant(false)
        case (true, true): return .isNull(column, negated: false)
        case (false, false): return .member(column, values, negated: false)
        case (false, true): return .or([.isNull(column, negated: false), .member(column, values, negated: false)])
        }
    }

    /// The date family over the stored text forms, which order like time: a `datetime` column is
    /// compared with bounds written as `YYYY-MM-DDTHH:MM:SS.sssZ`, a `date` column with day strings
    /// after the range is widened to whole UTC days (what `Filter.evaluate` does for a date-only
    /// value). A bound beyond the four-digit years cannot be written in that form, so it becomes
    /// the constant it is (every stored value is on its side of it).
    private func dateComparison(_ column: Column, type: FieldType, op: FilterOperator, value: JSON) throws(DomainError) -> Node {
        guard type == .date || type == .datetime else {
            throw .invalidParameter("filter", "\(op.rawValue) needs a date or datetime field")
        }
        guard var range = Filter.dateRange(op, value) else { throw .invalidParameter("filter", "\(op.rawValue) needs a date") }
        if type == .date { range = range.wholeDays }
        let bounds = Filter.DateBounds(op, range)
        func text(_ ms: Int64) -> SQLiteValue { .text(type == .date ? DateRange.dayText(ms) : DateRange.timestampText(ms)) }
        var tests: [Node] = []
        if let lower = bounds.lower {
            if lower >= DateRange.latest { tests.append(.constant(false)) }
            else if lower > DateRange.earliest { tests.append(.compare(column, .gte, text(lower))) }
        }
        if let upper = bounds.upper {
            if upper <= DateRange.earliest { tests.append(.constant(false)) }
            else if upper < DateRange.latest { tests.append(.compare(column, .lt, text(upper))) }
        }
        let present: Node = .isNull(column, negated: true)
        if bounds.inside { return .and([present] + (tests.isEmpty ? [.constant(true)] : tests)) }
        return .and([present, .not(tests.isEmpty ? .constant(true) : .and(tests))])
    }
}
