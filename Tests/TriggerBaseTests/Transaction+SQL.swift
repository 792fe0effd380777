@testable import Storage

/// Tests check rows with SQL: the SQLite connection under a transaction the database hands out.
/// Only tests may do this; the product reaches data through the stores.
extension Transaction {
    var sqlite: SQLiteConnection { self as! SQLiteConnection }

    @discardableResult
    func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> Int { try sqlite.run(sql, parameters) }
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [Row] { try sqlite.query(sql, parameters) }
    func execute(_ sql: String) throws { try sqlite.execute(sql) }
    var lastInsertRowID: Int64 { sqlite.lastInsertRowID }
}
