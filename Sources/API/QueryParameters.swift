import Foundation
import Model

/// The decoded query string of a request (`+` is a space, `%XX` escapes decoded; repeats kept).
/// `name[]=a&name[]=b`, as NocoBase's client sends arrays (qs `arrayFormat: 'brackets'`), is `name`
/// twice.
package struct QueryParameters: Sendable {
    private var values: [String: [String]] = [:]

    /// Splits on `&` and the first `=` by bytes (a `Character` split would break graphemes).
    package init(_ query: some StringProtocol) {
        let query = Substring(query)
        for part in query.utf8.split(separator: UInt8(ascii: "&")) {
            let part = Substring(part)
            let equals = part.utf8.firstIndex(of: UInt8(ascii: "="))
            var name = Self.decode(part[..<(equals ?? part.endIndex)])
            if name.hasSuffix("[]") { name.removeLast(2) }
            let value = equals.map { Self.decode(part[part.utf8.index(after: $0)...]) } ?? ""
            values[name, default: []].append(value)
        }
    }

    /// `+` becomes a space and `%XX` its byte; when an escape is malformed or the bytes are not
    /// UTF-8, only the `+` are replaced (as `removingPercentEncoding` returning nil). By bytes,
    /// with no copy for the usual parameter that has neither.
    package static func decode(_ text: some StringProtocol) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var valid = true
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let byte = utf8[i]
            i = utf8.index(after: i)
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard valid, i < utf8.endIndex, let high = hexValue(utf8[i]) else { valid = false; bytes.append(byte); continue }
                let next = utf8.index(after: i)
                guard next < utf8.endIndex, let low = hexValue(utf8[next]) else { valid = false; bytes.append(byte); continue }
                bytes.append(high << 4 | low)
                i = utf8.index(after: next)
            default: bytes.append(byte)
            }
        }
        if valid, let decoded = String(validating: bytes, as: UTF8.self) { return decoded }
        return String(text).replacingOccurrences(of: "+", with: " ")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    package subscript(_ name: String) -> String? { values[name]?.last }

    package func all(_ name: String) -> [String] { values[name] ?? [] }

    /// A comma list over every occurrence, trimmed, empty items dropped.
    package func list(_ name: String) -> [String] {
        all(name).flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A positive integer parameter, or a 400 `INVALID_PARAMETER` naming it.
    package func positiveInt(_ name: String) throws(DomainError) -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text), value >= 1, text.allSatisfy(\.isNumber) else {
            throw .invalidParameter(name, "must be a positive integer")
        }
        return value
    }

    /// `filterByTk` ids (repeated or comma-separated).
    package func primaryKeys() throws(DomainError) -> [Int64]? {
        let items = list("filterByTk")
        guard !all("filterByTk").isEmpty else { return nil }
        var ids: [Int64] = []
        for item in items {
            guard let id = PositiveID.parse(item) else { throw .invalidParameter("filterByTk", "'\(item)' is not an id") }
            ids.append(id)
        }
        guard !ids.isEmpty else { throw .invalidParameter("filterByTk", "empty") }
        return ids
    }
}
