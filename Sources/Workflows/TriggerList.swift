import Foundation

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
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            guard let bang = part.utf8.firstIndex(of: UInt8(ascii: "!")) else {
                items.append(TriggerListItem(key: part, path: [], pathText: nil))
                continue
            }
            let key = part[..<bang].trimmingCharacters(in: .whitespaces)
            let pathText = part[part.utf8.index(after: bang)...].trimmingCharacters(in: .whitespaces)
            let path = splitBytes(pathText[...], on: ".").map { $0.trimmingCharacters(in: .whitespaces) }
            items.append(TriggerListItem(key: key, path: path, pathText: pathText))
        }
        return items
    }

    /// `text` split at every `separator` byte, empty pieces kept.
    private static func splitBytes(_ text: Substring, on separator: Unicode.Scalar) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: separator), omittingEmptySubsequences: false).map { Substring($0) }
    }
}
