/// The in-memory side of the filter language, for workflow condition nodes. It follows the SQL
/// that `FilterCompiler` emits over SQLite, operator by operator, so a condition node and a list
/// query agree on the same values (NocoBaseWireTests runs one table through both).
extension Filter {
    /// Evaluates the filter in memory; `resolve` gives a path's value.
    public func evaluate(_ resolve: ([String]) -> JSON?) -> Bool {
        switch self {
        case .and(let parts): return parts.allSatisfy { $0.evaluate(resolve) }
        case .or(let parts): return parts.contains { $0.evaluate(resolve) }
        case .condition(let path, let op, let expected):
            return Self.test(resolve(path) ?? .null, op, expected)
        }
    }

    /// A number for ordering; booleans count as 0 and 1, as SQLite stores them.
    private static func number(_ v: JSON) -> Double? {
        if case .bool(let b) = v { return b ? 1 : 0 }
        return v.doubleValue
    }

    static func compare(_ a: JSON, _ b: JSON) -> Int? {
        if case .bool(let x) = a, case .bool(let y) = b { return x == y ? 0 : (x ? 1 : -1) }
        if let x = number(a), let y = number(b) { return x < y ? -1 : (x > y ? 1 : 0) }
        if case .string(let x) = a, case .string(let y) = b { return x < y ? -1 : (x > y ? 1 : 0) }
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

    /// The text SQLite's `LIKE` sees for a value: numbers in decimal, booleans as 0 / 1 (their
    /// stored form), JSON as its serialized text; nil for NULL. The compiler binds `$like` and
    /// `$includes` operands through this too.
    public static func likeText(_ v: JSON) -> String? {
        switch v {
        case .null: nil
        case .string(let s): s
        case .bool(let b): b ? "1" : "0"
        case .int(let i): String(i)
        case .double(let d): String(d)
        default: v.serialized()
        }
    }

    /// `IN` with NULL members meaning the NULL value itself (see FilterCompiler.membership).
    private static func member(_ actual: JSON, _ items: [JSON]) -> Bool {
        items.contains { equal(actual, $0) }
    }

    static func test(_ actual: JSON, _ op: FilterOperator, _ expected: JSON) -> Bool {
        switch op {
        case .eq:
            if let items = expected.arrayValue { return member(actual, items) }
            return equal(actual, expected)
        case .ne:
            if let items = expected.arrayValue { return !actual.isNull && !member(actual, items) }
            return !equal(actual, expected)
        case .gt: return compare(actual, expected).map { $0 > 0 } ?? false
        case .gte: return compare(actual, expected).map { $0 >= 0 } ?? false
        case .lt: return compare(actual, expected).map { $0 < 0 } ?? false
        case .lte: return compare(actual, expected).map { $0 <= 0 } ?? false
        case .in: return member(actual, expected.arrayValue ?? [])
        case .notIn: return !actual.isNull && !member(actual, expected.arrayValue ?? [])
        case .includes, .notIncludes:
            if expected.isNull { return (op == .includes) == actual.isNull }
            let items = expected.arrayValue ?? [expected]
            let found: Bool
            if case .array(let elements) = actual {
                // An extra for context arrays: element equality (a json column is matched as text in SQL).
                found = items.contains { item in elements.contains { equal($0, item) } }
            } else {
                guard let text = likeText(actual) else { return false }
                found = items.contains { item in
                    LikePattern.matches(text, pattern: LikePattern.containing(likeText(item) ?? ""), escape: LikePattern.escape)
                }
            }
            return op == .includes ? found : !found
        case .like, .notLike:
            guard let text = likeText(actual), let pattern = likeText(expected) else { return false }
            return LikePattern.matches(text, pattern: pattern) == (op == .like)
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
        case .isTruly: return number(actual) == 1
        case .isFalsy: return actual.isNull || number(actual) == 0
        case .dateOn, .dateNotOn, .dateBefore, .dateAfter, .dateNotBefore, .dateNotAfter, .dateBetween:
            guard case .string(let text) = actual, let value = DateRange.parse(text),
                  var range = dateRange(op, expected) else { return false }
            // A date-only value is a `date` column's: compare by whole days, as the SQL does.
            if value.unit == .day, text.utf8.count == 10 { range = range.wholeDays }
            return DateBounds(op, range).contains(value.start)
        }
    }
}
