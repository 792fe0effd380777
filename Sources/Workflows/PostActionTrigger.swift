import Auth
import JSON
import Model
import Storage

/// What one request fired (spec 04): every execution id, in the order they run, the sync ones to
/// run after the commit, and each named key that did not fire with why.
package struct FiredWorkflows: Sendable {
    package var executionIDs: [Int64] = []
    package var syncExecutionIDs: [Int64] = []
    package var ignored: [(key: String, reason: String)] = []

    package init(executionIDs: [Int64] = [], syncExecutionIDs: [Int64] = [], ignored: [(key: String, reason: String)] = []) {
        self.executionIDs = executionIDs
        self.syncExecutionIDs = syncExecutionIDs
        self.ignored = ignored
    }

    /// `X-Workflow-Executions` and `X-Workflows-Ignored` (keys outside `[A-Za-z0-9_-]` percent-encoded).
    package var headers: [(String, String)] {
        var headers: [(String, String)] = []
        if !executionIDs.isEmpty { headers.append(("X-Workflow-Executions", executionIDs.map(String.init).joined(separator: ","))) }
        if !ignored.isEmpty {
            headers.append(("X-Workflows-Ignored", ignored.map { "\(Self.headerSafe($0.key))=\($0.reason)" }.joined(separator: ",")))
        }
        return headers
    }

    package static func headerSafe(_ key: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in key.utf8 {
            if Name.isKeyByte(byte) { bytes.append(byte) } else { bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The post-action trigger inside a write job (spec 04): matches named and global workflows
/// against what the job wrote, reads each subject as committed (with the version's `appends`,
/// hidden fields left out); `WorkflowRuntime.insert` then writes one execution row per subject in
/// the job's own transaction, so the write and its executions commit together or not at all.
package struct PostActionTrigger {
    package let index: WorkflowRegistry.Index
    package let store: RecordStore
    package let actor: Actor
    /// Records the job has just read, as stored (no relations embedded), so subjects need no second read.
    package var stored: (collection: String, records: [Int64: JSONObject])?

    package init(index: WorkflowRegistry.Index, store: RecordStore, actor: Actor, stored: (collection: String, records: [Int64: JSONObject])? = nil) {
        self.index = index
        self.store = store
        self.actor = actor
        self.stored = stored
    }

    /// An execution to insert: the version and the subject.
    package struct Run { var version: WorkflowVersion; var subject: JSONObject }

    /// Which runs an action fires. `affected` are the request's own records (`ids` of
    /// `collection`); `nested` are records created through nested values, which fire their own
    /// collection's global `create` workflows. For a destroy, call it before deleting.
    package func plan(action: String, collection: String, affected: [Int64], nested: [(collection: String, id: Int64)],
              request: TriggerWorkflowsParameter, fired: inout FiredWorkflows) throws -> [Run] {
        var runs: [Run] = []
        var namedGlobal: [(key: String, id: Int64)] = []
        for item in request.items {
            guard let version = index.byKey[item.key] else { fired.ignored.append((item.key, "unknown")); continue }
            guard version.enabled else { fired.ignored.append((item.key, "disabled")); continue }
            guard version.type == "action" else { fired.ignored.append((item.key, "type")); continue }
            if version.global { namedGlobal.append((item.key, version.id)); continue }
            let end = endCollection(collection, path: item.path)
            guard version.collection == end, let end else { fired.ignored.append((item.key, "collection")); continue }
            var subjectIDs: [Int64] = []
            var missing = false
            for id in affected {
                let reached = try follow(collection, id: id, path: item.path)
                if reached.isEmpty { missing = true }
                subjectIDs += reached
            }
            if missing { fired.ignored.append((item.key, "no-record")) }
            runs += try subjects(end, ids: subjectIDs, appends: version.appends).map { Run(version: version, subject: $0) }
        }
        var firedGlobal: Set<Int64> = []
        var groups: [(collection: String, action: String, ids: [Int64])] = [(collection, action, affected)]
        for (nestedCollection, id) in nested {
            if let i = groups.firstIndex(where: { $0.collection == nestedCollection && $0.action == "create" }) { groups[i].ids.append(id) }
            else { groups.append((nestedCollection, "create", [id])) }
        }
        for group in groups where !group.ids.isEmpty {
            for version in index.global[group.collection] ?? [] where version.actions.contains(group.action) && version.type == "action" {
                firedGlobal.insert(version.id)
                runs += try subjects(group.collection, ids: group.ids, appends: version.appends).map { Run(version: version, subject: $0) }
            }
        }
        for (key, id) in namedGlobal where !firedGlobal.contains(id) { fired.ignored.append((key, "global")) }
        return runs
    }

    private func endCollection(_ collection: String, path: [String]) -> String? {
        var current = collection
        for segment in path {
            guard let target = store.catalogue.collection(current)?.field(segment)?.target else { return nil }
            current = target
        }
        return store.catalogue.collection(current)?.isBuiltIn == false ? current : nil
    }

    /// The ids reached from one record by following relation `path` (checked when parsed).
    private func follow(_ collection: String, id: Int64, path: [String]) throws -> [Int64] {
        var current = collection
        var ids = [id]
        for segment in path {
            guard !ids.isEmpty, let field = store.catalogue.collection(current)?.field(segment), let target = field.target else { return [] }
            ids = try store.relatedIDs(field, of: current, from: ids)
            current = target
        }
        return ids
    }

    /// The records `ids` of `collection`, in that order, with `appends` embedded.
    private func subjects(_ collection: String, ids: [Int64], appends: [[String]]) throws -> [JSONObject] {
        guard !ids.isEmpty else { return [] }
        var byID: [Int64: JSONObject] = [:]
        let unique = Array(Set(ids)).sorted()
        var records: [JSONObject]
        if let stored, stored.collection == collection, unique.allSatisfy({ stored.records[$0] != nil }) {
            records = unique.compactMap { stored.records[$0] }
        } else {
            records = try store.records(collection, ids: unique)
        }
        try store.embed(&records, collection: collection, paths: appends)
        for record in records { if let id = record["id"]?.intValue { byID[id] = record } }
        return ids.compactMap { byID[$0] }
    }
}
