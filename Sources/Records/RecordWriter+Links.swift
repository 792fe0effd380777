import JSON
import Model
import Storage

/// The link actions of a relation (NocoBase's relation repositories: `hasmany-repository.ts`,
/// `belongs-to-many-repository.ts`, `single-relation-repository.ts`).
package enum LinkAction: String, Sendable {
    case add, set, remove, toggle
}

extension RecordWriter {
    /// Links or unlinks `targets` on relation `field` of record `id` of `collection`. Every target
    /// must exist (400 naming `filterByTk` otherwise; NocoBase skips them silently).
    ///
    /// - to-many: `add` links, `set` links exactly these, `remove` unlinks, `toggle` (belongsToMany
    ///   and hasMany) flips each one. A hasMany unlink empties the target's foreign key; the
    ///   target record stays.
    /// - to-one (belongsTo, hasOne): `set` links the one target, `remove` unlinks whatever is linked;
    ///   `add` and `toggle` are 400.
    package mutating func link(_ action: LinkAction, field: FieldDefinition, of collection: String, id: Int64, targets: [Int64]) throws {
        let target = field.target!
        for other in targets where try !store.exists(target, id: other) {
            throw DomainError.validation("filterByTk", "\(target) \(other) does not exist")
        }
        let q = Name.quoted
        switch field.type {
        case .belongsToMany:
            let through = field.through!, (a, b) = Catalogue.joinColumns(of: field, in: collection)
            let insert = "INSERT OR IGNORE INTO \(q(through)) (\(q(a)), \(q(b))) VALUES (?, ?)"
            let delete = "DELETE FROM \(q(through)) WHERE \(q(a)) = ? AND \(q(b)) = ?"
            if action == .set { try connection.run("DELETE FROM \(q(through)) WHERE \(q(a)) = ?", [.integer(id)]) }
            for other in targets {
                let pair: [SQLiteValue] = [.integer(id), .integer(other)]
                switch action {
                case .add, .set: try connection.run(insert, pair)
                case .remove: try connection.run(delete, pair)
                case .toggle: if try connection.run(delete, pair) == 0 { try connection.run(insert, pair) }
                }
            }
        case .hasMany:
            let fk = q(field.foreignKey!)
            if action == .set {
                try connection.run("UPDATE \(q(target)) SET \(fk) = NULL, \"updatedAt\" = ? WHERE \(fk) = ?", [.text(now), .integer(id)])
            }
            for other in targets {
                let linked = try connection.query("SELECT 1 FROM \(q(target)) WHERE \"id\" = ? AND \(fk) = ?", [.integer(other), .integer(id)]).isEmpty == false
                let link = switch action { case .add, .set: true; case .remove: false; case .toggle: !linked }
                if link == linked && action != .set { continue }
                try connection.run("UPDATE \(q(target)) SET \(fk) = ?, \"updatedAt\" = ? WHERE \"id\" = ?",
                                   [link ? .integer(id) : .null, .text(now), .integer(other)])
            }
        case .belongsTo, .hasOne:
            guard action == .set || action == .remove else {
                throw DomainError.badRequest("'\(field.name)' links one record: use set or remove")
            }
            guard action == .remove || targets.count == 1 else { throw DomainError.validation("filterByTk", "'\(field.name)' takes one record") }
            let value: SQLiteValue = action == .set ? .integer(targets[0]) : .null
            if field.type == .belongsTo {
                try connection.run("UPDATE \(q(collection)) SET \(q(field.foreignKey!)) = ?, \"updatedAt\" = ? WHERE \"id\" = ?",
                                   [value, .text(now), .integer(id)])
            } else {
                let fk = q(field.foreignKey!)
                try connection.run("UPDATE \(q(target)) SET \(fk) = NULL, \"updatedAt\" = ? WHERE \(fk) = ?", [.text(now), .integer(id)])
                if case .integer(let other) = value {
                    try connection.run("UPDATE \(q(target)) SET \(fk) = ?, \"updatedAt\" = ? WHERE \"id\" = ?", [.integer(id), .text(now), .integer(other)])
                }
            }
        default:
            throw DomainError.badRequest("'\(field.name)' is not a relation")
        }
    }
}
