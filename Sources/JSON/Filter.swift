/// Operators of the filter language (spec 02: Filters; NocoBase `core/database/src/operators/`).
public enum FilterOperator: String, Sendable, CaseIterable {
    case eq = "$eq", ne = "$ne", gt = "$gt", gte = "$gte", lt = "$lt", lte = "$lte"
    case `in` = "$in", notIn = "$notIn", includes = "$includes", notIncludes = "$notIncludes"
    case like = "$like", notLike = "$notLike"
    case startsWith = "$startsWith", endsWith = "$endsWith", empty = "$empty", notEmpty = "$notEmpty"
    case exists = "$exists", notExists = "$notExists", isTruly = "$isTruly", isFalsy = "$isFalsy"
    case dateOn = "$dateOn", dateNotOn = "$dateNotOn", dateBefore = "$dateBefore", dateAfter = "$dateAfter"
    case dateNotBefore = "$dateNotBefore", dateNotAfter = "$dateNotAfter", dateBetween = "$dateBetween"

    /// The operator a filter key names, NocoBase's own spellings included (`$endWith`, from
    /// `operators/string.ts`, is our `$endsWith`).
    public init?(name: String) {
        if name == "$endWith" { self = .endsWith; return }
        self.init(rawValue: name)
    }

    /// The date family, which compares against a `DateRange`.
    public var isDate: Bool {
        switch self {
        case .dateOn, .dateNotOn, .dateBefore, .dateAfter, .dateNotBefore, .dateNotAfter, .dateBetween: true
        default: false
        }
    }
}

/// Why a filter is malformed.
public struct FilterError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A parsed filter: NocoBase's shape (`$and`, `$or`, field → operator → value).
///
/// Every operand is checked here, at parse time, so the SQL compiler and the in-memory evaluator
/// (workflow condition nodes) accept and reject exactly the same filters (spec 02: 400
/// `INVALID_PARAMETER` naming `filter`).
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
            try checkOperand(.eq, value, key: "$eq")
            parts.append(.condition(path: path, op: .eq, value: value))
            return
        }
        for (key, inner) in object {
            if key.hasPrefix("$") {
                guard let op = FilterOperator(name: key) else { throw FilterError("unknown operator \(key)") }
                try checkOperand(op, inner, key: key)
                parts.append(.condition(path: path, op: op, value: inner))
            } else {
                try conditions(path: path + key.utf8.split(separator: UInt8(ascii: ".")).map { String(Substring($0)) }, value: inner, depth: depth + 1, into: &parts)
            }
        }
    }

    /// The operand shapes each operator takes. An object where a value belongs
    /// (`{"views":{"$gt":{"a":1}}}`) is an error, not a filter that silently matches nothing.
    static func checkOperand(_ op: FilterOperator, _ value: JSON, key: String) throws(FilterError) {
        func isScalar(_ v: JSON) -> Bool {
            switch v {
            case .object, .array: false
            default: true
            }
        }
        switch op {
        case .eq, .ne:
            // An array means IN / NOT IN (NocoBase eq.ts, ne.ts).
            if let items = value.arrayValue {
                guard items.allSatisfy(isScalar) else { throw FilterError("\(key) needs a value or an array of values") }
            } else if !isScalar(value) {
                throw FilterError("\(key) needs a value or an array of values, not an object")
            }
        case .in, .notIn:
            guard let items = value.arrayValue else { throw FilterError("\(key) needs an array") }
            guard items.allSatisfy(isScalar) else { throw FilterError("\(key) needs an array of values") }
        case .includes, .notIncludes:
            // An array is any of (`$includes`) / none of (`$notIncludes`), as in NocoBase string.ts.
            if let items = value.arrayValue {
                guard items.allSatisfy({ isScalar($0) && !$0.isNull }) else { throw FilterError("\(key) needs a value or an array of values") }
            } else if !isScalar(value) {
                throw FilterError("\(key) needs a value or an array of values, not an object")
            }
        case .gt, .gte, .lt, .lte, .like, .notLike, .startsWith, .endsWith:
            guard isScalar(value) else { throw FilterError("\(key) needs a single value") }
        case .empty, .notEmpty, .exists, .notExists, .isTruly, .isFalsy:
            break  // the value is ignored, as in NocoBase (except `$exists: false`, spec 02)
        case .dateOn, .dateNotOn, .dateBefore, .dateAfter, .dateNotBefore, .dateNotAfter, .dateBetween:
            guard dateRange(op, value) != nil else {
                throw FilterError(op == .dateBetween
                    ? "\(key) needs a pair of dates [from, to], each YYYY, YYYY-MM, YYYY-MM-DD or an ISO date-time"
                    : "\(key) needs a date: YYYY, YYYY-MM, YYYY-MM-DD or an ISO date-time (Z or ±HH:MM)")
            }
        }
    }

    /// The range a date operator's operand denotes: one date value, or a pair `[a, b]` from the
    /// start of `a` to the end of `b`, both ends included (NocoBase `parseDateBetween` with its
    /// default `[]`). `$dateBetween` takes only the pair; the other date operators take either.
    public static func dateRange(_ op: FilterOperator, _ value: JSON) -> DateRange? {
        switch value {
        case .string(let text) where op != .dateBetween:
            return DateRange.parse(text)
        case .array(let pair) where pair.count == 2:
            guard let a = pair[0].stringValue.flatMap(DateRange.parse), let b = pair[1].stringValue.flatMap(DateRange.parse) else { return nil }
            return DateRange(start: a.start, end: b.end, unit: b.unit)
        default:
            return nil
        }
    }

    /// What a date operator asks of a value `v` against range `[s, e)` (NocoBase date.ts): a
    /// lower and an upper bound (nil: open), and whether `v` must be inside them or outside.
    /// NULL (or a value that is not a date) never matches, `$dateNotOn` included.
    public struct DateBounds: Sendable, Equatable {
        public var lower: Int64?
        public var upper: Int64?
        public var inside: Bool

        public init(_ op: FilterOperator, _ range: DateRange) {
            let (s, e) = (range.start, range.end)
            switch op {
            case .dateNotOn: (lower, upper, inside) = (s, e, false)    // v < s OR v >= e
            case .dateBefore: (lower, upper, inside) = (nil, s, true)  // v < s
            case .dateAfter: (lower, upper, inside) = (e, nil, true)   // v >= e: after the whole unit
            case .dateNotBefore: (lower, upper, inside) = (s, nil, true)
            case .dateNotAfter: (lower, upper, inside) = (nil, e, true)
            default: (lower, upper, inside) = (s, e, true)             // $dateOn, $dateBetween
            }
        }

        /// Whether the instant `v` (milliseconds) satisfies the bounds.
        public func contains(_ v: Int64) -> Bool {
            let within = (lower.map { v >= $0 } ?? true) && (upper.map { v < $0 } ?? true)
            return within == inside
        }
    }
}
