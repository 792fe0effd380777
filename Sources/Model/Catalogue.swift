import JSON

/// The collections known to the server: an immutable snapshot, replaced whole when a collection
/// or field is added. Every name that reaches SQL is looked up here first (STYLE habit 11).
package struct Catalogue: Sendable {
    package private(set) var collections: [String: CollectionDefinition] = [:]
    /// Collection names in creation order.
    package private(set) var order: [String] = []
    /// `foreignColumns` of every collection, computed once per catalogue (it is read for every record).
    private var foreign: [String: [(column: String, source: String)]] = [:]

    package func collection(_ name: some StringProtocol) -> CollectionDefinition? { collections[String(name)] }

    /// The catalogue of an empty database: only the built-in collections.
    package static var base: Catalogue {
        var catalogue = Catalogue()
        for definition in CollectionDefinition.builtIn {
            catalogue.collections[definition.name] = definition
            catalogue.order.append(definition.name)
        }
        return catalogue
    }

    /// Collections defined by users (what `collections:list` shows).
    package var userDefined: [String] { order.filter { collections[$0]?.isBuiltIn == false } }

    /// A copy with `definitions` added (or, for an existing name, its new fields appended), with
    /// relation defaults filled and every relation target checked. Definitions may refer to each other.
    package func adding(_ definitions: [CollectionDefinition]) throws(DomainError) -> Catalogue {
        var next = self
        for definition in definitions {
            if var existing = next.collections[definition.name] {
                for field in definition.fields where existing.field(field.name) == nil { existing.fields.append(field) }
                if existing.workflowDefinition == nil { existing.workflowDefinition = definition.workflowDefinition }
                next.collections[definition.name] = existing
            } else {
                next.collections[definition.name] = definition
                next.order.append(definition.name)
            }
        }
        for name in next.order {
            guard var definition = next.collections[name] else { continue }
            for index in definition.fields.indices {
                var field = definition.fields[index]
                guard field.type.isRelation else { continue }
                guard let target = field.target, next.collections[target] != nil else {
                    throw .validation("\(name).\(field.name)", "relation '\(field.name)' targets unknown collection '\(field.target ?? "")'")
                }
                switch field.type {
                case .belongsTo: if field.foreignKey == nil { field.foreignKey = field.name + "Id" }
                case .hasOne, .hasMany: if field.foreignKey == nil { field.foreignKey = Self.defaultForeignKey(of: name) }
                case .belongsToMany:
                    // Its join table has one `joinColumns` column per side, which would be the same
                    // column twice (found by schemathesis: a 500 from SQLite).
                    guard target != name else {
                        throw .validation("\(name).\(field.name)", "a belongsToMany to its own collection is not supported")
                    }
                    if field.through == nil { field.through = name + "_" + target }
                default: break
                }
                definition.fields[index] = field
            }
            next.collections[name] = definition
        }
        // A foreign key column must not collide with a declared field of another kind.
        for name in next.order {
            let columns = next.ownColumns(name)
            if Set(columns).count != columns.count {
                throw .validation(name, "collection '\(name)' declares a column twice")
            }
        }
        next.foreign = [:]
        for name in next.order { next.foreign[name] = next.computeForeignColumns(name) }
        return next
    }

    /// The two columns of a belongsToMany join table: `source` points at `collection`, `target`
    /// at `field.target` (`posts.tags` → `postId`, `tagId`).
    ///
    /// The names are stored in existing databases, so the rule must not change: it is the naive
    /// singular (`categories` → `categorieId`), not English.
    package static func joinColumns(of field: FieldDefinition, in collection: String) -> (source: String, target: String) {
        (idColumn(collection), idColumn(field.target ?? ""))
    }

    /// The foreign key a hasOne / hasMany of `collection` puts on its target when the definition
    /// names none (`posts.comments` → `comments.postId`); stored, so the same naive rule as
    /// `joinColumns`.
    package static func defaultForeignKey(of collection: String) -> String { idColumn(collection) }

    /// `posts` → `postId`: drop one trailing `s`, add `Id`.
    private static func idColumn(_ collection: String) -> String {
        let singular = collection.count > 1 && collection.hasSuffix("s") ? String(collection.dropLast()) : collection
        return singular + "Id"
    }

    /// Columns declared by the collection itself: system columns, scalars and belongsTo keys.
    package func ownColumns(_ name: String) -> [String] {
        guard let definition = collections[name] else { return [] }
        return CollectionDefinition.systemColumns + definition.fields.compactMap(\.column)
            + (definition.workflowDefinition == nil ? [] : CollectionDefinition.workflowColumns.map(\.name))
    }

    /// Foreign-key columns that other collections' hasOne / hasMany put on `name`.
    package func foreignColumns(_ name: String) -> [(column: String, source: String)] {
        foreign[name] ?? computeForeignColumns(name)
    }

    private func computeForeignColumns(_ name: String) -> [(column: String, source: String)] {
        var result: [(String, String)] = []
        let own = Set(ownColumns(name))
        for source in order {
            for field in collections[source]?.fields ?? [] where (field.type == .hasOne || field.type == .hasMany) && field.target == name {
                if let fk = field.foreignKey, !own.contains(fk), !result.contains(where: { $0.0 == fk }) { result.append((fk, source)) }
            }
        }
        return result
    }

    /// Every column of the collection's table.
    package func allColumns(_ name: String) -> [String] { ownColumns(name) + foreignColumns(name).map(\.column) }

    /// The catalogue as JSON (stored in the `collections` table, one row per collection).
    package func definitionJSON(_ name: String) -> JSON? { collections[name]?.json }
}
