import JSON
import Model

/// What differs between SQL backends in the SQL TriggerBase *builds* (filters, ORDER BY, DDL,
/// record writes): every such statement is written through one of these, never as SQLite text.
/// The fixed statements of the stores (`Sources/Storage/SQLStores/`) are SQL that SQLite and
/// PostgreSQL both run, with `?` placeholders (a PostgreSQL session numbers them).
///
/// `SQLiteDialect` and `PostgresDialect` are the two; where they differ, PostgreSQL's is written
/// to select what SQLite selects (ASCII-only case folding for `$includes` and `$like`, values
/// compared as text), so a filter means one thing on both.
package protocol SQLDialect: Sendable {
    // MARK: Names and values

    /// `name` as a quoted identifier.
    func quoted(_ name: String) -> String
    /// The placeholder of the `index`th (1-based) parameter of a statement.
    func placeholder(_ index: Int) -> String
    /// A condition that is always (`true`) or never met.
    func constant(_ value: Bool) -> String
    /// The ORDER BY key that lists a table's rows in the order they were inserted, for tables
    /// without an `id` (the catalogue's `collections`).
    var insertionOrder: String { get }

    // MARK: Filter operators (spec 02)

    /// `$includes` / `$notIncludes` of one item: `column` contains `text` as a literal substring,
    /// ignoring case; the negation leaves NULL rows out.
    func contains(_ column: String, _ text: String, negated: Bool, _ sql: inout SQLBuilder) -> String
    /// `$like` / `$notLike`: the client's own pattern, wildcards and all (Sequelize's `Op.like`).
    func like(_ column: String, _ pattern: String, negated: Bool, _ sql: inout SQLBuilder) -> String
    /// `$startsWith`: `column` begins with `text` (exactly, case and all).
    func startsWith(_ column: String, _ text: String, _ sql: inout SQLBuilder) -> String
    /// `$endsWith`: `column` ends with `text`; every value ends with the empty text.
    func endsWith(_ column: String, _ text: String, _ sql: inout SQLBuilder) -> String
    /// `$empty` (NULL, the empty text, or the empty JSON array) or, negated, `$notEmpty`.
    func isEmpty(_ column: String, negated: Bool) -> String
    /// `$isTruly`: a boolean column holding true.
    func isTrue(_ column: String) -> String
    /// `$isFalsy`: a boolean column holding false or NULL.
    func isFalsy(_ column: String) -> String

    // MARK: Queries

    /// One ORDER BY key; NULLs last in both directions (NocoBase's options-parser.ts).
    func orderKey(_ column: String, descending: Bool) -> String
    /// The clause that pages a query: at most `limit` rows, after `offset` (placeholders, or nil).
    func limit(_ limit: String, offset: String?) -> String

    // MARK: Transactions

    /// The statement that opens the writer's batch transaction.
    var beginWrite: String { get }
    /// A statement that makes concurrent migrators of one database wait for each other, run
    /// first in each migration's transaction; nil when `beginWrite` already does.
    var migrationLock: String? { get }
    /// What follows a claim's inner `SELECT` so that two processes never take the same rows and
    /// neither waits for the other's (`FOR UPDATE SKIP LOCKED`); empty where one writer at a time
    /// is all the database allows.
    var skippingLockedRows: String { get }
    /// A query answering 1 when this transaction may claim executions, 0 when another process is
    /// claiming (it must not wait: claims share the writer's transaction); nil where one process
    /// is all the database has.
    var claimLock: String? { get }

    // MARK: Writes

    /// INSERT of one row, for `SQLSession.insert`, which answers the new row's `id`.
    func insert(into table: String, columns: [String], values: [String]) -> String
    /// A statement run after a row was inserted with the explicit `id` bound to its one
    /// placeholder, so that ids assigned later never meet it; nil where the database sees to that.
    func advanceKeySequence(of table: String) -> String?
    /// INSERT of one row that does nothing when it would break a unique constraint (link tables).
    func insertIgnoringDuplicates(into table: String, columns: [String], values: [String]) -> String

    // MARK: DDL

    /// The column definition of a table's integer primary key `name`, assigned on insert.
    func primaryKey(_ name: String) -> String
    /// The column type that stores values of `type`; nil for relations, which store no column
    /// of their own (a belongsTo stores `foreignKeyType`).
    func columnType(_ type: FieldType) -> String?
    /// The column type of a foreign key (an `id`).
    var foreignKeyType: String { get }
    /// The literal a `DEFAULT` clause gives a boolean column.
    func booleanLiteral(_ value: Bool) -> String
}

