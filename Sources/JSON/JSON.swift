/// A JSON value. Objects keep their keys in insertion order, so records serialize in column order.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public var isNull: Bool { self == .null }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer, also from a double with no fraction.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The member `key` of an object (nil for non-objects).
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Walks objects by key and arrays by numeric index.
    public subscript(path path: [String]) -> JSON? {
        var current: JSON? = self
        for segment in path {
            switch current {
            case .object(let o): current = o[segment]
            case .array(let a):
                guard let i = Int(segment), i >= 0, i < a.count else { return nil }
                current = a[i]
            default: return nil
            }
        }
        return current
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        var object = JSONObject()
        for (k, v) in elements { object[k] = v }
        self = .object(object)
    }
}

/// An insertion-ordered JSON object. Its entries are one array, searched in place while the
/// object is small (records and contexts have a handful of keys: comparing short strings is
/// cheaper than hashing them) and through a key index once it has more than `indexedCount` keys.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    private var entries: [(key: String, value: JSON)] = []
    /// Position of each key in `entries`, kept only above `indexedCount` keys.
    private var index: [String: Int]?
    private static let indexedCount = 16

    public init() {}

    public init(dictionaryLiteral elements: (String, JSON)...) {
        entries.reserveCapacity(elements.count)
        for (k, v) in elements { self[k] = v }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// Setting nil removes the key.
    public subscript(key: String) -> JSON? {
        get { position(of: key).map { entries[$0].value } }
        set {
            guard let newValue else { removeValue(forKey: key); return }
            if let position = position(of: key) {
                entries[position].value = newValue
                return
            }
            entries.append((key, newValue))
            if index != nil {
                index![key] = entries.count - 1
            } else if entries.count > Self.indexedCount {
                index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSON? {
        guard let position = position(of: key) else { return nil }
        let old = entries.remove(at: position).value
        if index != nil {
            index = entries.count > Self.indexedCount ? Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) }) : nil
        }
        return old
    }

    public struct Iterator: IteratorProtocol {
        fileprivate var base: IndexingIterator<[(key: String, value: JSON)]>
        public mutating func next() -> (key: String, value: JSON)? { base.next() }
    }

    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }

    /// Equal when they hold the same keys with equal values, in any order (as dictionaries).
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        return a.entries.allSatisfy { entry in b[entry.key] == entry.value }
    }

    /// Independent of key order, as `==` is.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for entry in entries {
            var one = Hasher()
            one.combine(entry.key)
            one.combine(entry.value)
            combined ^= one.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}
