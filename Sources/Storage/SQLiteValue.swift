/// One SQLite value, in the five storage classes SQLite knows (sqlite.org/datatype3.html).
///
/// Integer columns read as `Int64`, floating-point as `Double`, text as `String` (UTF-8), blobs as
/// bytes. Values are always bound as parameters, never spliced into SQL (STYLE habit 11).
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue {
    /// Whether this is SQL `NULL`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The integer, or `nil` for any other storage class.
    public var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The integer as `Int`, or `nil` for any other storage class.
    public var int: Int? { int64.map { Int($0) } }

    /// The number as `Double`: a real as is, an integer converted; `nil` otherwise.
    public var double: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }

    /// The text, or `nil` for any other storage class.
    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The blob's bytes, or `nil` for any other storage class.
    public var bytes: [UInt8]? {
        if case .blob(let value) = self { return value }
        return nil
    }
}

/// Literals for parameters and expectations: `[42, 2.5, "title"]`.
extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
}
