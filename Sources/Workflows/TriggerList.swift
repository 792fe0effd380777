/// The syntax of `triggerWorkflows=key[!path],...` alone, with no catalogue: kept apart from
/// `TriggerWorkflowsParameter` so that the fuzzer (`bench/fuzz/`) can compile it on its own.
package struct TriggerListItem: Sendable, Equatable {
    package var key: String
    /// Relation names, split on `.` and trimmed; empty for the record itself.
    package var path: [String]
    /// The path as written after `!` (trimmed), for error messages; nil when there is no `!`.
    package var pathText: String?

    /// Splits on `,`, then each item at its first `!`; trims spaces and skips empty items. Keys
    /// may be empty (`!path`) and duplicates are kept, in order: `TriggerWorkflowsParameter` decides what they mean.
    /// Splitting is on bytes, not `Character`s: a combining or prepending scalar next to a `,`
    /// (say U+0602) would otherwise hide the comma inside one grapheme (found by bench/fuzz).
    package static func split(_ text: String) -> [TriggerListItem] {
        var items: [TriggerListItem] = []
        for raw in splitBytes(text[...], on: ",") {
            let part = trimmed(raw)
            if part.isEmpty { continue }
            guard let bang = part.utf8.firstIndex(of: UInt8(ascii: "!")) else {
                items.append(TriggerListItem(key: part, path: [], pathText: nil))
                continue
            }
            let key = trimmed(part[..<bang])
            let pathText = trimmed(part[part.utf8.index(after: bang)...])
            let path = splitBytes(pathText[...], on: ".").map(trimmed)
            items.append(TriggerListItem(key: key, path: path, pathText: pathText))
        }
        return items
    }

    /// `text` without leading and trailing whitespace as `CharacterSet.whitespaces` has it (tab,
    /// the space separators, and U+200B), by scalars: no bridging through `NSString`.
    private static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        let blank = { (scalar: Unicode.Scalar) in scalar == "\t" || scalar == "\u{200B}" || scalar.properties.generalCategory == .spaceSeparator }
        guard let first = scalars.firstIndex(where: { !blank($0) }), let last = scalars.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[first...last])
    }

    /// `text` split at every `separator` byte, empty pieces kept.
    private static func splitBytes(_ text: Substring, on separator: Unicode.Scalar) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: separator), omittingEmptySubsequences: false).map { Substring($0) }
    }
}
