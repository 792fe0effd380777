/// Operators of the filter language (spec 02: Filters).
public enum FilterOperator: String, Sendable, CaseIterable {
    case eq = "$eq", ne = "$ne", gt = "$gt", gte = "$gte", lt = "$lt", lte = "$lte"
    case `in` = "$in", notIn = "$notIn", includes = "$includes", notIncludes = "$notIncludes"
    case startsWith = "$startsWith", endsWith = "$endsWith", empty = "$empty", notEmpty = "$notEmpty"
    case exists = "$exists", notExists = "$notExists"
}

/// Why a filter is malformed.
public struct FilterError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A parsed filter: NocoBase's shape (`$and`, `$or`, field → operator → value).
public indirect enum Filter: Sendable, Equatable {
    case and([Filter])
    case or([Filter])
    case condition(path: [String], op: FilterOperator, value: JSON)

    /// Parses filter JSON. `{}` is an empty `$and`; several keys in one object are AND-ed; a bare
    /// value means `$eq`; a non-operator key inside a field object continues the path.
    public static func parse(_ json: JSON, depth: Int = 0) throws(FilterError) -> Filter {
        guard depth < 32 else { throw FilterError("filter nested too deeply") }
        guard case .object(let object) = json else { throw FilterError("a filter must be an object") }
        var parts: [Filter] = []
        for (key, value) in object {
            if key == "$and" || key == "$or" {
                guard case .array(let items) = value else { throw FilterError("\(key) needs an array") }
                var children: [Filter] = []
                for item in items { children.append(try parse(item, depth: depth + 1)) }
                parts.append(key == "$and" ? .and(children) : .or(children))
            } else if key.hasPrefix("$") && !key.contains(".") {
                throw FilterError("unknown operator \(key)")
            } else {
                try conditions(path: key.utf8.split(separator: UInt8(ascii: ".")).map { String(Substring($0)) }, value: value, depth: depth, into: &parts)
            }
        }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    private static func conditions(path: [String], value: JSON, depth: Int, into parts: inout [Filter]) throws(FilterError) {
        guard depth < 32 else { throw FilterError("filter nested too deeply") }
        guard case .object(let object) = value, !object.isEmpty else {
            parts.append(.condition(path: path, op: .eq, value: value))
            return
        }
        for (key, inner) in object {
            if key.hasPrefix("$") {
                guard let op = FilterOperator(rawValue: key) else { throw FilterError("unknown operator \(key)") }
                try checkOperand(op, inner)
                parts.append(.condition(path: path, op: op, value: inner))
            } else {
                try conditions(path: path + key.utf8.split(separator: UInt8(ascii: ".")).map { String(Substring($0)) }, value: inner, depth: depth + 1, into: &parts)
            }
        }
    }

    /// `$in` / `$notIn` take an array of values, every other operator one value: an object or an
    /// array where a value belongs is an error, not a filter that silently matches nothing (issue 13).
    private static func checkOperand(_ op: FilterOperator, _ operand: JSON) throws(FilterError) {
        if op == .in || op == .notIn {
            guard let items = operand.arrayValue else { throw FilterError("\(op.rawValue) needs an array") }
            guard items.allSatisfy(isScalar) else { throw FilterError("\(op.rawValue) needs an array of values, not of objects or arrays") }
        } else if !isScalar(operand) {
            throw FilterError("\(op.rawValue) needs a value (string, number, boolean or null), not an object or array")
        }
    }

    private static func isScalar(_ value: JSON) -> Bool {
        switch value {
        case .object, .array: false
        default: true
        }
    }

    /// Evaluates the filter in memory (workflow condition nodes); `resolve` gives a path's value.
    public func evaluate(_ resolve: ([String]) -> JSON?) -> Bool {
        switch self {
        case .and(let parts): return parts.allSatisfy { $0.evaluate(resolve) }
        case .or(let parts): return parts.contains { $0.evaluate(resolve) }
        case .condition(let path, let op, let expected):
            return Self.test(resolve(path) ?? .null, op, expected)
        }
    }

    static func compare(_ a: JSON, _ b: JSON) -> Int? {
        if let x = a.doubleValue, let y = b.doubleValue, a.boolValue == nil, b.boolValue == nil { return x < y ? -1 : (x > y ? 1 : 0) }
        if case .string(let x) = a, case .string(let y) = b { return x < y ? -1 : (x > y ? 1 : 0) }
        if case .bool(let x) = a, case .bool(let y) = b { return x == y ? 0 : (x ? 1 : -1) }
        return nil
    }

    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        if a.isNull || b.isNull { return a.isNull && b.isNull }
        return compare(a, b).map { $0 == 0 } ?? (a == b)
    }

    static func isEmpty(_ v: JSON) -> Bool {
        switch v {
        case .null: true
        case .string(let s): s.isEmpty
        case .array(let a): a.isEmpty
        default: false
        }
    }

    static func test(_ actual: JSON, _ op: FilterOperator, _ expected: JSON) -> Bool {
        switch op {
        case .eq: return equal(actual, expected)
        case .ne: return !equal(actual, expected)
        case .gt: return compare(actual, expected).map { $0 > 0 } ?? false
        case .gte: return compare(actual, expected).map { $0 >= 0 } ?? false
        case .lt: return compare(actual, expected).map { $0 < 0 } ?? false
        case .lte: return compare(actual, expected).map { $0 <= 0 } ?? false
        case .in: return expected.arrayValue?.contains { equal(actual, $0) } ?? false
        case .notIn: return !(expected.arrayValue?.contains { equal(actual, $0) } ?? false)
        case .includes, .notIncludes:
            var found = false
            if case .string(let s) = actual, case .string(let t) = expected { found = s.contains(t) }
            if case .array(let items) = actual { found = items.contains { equal($0, expected) } }
            return op == .includes ? found : !found
        case .startsWith:
            if case .string(let s) = actual, case .string(let t) = expected { return s.hasPrefix(t) }
            return false
        case .endsWith:
            if case .string(let s) = actual, case .string(let t) = expected { return s.hasSuffix(t) }
            return false
        case .empty: return isEmpty(actual)
        case .notEmpty: return !isEmpty(actual)
        case .exists: return expected == .bool(false) ? actual.isNull : !actual.isNull
        case .notExists: return expected == .bool(false) ? !actual.isNull : actual.isNull
        }
    }
}
