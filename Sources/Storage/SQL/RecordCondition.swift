import JSON
import Model

/// Which records of a collection a read or write sees: the filter language compiled against the
/// catalogue (`FilterCompiler`), an action's scope (ids, an owner's foreign key, a link table,
/// `own`), or these combined with `&&`. Names are resolved and values typed when it is built, so
/// every error is met there; it holds no SQL: a record store writes it through its `SQLDialect`.
package struct RecordCondition: Sendable, Equatable {
    let node: Node

    init(_ node: Node) { self.node = node }

    /// Every record.
    package static let always = RecordCondition(.constant(true))
    /// No record.
    package static let never = RecordCondition(.constant(false))

    /// The record `id`; nil matches no record.
    package static func id(_ id: Int64?) -> RecordCondition { column("id", equals: id) }

    /// The records `ids` (none for an empty list).
    package static func ids(_ ids: [Int64]) -> RecordCondition {
        switch ids.count {
        case 0: .never
        case 1: id(ids[0])
        default: RecordCondition(.member(.root("id"), ids.map { .integer($0) }, negated: false))
        }
    }

    /// Records whose integer column `name` (an id, a foreign key) is `value`; nil matches no
    /// record (it is compared, not tested for NULL).
    package static func column(_ name: String, equals value: Int64?) -> RecordCondition {
        RecordCondition(.compare(.root(name), .eq, value.map { .integer($0) } ?? .null))
    }

    /// Records whose column `name` is (or is not) NULL.
    package static func column(_ name: String, isNull: Bool) -> RecordCondition {
        RecordCondition(.isNull(.root(name), negated: !isNull))
    }

    /// Records whose column for the scalar `field` holds `value` in its stored form; `null`
    /// matches NULL. A value of the wrong type is a validation error naming the field.
    package static func field(_ field: FieldDefinition, equals value: JSON) throws(DomainError) -> RecordCondition {
        let column = field.column ?? field.name
        if value.isNull { return RecordCondition(.isNull(.root(column), negated: false)) }
        return RecordCondition(.compare(.root(column), .eq, try RecordCodec.encode(value, for: field, path: field.name)))
    }

    /// spec 03's `own` scope: the records `userID` created; nil (an actor without a user) owns none.
    package static func createdBy(_ userID: Int64?) -> RecordCondition { column("createdById", equals: userID) }

    /// The records related to record `owner` of `collection` by its to-many or hasOne relation
    /// `field`: those whose foreign key is `owner`, or linked to it in the join table.
    package static func related(to owner: Int64, by field: FieldDefinition, in collection: String) -> RecordCondition {
        if field.type == .belongsToMany, let through = field.through {
            let (a, b) = Catalogue.joinColumns(of: field, in: collection)
            return RecordCondition(.inSubquery(.root("id"), select: .plain(b), from: through, alias: nil,
                                               where: .compare(.plain(a), .eq, .integer(owner))))
        }
        return column(field.foreignKey ?? "", equals: owner)
    }

    /// Records whose integer column `name` is one of `keys` (an embed's fetch).
    static func column(_ name: String, in keys: [Int64]) -> RecordCondition {
        RecordCondition(.member(.root(name), keys.map { .integer($0) }, negated: false))
    }

    /// Both conditions; `always` on either side is left out.
    package static func && (lhs: RecordCondition, rhs: RecordCondition) -> RecordCondition {
        if lhs.node == .constant(true) { return rhs }
        if rhs.node == .constant(true) { return lhs }
        return RecordCondition(.and([lhs.node, rhs.node]))
    }

    /// The SQL text and parameters of this condition in `dialect`, the collection's table being
    /// aliased `root` (for stores and tests; everything else hands the condition to a store).
    package func sql(_ dialect: any SQLDialect = SQLiteDialect(), root: String = "t0") -> (sql: String, parameters: [SQLiteValue]) {
        var builder = SQLBuilder(dialect)
        let text = render(&builder, root: root)
        return (text, builder.parameters)
    }

    /// Writes the condition into a statement being built.
    package func render(_ sql: inout SQLBuilder, root: String) -> String {
        node.render(&sql, root: root)
    }
}

extension RecordCondition {
    /// A column reference: of the collection's table (its alias is chosen by the store), of a
    /// subquery's alias, or unqualified (a join table's column inside its own subquery).
    struct Column: Sendable, Equatable {
        enum Table: Sendable, Equatable { case root, alias(String), none }
        var table: Table
        var name: String

        static func root(_ name: String) -> Column { Column(table: .root, name: name) }
        static func plain(_ name: String) -> Column { Column(table: .none, name: name) }

        func render(_ sql: SQLBuilder, root: String) -> String {
            switch table {
            case .root: "\(root).\(sql.quoted(name))"
            case .alias(let alias): "\(alias).\(sql.quoted(name))"
            case .none: sql.quoted(name)
            }
        }
    }

    enum Comparison: String, Sendable {
        case eq = "=", ne = "<>", gt = ">", gte = ">=", lt = "<", lte = "<="
    }

