import Model

/// Turns collection definitions into DDL (spec 02: real tables, columns, foreign keys, indexes),
/// written through a dialect. Only names already checked by `Name.isValid` and the catalogue
/// reach these statements.
package struct SchemaBuilder {
    package let dialect: any SQLDialect

    package init(dialect: any SQLDialect = SQLiteDialect()) { self.dialect = dialect }

    /// Statements that take the database from `old` to `new` (tables, added columns, join tables, indexes).
    ///
    /// A table is created before anything references it, as PostgreSQL requires: a belongsTo
    /// column whose target comes later in `new` is added once its target exists, and join tables
    /// come after every table.
    package func statements(from old: Catalogue, to new: Catalogue) -> [String] {
        var sql: [String] = [], later: [String] = []
        let q = dialect.quoted
        var created = Set(old.order)
        for name in new.order {
            guard let definition = new.collection(name) else { continue }
            created.insert(name)
            func isForwardReference(_ field: FieldDefinition) -> Bool {
                old.collection(name)?.field(field.name) == nil && field.type == .belongsTo && !created.contains(field.target ?? name)
            }
            if old.collection(name) == nil {
                var columns = [
                    dialect.primaryKey("id"),
                    "\(q("createdAt")) \(dialect.columnType(.datetime)!) NOT NULL",
                    "\(q("updatedAt")) \(dialect.columnType(.datetime)!) NOT NULL",
                    "\(q("createdById")) \(dialect.foreignKeyType)",
                    "\(q("updatedById")) \(dialect.foreignKeyType)",
                ]
                for field in definition.fields where !isForwardReference(field) {
                    if let column = columnDefinition(field) { columns.append(column) }
                }
                for field in definition.fields where isForwardReference(field) {
                    later.append("ALTER TABLE \(q(name)) ADD COLUMN \(columnDefinition(field)!)")
                }
                if definition.workflowDefinition != nil { columns += workflowColumns }
                sql.append("CREATE TABLE \(q(name)) (\(columns.joined(separator: ", ")))")
            } else {
                if definition.workflowDefinition != nil && old.collection(name)?.workflowDefinition == nil {
                    sql += workflowColumns.map { "ALTER TABLE \(q(name)) ADD COLUMN \($0)" }
                }
                let oldFields = Set(old.collection(name)?.fields.map(\.name) ?? [])
                for field in definition.fields where !oldFields.contains(field.name) {
                    if let column = columnDefinition(field) {
                        let statement = "ALTER TABLE \(q(name)) ADD COLUMN \(column)"
                        if isForwardReference(field) { later.append(statement) } else { sql.append(statement) }
                    }
                }
            }
            for field in definition.fields where old.collection(name)?.field(field.name) == nil {
                if let column = field.column {
                    if field.unique {
                        sql.append(createIndex("ux_\(name)_\(column)", on: name, column: column, unique: true))
                    } else if field.index || field.type == .belongsTo {
                        let statement = createIndex("ix_\(name)_\(column)", on: name, column: column, unique: false)
                        if isForwardReference(field) { later.append(statement) } else { sql.append(statement) }
                    }
                }
                if field.type == .belongsToMany, let through = field.through, let target = field.target, new.collection(through) == nil {
                    let (a, b) = Catalogue.joinColumns(of: field, in: name)
                    let key = dialect.foreignKeyType
                    later.append("""
                        CREATE TABLE IF NOT EXISTS \(q(through)) (\(dialect.primaryKey("id")), \
                        \(q(a)) \(key) NOT NULL REFERENCES \(q(name))(\(q("id"))) ON DELETE CASCADE, \
                        \(q(b)) \(key) NOT NULL REFERENCES \(q(target))(\(q("id"))) ON DELETE CASCADE, UNIQUE(\(q(a)), \(q(b))))
                        """)
                }
            }
        }
        sql += later
        // Foreign keys that hasOne / hasMany put on their targets.
        for name in new.order {
            let before = Set(old.collection(name) == nil ? [] : old.allColumns(name))
            for (column, source) in new.foreignColumns(name) where !before.contains(column) {
                let onDelete = new.collection(source)?.fields.first { $0.foreignKey == column && $0.target == name }?.onDelete ?? .setNull
                sql.append("ALTER TABLE \(q(name)) ADD COLUMN \(q(column)) \(dialect.foreignKeyType) REFERENCES \(q(source))(\(q("id"))) ON DELETE \(onDelete.rawValue)")
                sql.append(createIndex("ix_\(name)_\(column)", on: name, column: column, unique: false))
            }
        }
        return sql
    }

    /// workflowState, workflowVersion (raised by every write), published, publishedAt (spec 06).
    package var workflowColumns: [String] {
        let q = dialect.quoted
        return [
            "\(q("workflowState")) \(dialect.columnType(.string)!)",
            "\(q("workflowVersion")) \(dialect.columnType(.integer)!) NOT NULL DEFAULT 1",
            "\(q("published")) \(dialect.columnType(.boolean)!) NOT NULL DEFAULT \(dialect.booleanLiteral(false))",
            "\(q("publishedAt")) \(dialect.columnType(.datetime)!)",
        ]
    }

    /// Statements that drop collection `name`'s table and its join tables `joinTables`.
    package func dropStatements(_ name: String, joinTables: [String]) -> [String] {
        ([name] + joinTables).map { "DROP TABLE IF EXISTS \(dialect.quoted($0))" }
    }

    /// Statements that drop field `name` of `collection`: its indexes, then its column.
    package func dropFieldStatements(_ name: String, of collection: String) -> [String] {
        ["ux_", "ix_"].map { "DROP INDEX IF EXISTS \(dialect.quoted("\($0)\(collection)_\(name)"))" }
            + ["ALTER TABLE \(dialect.quoted(collection)) DROP COLUMN \(dialect.quoted(name))"]
    }

    private func createIndex(_ index: String, on table: String, column: String, unique: Bool) -> String {
        let q = dialect.quoted
        return "CREATE \(unique ? "UNIQUE " : "")INDEX IF NOT EXISTS \(q(index)) ON \(q(table))(\(q(column)))"
    }

    private func columnDefinition(_ field: FieldDefinition) -> String? {
        let name = dialect.quoted(field.column ?? field.name)
        guard let type = dialect.columnType(field.type) else { return nil }
        if field.type == .belongsTo {
            return "\(name) \(type) REFERENCES \(dialect.quoted(field.target!))(\(dialect.quoted("id"))) ON DELETE \(field.onDelete.rawValue)"
        }
        return "\(name) \(type)"
    }
}
