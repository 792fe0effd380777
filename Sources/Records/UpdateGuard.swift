import JSON

/// `whitelist` / `blacklist` of create and update (NocoBase's `database/src/update-guard.ts`):
/// comma lists (or `name[]` repeats) of top-level keys of the values to keep only, or to drop,
/// silently. A whitelist entry `category.title` keeps `category` (its first segment); what lies
/// inside a relation's values is not filtered. An empty list counts as absent (NocoBase would drop
/// every key). A role's field restriction is checked after this, and stays a 403 (spec 03).
package struct UpdateGuard: Sendable {
    package var whitelist: Set<String>?
    package var blacklist: Set<String>

    package init(whitelist: [String], blacklist: [String]) {
        let keep = whitelist.map { String($0.prefix { $0 != "." }) }
        self.whitelist = keep.isEmpty ? nil : Set(keep)
        self.blacklist = Set(blacklist)
    }

    /// `values` with the keys the lists exclude dropped (each item of an array of values).
    package func apply(to values: JSON) -> JSON {
        guard whitelist != nil || !blacklist.isEmpty else { return values }
        switch values {
        case .object(let object):
            var kept = JSONObject()
            for (key, value) in object where whitelist?.contains(key) ?? true && !blacklist.contains(key) { kept[key] = value }
            return .object(kept)
        case .array(let items):
            return .array(items.map(apply))
        default:
            return values
        }
    }
}
