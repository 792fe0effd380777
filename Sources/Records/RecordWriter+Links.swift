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
        switch field.type {
        case .belongsToMany:
            if action == .set { try store.removeLinks(field, of: collection, owner: id) }
            for other in targets {
                switch action {
                case .add, .set: try store.addLink(field, of: collection, owner: id, target: other)
                case .remove: _ = try store.removeLink(field, of: collection, owner: id, target: other)
                case .toggle:
                    if try !store.removeLink(field, of: collection, owner: id, target: other) {
                        try store.addLink(field, of: collection, owner: id, target: other)
                    }
                }
            }
        case .hasMany:
            let fk = field.foreignKey!
            if action == .set { try store.clearForeignKey(target, column: fk, owner: id, updatedAt: now) }
            for other in targets {
                let linked = try store.exists(target, where: .id(other) && .column(fk, equals: id))
                let link = switch action { case .add, .set: true; case .remove: false; case .toggle: !linked }
                if link == linked && action != .set { continue }
                try store.setForeignKey(target, column: fk, of: other, to: link ? id : nil, updatedAt: now)
            }
        case .belongsTo, .hasOne:
            guard action == .set || action == .remove else {
                throw DomainError.badRequest("'\(field.name)' links one record: use set or remove")
            }
            guard action == .remove || targets.count == 1 else { throw DomainError.validation("filterByTk", "'\(field.name)' takes one record") }
            let other = action == .set ? targets[0] : nil
            if field.type == .belongsTo {
                try store.setForeignKey(collection, column: field.foreignKey!, of: id, to: other, updatedAt: now)
            } else {
                let fk = field.foreignKey!
                try store.clearForeignKey(target, column: fk, owner: id, updatedAt: now)
                if let other { try store.setForeignKey(target, column: fk, of: other, to: id, updatedAt: now) }
            }
        default:
            throw DomainError.badRequest("'\(field.name)' is not a relation")
        }
    }
}