/// SQLite 3.35+ (RETURNING; 3.30 for NULLS LAST; 3.35 for DROP COLUMN).
package struct SQLiteDialect: SQLDialect {
    package init() {}

    package func quoted(_ name: String) -> String {
        // Names reaching here passed `Name.isValid` (no quote); doubling is for anything else. A
        // byte scan, not Foundation's string search: this runs for every column of every write.
        guard name.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + name + "\"" }
        return "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    package func placeholder(_ index: Int) -> String { "?" }

    package var insertionOrder: String { "rowid" }

    /// `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that upgrades to a
    /// write can hit `SQLITE_BUSY` that no busy timeout resolves (GRDB issue #1483).
    package var beginWrite: String { "BEGIN IMMEDIATE" }
    package var migrationLock: String? { nil }
    /// AUTOINCREMENT already continues above the largest id ever stored.
    package func advanceKeySequence(of table: String) -> String? { nil }
    package var skippingLockedRows: String { "" }
    package var claimLock: String? { nil }

    package func constant(_ value: Bool) -> String { value ? "1" : "0" }

    package func contains(_ column: String, _ text: String, negated: Bool, _ sql: inout SQLBuilder) -> String {
        // LIKE ignores ASCII case in SQLite; the ESCAPE clause is the one NocoBase forgets on SQLite.
        "\(column) \(negated ? "NOT LIKE" : "LIKE") \(sql.bind(.text(LikePattern.containing(text)))) ESCAPE '\\'"
    }

    package func like(_ column: String, _ pattern: String, negated: Bool, _ sql: inout SQLBuilder) -> String {
        "\(column) \(negated ? "NOT LIKE" : "LIKE") \(sql.bind(.text(pattern)))"
    }

    package func startsWith(_ column: String, _ text: String, _ sql: inout SQLBuilder) -> String {
        let length = sql.bind(.text(text)), prefix = sql.bind(.text(text))
        return "substr(\(column), 1, length(\(length))) = \(prefix)"
    }

    package func endsWith(_ column: String, _ text: String, _ sql: inout SQLBuilder) -> String {
        let empty = sql.bind(.text(text)), length = sql.bind(.text(text)), suffix = sql.bind(.text(text))
        return "(length(\(empty)) = 0 OR substr(\(column), -length(\(length))) = \(suffix))"
    }

    package func isEmpty(_ column: String, negated: Bool) -> String {
        negated ? "(\(column) IS NOT NULL AND \(column) <> '' AND \(column) <> '[]')"
            : "(\(column) IS NULL OR \(column) = '' OR \(column) = '[]')"
    }

    package func isTrue(_ column: String) -> String { "\(column) = 1" }

    package func isFalsy(_ column: String) -> String { "(\(column) IS NULL OR \(column) = 0)" }

    package func orderKey(_ column: String, descending: Bool) -> String {
        "\(column) \(descending ? "DESC" : "ASC") NULLS LAST"
    }

    package func limit(_ limit: String, offset: String?) -> String {
        offset.map { "LIMIT \(limit) OFFSET \($0)" } ?? "LIMIT \(limit)"
    }

    package func insert(into table: String, columns: [String], values: [String]) -> String {
        "INSERT INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
    }

    package func insertIgnoringDuplicates(into table: String, columns: [String], values: [String]) -> String {
        "INSERT OR IGNORE INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
    }

    package func primaryKey(_ name: String) -> String { "\(quoted(name)) INTEGER PRIMARY KEY AUTOINCREMENT" }

    package func columnType(_ type: FieldType) -> String? {
        switch type {
        case .string, .text, .date, .datetime, .json: "TEXT"
        case .integer, .boolean: "INTEGER"
        case .double: "REAL"
        case .belongsTo: foreignKeyType
        case .hasOne, .hasMany, .belongsToMany: nil
        }
    }

    package var foreignKeyType: String { "INTEGER" }

    package func booleanLiteral(_ value: Bool) -> String { value ? "1" : "0" }
}

/// One statement being built: its parameters, bound in the order their placeholders appear in
/// the text, and the dialect that writes the placeholders.
package struct SQLBuilder {
    package let dialect: any SQLDialect
    package private(set) var parameters: [SQLiteValue] = []

    package init(_ dialect: any SQLDialect) { self.dialect = dialect }

    /// Adds `value` as the next parameter; returns its placeholder.
    package mutating func bind(_ value: SQLiteValue) -> String {
        parameters.append(value)
        return dialect.placeholder(parameters.count)
    }

    /// Placeholders for `values`, comma-separated.
    package mutating func bind(list values: [SQLiteValue]) -> String {
        values.map { bind($0) }.joined(separator: ", ")
    }

    package func quoted(_ name: String) -> String { dialect.quoted(name) }
}
