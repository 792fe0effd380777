import JSON
import Model

/// `RecordStore` over one SQL session: every statement is built through the session's dialect.
struct SQLRecordStore<Session: SQLSession>: RecordStore {
    let connection: Session
    let catalogue: Catalogue
    var dialect: any SQLDialect { connection.dialect }

    var transaction: any Transaction { connection }

    private func q(_ name: String) -> String { dialect.quoted(name) }

    // MARK: Reads

    func select(_ collection: String, where condition: RecordCondition, orderBy order: RecordOrder,
                page: (limit: Int, offset: Int)?) throws -> [JSONObject] {
        var sql = SQLBuilder(dialect)
        var text = "SELECT t0.* FROM \(q(collection)) t0 WHERE \(condition.render(&sql, root: "t0")) ORDER BY \(order.sql(dialect, root: "t0"))"
        if let page {
            let limit = sql.bind(.integer(Int64(page.limit))), offset = sql.bind(.integer(Int64(page.offset)))
            text += " " + dialect.limit(limit, offset: offset)
        }
        let foreign = catalogue.foreignColumns(collection).map(\.column)
        return try connection.query(text, sql.parameters).map { object($0, collection: collection, foreignColumns: foreign) }
    }

    func count(_ collection: String, where condition: RecordCondition) throws -> Int {
        var sql = SQLBuilder(dialect)
        let text = "SELECT count(*) FROM \(q(collection)) t0 WHERE \(condition.render(&sql, root: "t0"))"
        return try connection.query(text, sql.parameters).first?[0].int ?? 0
    }

    func ids(_ collection: String, where condition: RecordCondition, limit: Int?) throws -> [Int64] {
        var sql = SQLBuilder(dialect)
        var text = "SELECT t0.\(q("id")) FROM \(q(collection)) t0 WHERE \(condition.render(&sql, root: "t0")) ORDER BY t0.\(q("id"))"
        if let limit { text += " " + dialect.limit(sql.bind(.integer(Int64(limit))), offset: nil) }
        return try connection.query(text, sql.parameters).compactMap { $0[0].int64 }
    }

    func records(_ collection: String, ids: [Int64]) throws -> [JSONObject] {
        if ids.count == 1 {  // a write reading back its record: one prepared text per table
            let text = connection.text(of: StatementShape(kind: .recordByID, table: collection)) {
                "SELECT t0.* FROM \(q(collection)) t0 WHERE t0.\(q("id")) = ?"
            }
            let foreign = catalogue.foreignColumns(collection).map(\.column)
            return try connection.query(text, [.integer(ids[0])]).map { object($0, collection: collection, foreignColumns: foreign) }
        }
        var result: [JSONObject] = []
        for chunk in ids.chunked(500) where !chunk.isEmpty {
            result += try select(collection, where: .ids(Array(chunk)))
        }
        return result
    }

    func exists(_ collection: String, id: Int64) throws -> Bool {
        let text = connection.text(of: StatementShape(kind: .existsByID, table: collection)) {
            "SELECT 1 FROM \(q(collection)) WHERE \(q("id")) = ?"
        }
        return try !connection.query(text, [.integer(id)]).isEmpty
    }

    func exists(_ collection: String, where condition: RecordCondition) throws -> Bool {
        var sql = SQLBuilder(dialect)
        let text = "SELECT 1 FROM \(q(collection)) t0 WHERE \(condition.render(&sql, root: "t0")) \(dialect.limit(sql.bind(.integer(1)), offset: nil))"
        return try !connection.query(text, sql.parameters).isEmpty
    }

    func records(_ collection: String, whereColumn column: String, in keys: [Int64]) throws -> [JSONObject] {
        var result: [JSONObject] = []
        for chunk in keys.chunked(500) where !chunk.isEmpty {
            result += try select(collection, where: .column(column, in: Array(chunk)))
        }
        return result
    }

    func linkPairs(_ field: FieldDefinition, of collection: String, owners: [Int64]) throws -> [(owner: Int64, target: Int64)] {
        let through = field.through!, (a, b) = Catalogue.joinColumns(of: field, in: collection)
        var pairs: [(owner: Int64, target: Int64)] = []
        for chunk in owners.chunked(500) where !chunk.isEmpty {
            var sql = SQLBuilder(dialect)
            let marks = sql.bind(list: chunk.map { .integer($0) })
            let rows = try connection.query("SELECT \(q(a)), \(q(b)) FROM \(q(through)) WHERE \(q(a)) IN (\(marks)) ORDER BY \(q("id"))", sql.parameters)
            pairs += rows.compactMap { row in row[0].int64.flatMap { x in row[1].int64.map { (x, $0) } } }
        }
        return pairs
    }

    func relatedIDs(_ field: FieldDefinition, of collection: String, from ids: [Int64]) throws -> [Int64] {
        guard !ids.isEmpty, let target = field.target else { return [] }
        var sql = SQLBuilder(dialect)
        let marks = sql.bind(list: ids.map { .integer($0) })
        let text: String
        switch field.type {
        case .belongsTo: text = "SELECT \(q(field.foreignKey!)) FROM \(q(collection)) WHERE \(q("id")) IN (\(marks)) ORDER BY \(q("id"))"
        case .hasOne, .hasMany: text = "SELECT \(q("id")) FROM \(q(target)) WHERE \(q(field.foreignKey!)) IN (\(marks)) ORDER BY \(q("id"))"
        default:
            let (a, b) = Catalogue.joinColumns(of: field, in: collection)
            text = "SELECT \(q(b)) FROM \(q(field.through!)) WHERE \(q(a)) IN (\(marks)) ORDER BY \(q("id"))"
        }
        var seen: Set<Int64> = []
        return try connection.query(text, sql.parameters).compactMap { $0[0].int64 }.filter { seen.insert($0).inserted }
    }

