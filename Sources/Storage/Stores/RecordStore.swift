import JSON
import Model

/// A value as a column holds it: what `RecordCodec.value` makes of a field's JSON and what record
/// writes store. Backend-neutral: every SQL backend binds these four kinds.
package enum ColumnValue: Sendable, Equatable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// The records of collections, read and written inside the caller's transaction (the writer's
/// savepoint for a request, or a read). Every table and column name comes from the catalogue;
/// which records is a `RecordCondition`. Records are JSON objects: `id`, the declared fields,
/// foreign keys, then the system fields; hidden fields are never part of them.
///
/// The write side stores what it is given: checking values, required fields, defaults, nested
/// relations and mapping constraint errors to `DomainError` is `RecordWriter`'s (Records).
/// Constraint failures surface as `StorageError` with `constraint` set.
package protocol RecordStore {
    /// The transaction this store works in: to reach the other stores within the same write.
    var transaction: any Transaction { get }

    /// The catalogue the records are read with.
    var catalogue: Catalogue { get }

    // MARK: Reads

    /// Records of `collection` matching `condition`, in `order`; at most `page.limit` of them
    /// after the first `page.offset` when a page is given.
    func select(_ collection: String, where condition: RecordCondition, orderBy order: RecordOrder,
                page: (limit: Int, offset: Int)?) throws -> [JSONObject]
    /// How many records of `collection` match `condition`.
    func count(_ collection: String, where condition: RecordCondition) throws -> Int
    /// The ids of the records matching `condition`, ascending, at most `limit`.
    func ids(_ collection: String, where condition: RecordCondition, limit: Int?) throws -> [Int64]
    /// The records `ids` (in id order; missing ones are not there).
    func records(_ collection: String, ids: [Int64]) throws -> [JSONObject]
    /// Whether record `id` of `collection` exists.
    func exists(_ collection: String, id: Int64) throws -> Bool
    /// Whether any record of `collection` matches `condition`.
    func exists(_ collection: String, where condition: RecordCondition) throws -> Bool
    /// The records of `collection` whose integer column `column` is one of `keys` (in id order):
    /// what embedding a relation fetches.
    func records(_ collection: String, whereColumn column: String, in keys: [Int64]) throws -> [JSONObject]
    /// The (owner, target) id pairs of belongsToMany `field` of `collection` for the owners
    /// `owners`, in the order they were linked.
    func linkPairs(_ field: FieldDefinition, of collection: String, owners: [Int64]) throws -> [(owner: Int64, target: Int64)]
    /// The ids reached from records `ids` of `collection` by its relation `field` (each once, in
    /// the order the relation stores them).
    func relatedIDs(_ field: FieldDefinition, of collection: String, from ids: [Int64]) throws -> [Int64]
    /// The initial state of the latest published version of record workflow `definition`, or nil
    /// when none is published (what a new record of a bound collection starts in).
    func publishedInitialState(ofRecordWorkflow definition: String) throws -> String?

    // MARK: Writes

    /// Inserts one record with `values` (columns and stored values); returns its id.
    func insert(_ collection: String, values: [(column: String, value: ColumnValue)]) throws -> Int64
    /// Record `id` as reading it right after `insert(collection, values:)` returned `id` would
    /// answer, built from those values without a read; nil when the table fills columns of its
    /// own (a record workflow's defaults), so the caller reads it.
    func insertedRecord(_ collection: String, id: Int64, values: [(column: String, value: ColumnValue)]) -> JSONObject?
    /// Sets `values` on record `id`; `raisingWorkflowVersion` also adds 1 to its `workflowVersion`.
    func update(_ collection: String, id: Int64, values: [(column: String, value: ColumnValue)],
                raisingWorkflowVersion: Bool) throws
    /// Deletes the records `ids`; returns how many there were.
    func delete(_ collection: String, ids: [Int64]) throws -> Int
    /// Sets foreign key `column` of record `id` to `owner` (nil: unlinks it) and its `updatedAt`.
    func setForeignKey(_ collection: String, column: String, of id: Int64, to owner: Int64?, updatedAt: String) throws
    /// Empties foreign key `column` of every record of `collection` that points at `owner`, and
    /// sets their `updatedAt` when given.
    func clearForeignKey(_ collection: String, column: String, owner: Int64, updatedAt: String?) throws
    /// Links `target` to `owner` in belongsToMany `field` of `collection` (kept if linked already).
    func addLink(_ field: FieldDefinition, of collection: String, owner: Int64, target: Int64) throws
    /// Unlinks `target` from `owner`; returns whether they were linked.
    func removeLink(_ field: FieldDefinition, of collection: String, owner: Int64, target: Int64) throws -> Bool
    /// Unlinks every target from `owner`.
    func removeLinks(_ field: FieldDefinition, of collection: String, owner: Int64) throws
}

extension RecordStore {
    /// Records of `collection` matching `condition` (every record by default), by id unless told.
    package func select(_ collection: String, where condition: RecordCondition = .always, orderBy order: RecordOrder = .id,
                        limit: Int? = nil, offset: Int = 0) throws -> [JSONObject] {
        try select(collection, where: condition, orderBy: order, page: limit.map { ($0, offset) })
    }

    package func count(_ collection: String) throws -> Int { try count(collection, where: .always) }

    package func ids(_ collection: String, where condition: RecordCondition) throws -> [Int64] {
        try ids(collection, where: condition, limit: nil)
    }

    /// Record `id` of `collection`, or nil.
    package func record(_ collection: String, id: Int64) throws -> JSONObject? {
        try select(collection, where: .id(id)).first
    }

    /// Embeds the related records named by `paths` (already validated, `Catalogue.validateAppends`)
    /// into `records` of `collection`: a belongsTo or hasOne as an object or null, a to-many as
    /// an array.
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
                var related = try self.records(target, whereColumn: "id", in: keys)
                try embed(&related, collection: target, paths: nested)
                let byID = Dictionary(related.map { ($0["id"]!.intValue!, $0) }, uniquingKeysWith: { a, _ in a })
                for i in records.indices {
                    records[i][name] = records[i][fk]?.intValue.flatMap { byID[$0] }.map(JSON.object) ?? .null
                }
            case .hasOne, .hasMany:
                let fk = field.foreignKey!
                var related = try self.records(target, whereColumn: fk, in: ids)
                try embed(&related, collection: target, paths: nested)
                var grouped: [Int64: [JSON]] = [:]
                for item in related { if let owner = item[fk]?.intValue { grouped[owner, default: []].append(.object(item)) } }
                for i in records.indices {
                    let items = records[i]["id"]?.intValue.flatMap { grouped[$0] } ?? []
                    records[i][name] = field.type == .hasOne ? (items.first ?? .null) : .array(items)
                }
            default:
                let pairs = try linkPairs(field, of: collection, owners: ids)
                var related = try self.records(target, whereColumn: "id", in: Array(Set(pairs.map(\.target))))
                try embed(&related, collection: target, paths: nested)
                let byID = Dictionary(related.map { ($0["id"]!.intValue!, $0) }, uniquingKeysWith: { a, _ in a })
                var grouped: [Int64: [JSON]] = [:]
                for (owner, other) in pairs { if let item = byID[other] { grouped[owner, default: []].append(.object(item)) } }
                for i in records.indices { records[i][name] = .array(records[i]["id"]?.intValue.flatMap { grouped[$0] } ?? []) }
            }
        }
    }
}

extension Array {
    package func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
