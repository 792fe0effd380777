import JSON
import Model
import Records
import Storage

/// The storage nodes — `create`, `update`, `query`, `destroy` (spec 04: Nodes) — over the write
/// job's record store. Their writes go straight to storage: they fire no post-action trigger.
package struct NodeStorage {
    package let store: any RecordStore
    package var catalogue: Catalogue { store.catalogue }

    package init(store: any RecordStore) { self.store = store }

    /// The nodes over `connection`'s records of `catalogue`.
    package init(connection: any Transaction, catalogue: Catalogue) {
        self.init(store: connection.records(catalogue))
    }

    package enum Result {
        case done(JSON)
        /// The node ran and says the execution fails (`query` with `failOnEmpty`).
        case failed(String)
    }

    /// Runs a node whose config templates are already rendered. Bad configs and values throw
    /// `DomainError` (the job ends `error`).
    package func run(_ type: String, _ config: JSONObject) throws -> Result {
        guard let collection = config["collection"]?.stringValue, catalogue.collection(collection)?.isBuiltIn == false else {
            throw DomainError.validation("collection", "unknown collection '\(config["collection"]?.stringValue ?? "")'")
        }
        var writer = RecordWriter(store: store, actorID: nil)
        switch type {
        case "create":
            let (_, record, relations) = try writer.createRecord(collection, config["values"] ?? .object([:]))
            var records = [record]
            try writer.store.embed(&records, collection: collection, paths: relations.map { [$0] })
            return .done(.object(records[0]))
        case "update":
            let ids = try matching(collection, config["filter"])
            _ = try writer.update(collection, ids: ids, values: config["values"] ?? .object([:]))
            return .done(.int(Int64(ids.count)))
        case "destroy":
            let ids = try matching(collection, config["filter"])
            return .done(.int(Int64(try writer.destroy(collection, ids: ids))))
        default:
            return try query(collection, config)
        }
    }

    private func query(_ collection: String, _ config: JSONObject) throws -> Result {
        var compiler = FilterCompiler(catalogue: catalogue)
        var condition = RecordCondition.always
        if let filter = config["filter"], filter != .object([:]), !filter.isNull {
            condition = try compiler.compile(FilterCompiler.parse(filter), collection: collection)
        }
        let sort: [String] = config["sort"]?.arrayValue?.compactMap(\.stringValue)
            ?? config["sort"]?.stringValue.map { $0.split(separator: ",").map(String.init) } ?? []
        let order = try RecordOrder.sort(sort, collection: collection, catalogue: catalogue)
        let appends = (config["appends"]?.arrayValue ?? []).compactMap(\.stringValue).map { $0.split(separator: ".").map(String.init) }
        try catalogue.validateAppends(appends, collection: collection)
        let multiple = config["multiple"]?.boolValue ?? false
        let limit = multiple ? Int(min(max(config["limit"]?.intValue ?? 1000, 1), 10_000)) : 1
        var records = try store.select(collection, where: condition, orderBy: order, limit: limit)
        try store.embed(&records, collection: collection, paths: appends)
        if records.isEmpty && config["failOnEmpty"]?.boolValue == true { return .failed("no \(collection) record matches") }
        if multiple { return .done(.array(records.map(JSON.object))) }
        return .done(records.first.map(JSON.object) ?? .null)
    }

    /// Ids of the records `filter` matches; update and destroy refuse to run without a filter.
    private func matching(_ collection: String, _ filter: JSON?) throws -> [Int64] {
        guard let filter, filter != .object([:]), !filter.isNull else {
            throw DomainError.validation("filter", "a filter is required (an empty one would match every record)")
        }
        var compiler = FilterCompiler(catalogue: catalogue)
        return try store.ids(collection, where: compiler.compile(FilterCompiler.parse(filter), collection: collection))
    }
}