    indirect enum Node: Sendable, Equatable {
        case constant(Bool)
        case and([Node])
        case or([Node])
        /// NOT of the conjunction (or the one condition) inside.
        case not(Node)
        case isNull(Column, negated: Bool)
        case compare(Column, Comparison, SQLiteValue)
        case member(Column, [SQLiteValue], negated: Bool)
        case contains(Column, String, negated: Bool)
        case like(Column, String, negated: Bool)
        case startsWith(Column, String)
        case endsWith(Column, String)
        case empty(Column, negated: Bool)
        case isTrue(Column)
        case isFalsy(Column)
        /// `column IN (SELECT select FROM table [alias] WHERE condition)`.
        case inSubquery(Column, select: Column, from: String, alias: String?, where: Node)
        /// Transitional: SQLite text over `t0`.

        func render(_ sql: inout SQLBuilder, root: String) -> String {
            let dialect = sql.dialect
            switch self {
            case .constant(let value):
                return dialect.constant(value)
            case .and(let parts):
                if parts.isEmpty { return dialect.constant(true) }
                return "(" + parts.map { $0.render(&sql, root: root) }.joined(separator: " AND ") + ")"
            case .or(let parts):
                if parts.isEmpty { return dialect.constant(false) }
                return "(" + parts.map { $0.render(&sql, root: root) }.joined(separator: " OR ") + ")"
            case .not(let inner):
                if case .and(let parts) = inner, !parts.isEmpty {
                    return "NOT (" + parts.map { $0.render(&sql, root: root) }.joined(separator: " AND ") + ")"
                }
                return "NOT (" + inner.render(&sql, root: root) + ")"
            case .isNull(let column, let negated):
                return "\(column.render(sql, root: root)) \(negated ? "IS NOT NULL" : "IS NULL")"
            case .compare(let column, let op, let value):
                return "\(column.render(sql, root: root)) \(op.rawValue) \(sql.bind(value))"
            case .member(let column, let values, let negated):
                return "\(column.render(sql, root: root)) \(negated ? "NOT IN" : "IN") (\(sql.bind(list: values)))"
            case .contains(let column, let text, let negated):
                return dialect.contains(column.render(sql, root: root), text, negated: negated, &sql)
            case .like(let column, let pattern, let negated):
                return dialect.like(column.render(sql, root: root), pattern, negated: negated, &sql)
            case .startsWith(let column, let text):
                return dialect.startsWith(column.render(sql, root: root), text, &sql)
            case .endsWith(let column, let text):
                return dialect.endsWith(column.render(sql, root: root), text, &sql)
            case .empty(let column, let negated):
                return dialect.isEmpty(column.render(sql, root: root), negated: negated)
            case .isTrue(let column):
                return dialect.isTrue(column.render(sql, root: root))
            case .isFalsy(let column):
                return dialect.isFalsy(column.render(sql, root: root))
            case .inSubquery(let column, let select, let table, let alias, let condition):
                let outer = column.render(sql, root: root), inner = select.render(sql, root: root)
                let from = sql.quoted(table) + (alias.map { " " + $0 } ?? "")
                return "\(outer) IN (SELECT \(inner) FROM \(from) WHERE \(condition.render(&sql, root: root)))"
            }
        }
    }
}

/// The order of a record query: the `sort` keys, then `id` (ascending) to settle ties.
package struct RecordOrder: Sendable, Equatable {
    /// Columns of the collection, in order, each ascending or descending.
    package var keys: [(column: String, descending: Bool)]
    /// Whether the keys were given (`id ASC` is then written out as the last key).
    let sorted: Bool

    /// By `id` alone.
    package static let id = RecordOrder(keys: [], sorted: false)

    /// `sort=-createdAt,title`: each name checked against the collection's visible columns.
    package static func sort(_ items: [String], collection: String, catalogue: Catalogue) throws(DomainError) -> RecordOrder {
        let columns = Set(catalogue.allColumns(collection))
        let hidden = Set(catalogue.collection(collection)?.fields.filter(\.hidden).map(\.name) ?? [])
        var keys: [(column: String, descending: Bool)] = []
        for item in items {
            let descending = item.hasPrefix("-")
            let name = descending ? String(item.dropFirst()) : item
            guard columns.contains(name), !hidden.contains(name) else { throw DomainError.invalidParameter("sort", "unknown field '\(name)'") }
            keys.append((name, descending))
        }
        return RecordOrder(keys: keys, sorted: true)
    }

    package static func == (lhs: RecordOrder, rhs: RecordOrder) -> Bool {
        lhs.sorted == rhs.sorted && lhs.keys.elementsEqual(rhs.keys) { $0.column == $1.column && $0.descending == $1.descending }
    }

    /// The ORDER BY list in `dialect`, the table aliased `root`.
    package func sql(_ dialect: any SQLDialect = SQLiteDialect(), root: String = "t0") -> String {
        let id = "\(root).\(dialect.quoted("id"))"
        guard sorted else { return id }
        return (keys.map { dialect.orderKey("\(root).\(dialect.quoted($0.column))", descending: $0.descending) } + [id + " ASC"])
            .joined(separator: ", ")
    }
}

extension Catalogue {
    /// Checks `appends` paths: every segment must be a visible relation (spec 02: 400 naming
    /// `parameter`).
    package func validateAppends(_ paths: [[String]], collection: String, parameter: String = "appends") throws(DomainError) {
        for path in paths {
            var current = collection
            for segment in path {
                guard let field = self.collection(current)?.field(segment), field.type.isRelation, !field.hidden,
                      let target = field.target else {
                    throw .invalidParameter(parameter, "'\(path.joined(separator: "."))' is not a relation")
                }
                current = target
            }
        }
    }
}
