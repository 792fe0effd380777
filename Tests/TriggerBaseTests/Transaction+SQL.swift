@testable import Storage

/// Tests check rows with SQL: the session under a transaction the database hands out, on either
/// backend (`RawSQL.portable` quotes camelCase names). Only tests may do this; the product reaches
/// data through the stores.
extension Transaction {
    private var session: any SQLSession { self as! any SQLSession }

    @discardableResult
    func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> Int { try session.run(RawSQL.portable(sql), parameters) }
    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [Row] { try session.query(RawSQL.portable(sql), parameters) }
    func execute(_ sql: String) throws { try session.execute(RawSQL.portable(sql)) }
}
