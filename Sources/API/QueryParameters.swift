import Foundation
import Model

/// The decoded query string of a request (`+` is a space, `%XX` escapes decoded; repeats kept).
/// `name[]=a&name[]=b`, as NocoBase's client sends arrays (qs `arrayFormat: 'brackets'`), is `name`
/// twice.
package struct QueryParameters: Sendable {
    private var values: [String: [String]] = [:]

    package init(_ query: some StringProtocol) {
        for part in query.split(separator: "&") where !part.isEmpty {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            var name = Self.decode(pieces[0])
            if name.hasSuffix("[]") { name.removeLast(2) }
            let value = pieces.count > 1 ? Self.decode(pieces[1]) : ""
            values[name, default: []].append(value)
        }
    }

    package static func decode(_ text: some StringProtocol) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
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