    func publishedInitialState(ofRecordWorkflow definition: String) throws -> String? {
        try connection.query("""
            SELECT "initialState" FROM "recordWorkflowDefinitions" WHERE "id" = ? AND "published" = 1 ORDER BY "major" DESC LIMIT 1
            """, [.text(definition)]).first?[0].string
    }

    // MARK: Writes

    func insert(_ collection: String, values: [(column: String, value: ColumnValue)]) throws -> Int64 {
        let columns = values.map(\.column)
        let text = connection.text(of: StatementShape(kind: .insert, table: collection, columns: columns)) {
            var sql = SQLBuilder(dialect)
            return dialect.insert(into: collection, columns: columns, values: values.map { sql.bind($0.value.sqlite) })
        }
        // SQLite reads the id from the connection: RETURNING would buffer the row in a temporary table.
        let id = try connection.insert(text, values.map(\.value.sqlite))
        if columns.contains("id"), let advance = dialect.advanceKeySequence(of: collection) {
            _ = try connection.query(advance, [.integer(id)])
        }
        return id
    }

    func insertedRecord(_ collection: String, id: Int64, values: [(column: String, value: ColumnValue)]) -> JSONObject? {
        // Every column is stored as it was bound (RecordCodec encodes each type as its column
        // stores it) and an unnamed one is NULL, but for the DEFAULTs of record-workflow columns.
        guard let definition = catalogue.collection(collection), definition.workflowDefinition == nil else { return nil }
        let row = Row(columns: ["id"] + values.map(\.column), values: [.integer(id)] + values.map(\.value.sqlite))
        return object(row, collection: collection, foreignColumns: catalogue.foreignColumns(collection).map(\.column))
    }

    func update(_ collection: String, id: Int64, values: [(column: String, value: ColumnValue)], raisingWorkflowVersion: Bool) throws {
        var sql = SQLBuilder(dialect)
        var sets = values.map { "\(q($0.column)) = \(sql.bind($0.value.sqlite))" }
        if raisingWorkflowVersion { sets.append("\(q("workflowVersion")) = \(q("workflowVersion")) + 1") }
        let text = "UPDATE \(q(collection)) SET \(sets.joined(separator: ", ")) WHERE \(q("id")) = \(sql.bind(.integer(id)))"
        try connection.run(text, sql.parameters)
    }

    func delete(_ collection: String, ids: [Int64]) throws -> Int {
        var count = 0
        for chunk in ids.chunked(500) where !chunk.isEmpty {
            var sql = SQLBuilder(dialect)
            let marks = sql.bind(list: chunk.map { .integer($0) })
            count += try connection.run("DELETE FROM \(q(collection)) WHERE \(q("id")) IN (\(marks))", sql.parameters)
        }
        return count
    }

    func setForeignKey(_ collection: String, column: String, of id: Int64, to owner: Int64?, updatedAt: String) throws {
        try connection.run("UPDATE \(q(collection)) SET \(q(column)) = ?, \(q("updatedAt")) = ? WHERE \(q("id")) = ?",
                           [owner.map { .integer($0) } ?? .null, .text(updatedAt), .integer(id)])
    }

    func clearForeignKey(_ collection: String, column: String, owner: Int64, updatedAt: String?) throws {
        if let updatedAt {
            try connection.run("UPDATE \(q(collection)) SET \(q(column)) = NULL, \(q("updatedAt")) = ? WHERE \(q(column)) = ?",
                               [.text(updatedAt), .integer(owner)])
        } else {
            try connection.run("UPDATE \(q(collection)) SET \(q(column)) = NULL WHERE \(q(column)) = ?", [.integer(owner)])
        }
    }

    func addLink(_ field: FieldDefinition, of collection: String, owner: Int64, target: Int64) throws {
        let (a, b) = Catalogue.joinColumns(of: field, in: collection)
        try connection.run(dialect.insertIgnoringDuplicates(into: field.through!, columns: [a, b], values: ["?", "?"]),
                           [.integer(owner), .integer(target)])
    }

    func removeLink(_ field: FieldDefinition, of collection: String, owner: Int64, target: Int64) throws -> Bool {
        let (a, b) = Catalogue.joinColumns(of: field, in: collection)
        return try connection.run("DELETE FROM \(q(field.through!)) WHERE \(q(a)) = ? AND \(q(b)) = ?", [.integer(owner), .integer(target)]) > 0
    }

    func removeLinks(_ field: FieldDefinition, of collection: String, owner: Int64) throws {
        let (a, _) = Catalogue.joinColumns(of: field, in: collection)
        try connection.run("DELETE FROM \(q(field.through!)) WHERE \(q(a)) = ?", [.integer(owner)])
    }

    // MARK: Rows

    /// The JSON object of one row: `id`, declared fields, foreign keys, then the system fields.
    /// Hidden fields are never part of it.
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
}

extension ColumnValue {
    var sqlite: SQLiteValue {
        switch self {
        case .null: .null
        case .integer(let i): .integer(i)
        case .real(let d): .real(d)
        case .text(let s): .text(s)
        }
    }
}

extension SQLSession {
    /// The records of `catalogue`'s collections in this transaction.
    package func records(_ catalogue: Catalogue) -> any RecordStore {
        SQLRecordStore(connection: self, catalogue: catalogue)
    }
}
