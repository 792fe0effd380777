/// One row of a query result: the statement's column names and this row's values, in order.
public struct Row: Sendable {
    /// Column names as SQLite reports them (`sqlite3_column_name`); the same array is shared by
    /// every row of one result.
    public let columns: [String]
    /// One value per column.
    public let values: [SQLiteValue]

    /// A row with `values` in the order of `columns` (the counts must match).
    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of the first column named `name` (case-sensitive), or `nil` if there is none.
    public subscript(_ name: String) -> SQLiteValue? {
        guard let index = columns.firstIndex(of: name) else { return nil }
        return values[index]
    }

    /// The value at `index`; traps when out of range, like an array.
    public subscript(_ index: Int) -> SQLiteValue { values[index] }
}
