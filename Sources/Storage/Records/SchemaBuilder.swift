import Model

/// Turns collection definitions into DDL (spec 02: real tables, columns, foreign keys, indexes).
/// Only names already checked by `Name.isValid` and the catalogue reach these strings.
package enum SchemaBuilder {
    /// Statements that take the database from `old` to `new` (tables, added columns, join tables, indexes).
    package static func statements(from old: Catalogue, to new: Catalogue) -> [String] {
        var sql: [String] = []
        for name in new.order {
            guard let definition = new.collection(name) else { continue }
            let q = Name.quoted
            if old.collection(name) == nil {
                var columns = [
                    "\(q("id")) INTEGER PRIMARY KEY AUTOINCREMENT",
                    "\(q("createdAt")) TEXT NOT NULL",
                    "\(q("updatedAt")) TEXT NOT NULL",
                    "\(q("createdById")) INTEGER",
                    "\(q("updatedById")) INTEGER",
                ]
                for field in definition.fields { if let column = columnDefinition(field) { columns.append(column) } }
                if definition.workflowDefinition != nil { columns += workflowColumns }
                sql.append("CREATE TABLE \(q(name)) (\(columns.joined(separator: ", ")))")
            } else {
                if definition.workflowDefinition != nil && old.collection(name)?.workflowDefinition == nil {
                    sql += workflowColumns.map { "ALTER TABLE \(q(name)) ADD COLUMN \($0)" }
                }
                let oldFields = Set(old.collection(name)?.fields.map(\.name) ?? [])
                for field in definition.fields where !oldFields.contains(field.name) {
                    if let column = columnDefinition(field) { sql.append("ALTER TABLE \(q(name)) ADD COLUMN \(column)") }
                }
            }
            for field in definition.fields where old.collection(name)?.field(field.name) == nil {
                if let column = field.column {
                    if field.unique {
                        sql.append("CREATE UNIQUE INDEX IF NOT EXISTS \(q("ux_\(name)_\(column)")) ON \(q(name))(\(q(column)))")
                    } else if field.index || field.type == .belongsTo {
                        sql.append("CREATE INDEX IF NOT EXISTS \(q("ix_\(name)_\(column)")) ON \(q(name))(\(q(column)))")
                    }
                }
                if field.type == .belongsToMany, let through = field.through, let target = field.target, new.collection(through) == nil {
                    let (a, b) = Catalogue.joinColumns(of: field, in: name)
                    sql.append("""
                        CREATE TABLE IF NOT EXISTS \(q(through)) (\(q("id")) INTEGER PRIMARY KEY AUTOINCREMENT, \
                        \(q(a)) INTEGER NOT NULL REFERENCES \(q(name))(\(q("id"))) ON DELETE CASCADE, \
                        \(q(b)) INTEGER NOT NULL REFERENCES \(q(target))(\(q("id"))) ON DELETE CASCADE, UNIQUE(\(q(a)), \(q(b))))
                        """)
                }
            }
        }
        // Foreign keys that hasOne / hasMany put on their targets.
        for name in new.order {
            let before = Set(old.collection(name) == nil ? [] : old.allColumns(name))
            for (column, source) in new.foreignColumns(name) where !before.contains(column) {
                let onDelete = new.collection(source)?.fields.first { $0.foreignKey == column && $0.target == name }?.onDelete ?? .setNull
                sql.append("ALTER TABLE \(Name.quoted(name)) ADD COLUMN \(Name.quoted(column)) INTEGER REFERENCES \(Name.quoted(source))(\"id\") ON DELETE \(onDelete.rawValue)")
                sql.append("CREATE INDEX IF NOT EXISTS \(Name.quoted("ix_\(name)_\(column)")) ON \(Name.quoted(name))(\(Name.quoted(column)))")
            }
        }
        return sql
    }

    /// workflowState, workflowVersion (raised by every write), published, publishedAt (spec 06).
    package static let workflowColumns = [
        "\"workflowState\" TEXT", "\"workflowVersion\" INTEGER NOT NULL DEFAULT 1",
        "\"published\" INTEGER NOT NULL DEFAULT 0", "\"publishedAt\" TEXT",
    ]

    private static func columnDefinition(_ field: FieldDefinition) -> String? {
        let name = Name.quoted(field.column ?? field.name)
        switch field.type {
        case .string, .text, .date, .datetime, .json: return "\(name) TEXT"
        case .integer, .boolean: return "\(name) INTEGER"
        case .double: return "\(name) REAL"
        case .belongsTo:
            return "\(name) INTEGER REFERENCES \(Name.quoted(field.target!))(\"id\") ON DELETE \(field.onDelete.rawValue)"
        case .hasOne, .hasMany, .belongsToMany: return nil
        }
    }
}
