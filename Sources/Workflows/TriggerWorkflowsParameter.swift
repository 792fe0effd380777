import Foundation
import Model

/// The `triggerWorkflows=key[!path],...` query parameter, parsed and checked before anything is
/// written (spec 04: Parsing `triggerWorkflows`).
package struct TriggerWorkflowsParameter: Sendable, Equatable {
    package struct Item: Sendable, Equatable {
        package var key: String
        /// Relation names from the request's collection; empty for the record itself.
        package var path: [String]
    }

    package var items: [Item] = []

    /// Splits on `,`, then each item at its first `!`; trims spaces, skips empty items, keeps the
    /// first of identical items; the same key with two paths is 400 `INVALID_TRIGGER`; every path
    /// must follow relations from `collection` (400 `INVALID_TRIGGER_PATH`).
    package init(_ text: String?, collection: String, catalogue: Catalogue) throws(DomainError) {
        guard let text else { return }
        for item in TriggerListItem.split(text) {
            let key = item.key
            let path = item.path
            if let pathText = item.pathText {
                try Self.check(path, text: pathText, collection: collection, catalogue: catalogue)
            }
            if key.isEmpty { continue }
            if let existing = items.first(where: { $0.key == key }) {
                guard existing.path == path else {
                    throw DomainError(.invalid, code: "INVALID_TRIGGER",
                                   message: "workflow '\(key)' is named twice with different paths", field: "triggerWorkflows")
                }
                continue
            }
            items.append(Item(key: key, path: path))
        }
    }

    private static func check(_ path: [String], text: String, collection: String, catalogue: Catalogue) throws(DomainError) {
        var current = collection
        for segment in path {
            guard let field = catalogue.collection(current)?.field(segment), field.type.isRelation, !field.hidden,
                  let target = field.target else {
                throw DomainError(.invalid, code: "INVALID_TRIGGER_PATH",
                               message: "path '\(text)': '\(segment)' is not a relation of '\(current)'",
                               field: "triggerWorkflows")
            }
            current = target
        }
    }
}
