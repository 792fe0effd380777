import JSON
import Model

/// Reads records of collections over one connection, inside the caller's transaction, and embeds
/// related records (`appends`). Every table and column name comes from the catalogue.
package struct RecordStore {
    package let connection: SQLiteConnection
    package let catalogue: Catalogue

    package init(connection: SQLiteConnection, catalogue: Catalogue) {
        self.connection = connection
        self.catalogue = catalogue
    }

    /// The JSON object of one row: `id`, declared fields, foreign keys, then the system fields.
    /// Hidden fields are never part of it.
    package func object(_ row: Row, collection: String) -> JSONObject {
        object(row, collection: collection, foreignColumns: catalogue.foreignColumns(collection).map(\.column))
    }

    private func object(_ row: Row, collection: String, foreignColumns: [String]) -> JSONObject {
        var object = JSONObject()
        guard let definition = catalogue.collection(collection) else { return object }
        object["id"] = RecordCodec.decode(row["id"] ?? .null, type: .integer)
        for field in definition.fields where !field.hidden {
            guard let column = field.column else { continue }
            object[column] = RecordCodec.decode(row[column] ?? .null, type: field.type == .belongsTo ? .integer : field.type)
        }
        if definition.workflowDefinition != nil {
            for (column, type) in CollectionDefinition.workflowColumns {
                object[column] = RecordCodec.decode(row[column] ?? .null, type: type)
            }
        }
        for column in foreignColumns {
            object[column] = RecordCodec.decode(row[column] ?? .null, type: .integer)
        }
        for column in ["createdAt", "updatedAt", "createdById", "updatedById"] {
            guard let value = row[column] else { continue }  // executions and jobs have no createdBy
            object[column] = RecordCodec.decode(value, type: column.hasSuffix("At") ? .datetime : .integer)
        }
        return object
    }

    /// Records of `collection` (aliased `t0`) matching `condition`.
    package func select(_ collection: String, where condition: String = "1", parameters: [SQLiteValue] = [],
                orderBy: String = "t0.\"id\"", limit: Int? = nil, offset: Int = 0) throws -> [JSONObject] {
        var sql = "SELECT t0.* FROM \(Name.quoted(collection)) t0 WHERE \(condition) ORDER BY \(orderBy)"
        var parameters = parameters
        if let limit {
            sql += " LIMIT ? OFFSET ?"
            parameters += [.integer(Int64(limit)), .integer(Int64(offset))]
        }
        let foreign = catalogue.foreignColumns(collection).map(\.column)
        return try connection.query(sql, parameters).map { object($0, collection: collection, foreignColumns: foreign) }
    }

    package func count(_ collection: String, where condition: String = "1", parameters: [SQLiteValue] = []) throws -> Int {
        let rows = try connection.query("SELECT count(*) FROM \(Name.quoted(collection)) t0 WHERE \(condition)", parameters)
        return rows.first?[0].int ?? 0
    }

    /// The records `ids` (in id order), chunked, with bound parameters so statements are reused.
    package func records(_ collection: String, ids: [Int64]) throws -> [JSONObject] {
        var result: [JSONObject] = []
        for chunk in ids.chunked(500) where !chunk.isEmpty {
            let condition = chunk.count == 1 ? "t0.\"id\" = ?" : "t0.\"id\" IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))"
            result += try select(collection, where: condition, parameters: chunk.map { .integer($0) })
        }
        return result
    }

    package func record(_ collection: String, id: Int64) throws -> JSONObject? {
        try select(collection, where: "t0.\"id\" = ?", parameters: [.integer(id)]).first
    }

    package func exists(_ collection: String, id: Int64) throws -> Bool {
        try !connection.query("SELECT 1 FROM \(Name.quoted(collection)) WHERE \"id\" = ?", [.integer(id)]).isEmpty
    }

    /// Checks `appends` paths: every segment must be a relation (spec 02: 400 naming `appends`).
    package static func validateAppends(_ paths: [[String]], collection: String, catalogue: Catalogue, parameter: String = "appends") throws(DomainError) {
        for path in paths {
            var current = collection
            for segment in path {
                guard let field = catalogue.collection(current)?.field(segment), field.type.isRelation, !field.hidden,
                      let target = field.target else {
                    throw .invalidParameter(parameter, "'\(path.joined(separator: "."))' is not a relation")
                }
                current = target
            }
        }
    }

    /// Embeds the related records named by `paths` (already validated) into `records`.
    package func embed(_ records: inout [JSONObject], collection: String, paths: [[String]]) throws {
        guard !records.isEmpty, let definition = catalogue.collection(collection) else { return }
        var byRelation: [(String, [[String]])] = []
        for path in paths where !path.isEmpty {
            if let i = byRelation.firstIndex(where: { $0.0 == path[0] }) {
                if path.count > 1 { byRelation[i].1.append(Array(path.dropFirst())) }
            } else {
                byRelation.append((path[0], path.count > 1 ? [Array(path.dropFirst())] : []))
            }
        }
        let ids = records.compactMap { $0["id"]?.intValue }
        for (name, nested) in byRelation {
            guard let field = definition.field(name), let target = field.target else { continue }
            switch field.type {
            case .belongsTo:
                let fk = field.foreignKey!
                let keys = Array(Set(records.compactMap { $0[fk]?.intValue }))
                var related = try fetch(target, column: "id", in: keys)
                try embed(&related, collection: target, paths: nested)
                let byID = Dictionary(related.map { ($0["id"]!.intValue!, $0) }, uniquingKeysWith: { a, _ in a })
                for i in records.indices {
                    records[i][name] = records[i][fk]?.intValue.flatMap { byID[$0] }.map(JSON.object) ?? .null
                }
            case .hasOne, .hasMany:
                let fk = field.foreignKey!
                var related = try fetch(target, column: fk, in: ids)
                try embed(&related, collection: target, paths: nested)
                var grouped: [Int64: [JSON]] = [:]
                for item in related { if let owner = item[fk]?.intValue { grouped[owner, default: []].append(.object(item)) } }
                for i in records.indices {
                    let items = records[i]["id"]?.intValue.flatMap { grouped[$0] } ?? []
                    records[i][name] = field.type == .hasOne ? (items.first ?? .null) : .array(items)
                }
            default:
                let through = field.through!, (a, b) = Catalogue.joinColumns(of: field, in: collection)
                var pairs: [(Int64, Int64)] = []
                for chunk in ids.chunked(500) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    let rows = try connection.query("SELECT \(Name.quoted(a)), \(Name.quoted(b)) FROM \(Name.quoted(through)) WHERE \(Name.quoted(a)) IN (\(marks)) ORDER BY \"id\"", chunk.map { .integer($0) })
                    pairs += rows.compactMap { row in row[0].int64.flatMap { x in row[1].int64.map { (x, $0) } } }
                }
                var related = try fetch(target, column: "id", in: Array(Set(pairs.map(\.1))))
                try embed(&related, collection: target, paths: nested)
                let byID = Dictionary(related.map { ($0["id"]!.intValue!, $0) }, uniquingKeysWith: { a, _ in a })
                var grouped: [Int64: [JSON]] = [:]
                for (owner, other) in pairs { if let item = byID[other] { grouped[owner, default: []].append(.object(item)) } }
                for i in records.indices { records[i][name] = .array(records[i]["id"]?.intValue.flatMap { grouped[$0] } ?? []) }
            }
        }
    }

    private func fetch(_ collection: String, column: String, in keys: [Int64]) throws -> [JSONObject] {
        var result: [JSONObject] = []
        for chunk in keys.chunked(500) where !chunk.isEmpty {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            result += try select(collection, where: "t0.\(Name.quoted(column)) IN (\(marks))", parameters: chunk.map { .integer($0) })
        }
        return result
    }
}

extension RecordStore {
    /// `sort=-createdAt,title` → ORDER BY, each name checked against the collection's columns.
    package static func orderBy(_ items: [String], collection: String, catalogue: Catalogue) throws(DomainError) -> String {
        let columns = Set(catalogue.allColumns(collection))
        let hidden = Set(catalogue.collection(collection)?.fields.filter(\.hidden).map(\.name) ?? [])
        var parts: [String] = []
        for item in items {
            let descending = item.hasPrefix("-")
            let name = descending ? String(item.dropFirst()) : item
            guard columns.contains(name), !hidden.contains(name) else { throw DomainError.invalidParameter("sort", "unknown field '\(name)'") }
            // NULLs last in both directions, as NocoBase's options-parser.ts asks of SQLite and PostgreSQL.
            parts.append("t0.\(Name.quoted(name)) \(descending ? "DESC" : "ASC") NULLS LAST")
        }
        parts.append("t0.\"id\" ASC")
        return parts.joined(separator: ", ")
    }
}

extension Array {
    package func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
