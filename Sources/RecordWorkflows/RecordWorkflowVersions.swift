import JSON
import Model
import Storage

/// The stored versions of record-workflow definitions (spec 06): every save is a new version
/// ("0.1", "0.2" … then "1.0" once published, "1.1" …); a save or publish naming a `version`
/// that is not the latest is 409 `NotLatestVersion`. Each call runs inside the caller's write.
package enum RecordWorkflowVersions {
    package static func notFound(_ id: some StringProtocol) -> DomainError {
        DomainError(.notFound, code: "NotFound", message: "no record workflow definition '\(id)'")
    }

    /// The definition `id` and its parsed form from a request body: the body's own `version`
    /// (returned as `claimedVersion`) and `published` are not part of it.
    package static func definition(_ id: String, from body: JSON) throws(DomainError)
        -> (definition: JSON, parsed: RecordWorkflowDefinition, claimedVersion: JSON?) {
        guard Name.isValidKey(id) else { throw DomainError(.unprocessable, code: "ValidationError", message: "'\(id)' is not a valid definition id", field: "id") }
        guard case .object(var object) = body else { throw RecordWorkflowDefinition.invalid([.init(message: "a definition is a JSON object", code: "ValidationError")]) }
        let claimed = object.removeValue(forKey: "version")
        _ = object.removeValue(forKey: "published")
        let parsed = try RecordWorkflowDefinition.parse(.object(object), id: id)
        object["id"] = .string(id)
        return (.object(object), parsed, claimed)
    }

    /// Saves `definition` as the next version of `id`; nil, and nothing saved, when `skipIdentical`
    /// and it equals the latest version.
    @discardableResult
    package static func save(_ id: String, _ definition: JSON, parsed: RecordWorkflowDefinition, claimedVersion: JSON?, actorID: Int64?,
                             store: any RecordWorkflowStore, now: String, skipIdentical: Bool = false) throws -> RecordWorkflowVersion? {
        let latest = try store.latestVersion(of: id, publishedOnly: false)
        if let latest { try checkLatest(claimedVersion, latest) }
        if skipIdentical, let latest, latest.definition == definition { return nil }
        let next: (Int64, Int64) = latest.map { ($0.major, $0.minor + 1) } ?? (0, 1)
        let version = RecordWorkflowVersion(id: id, major: next.0, minor: next.1, published: false, definition: definition)
        try store.insertVersion(version, initialState: parsed.initialState, at: now, createdBy: actorID)
        return version
    }

    /// Publishes the latest version of `id` as the next whole version.
    package static func publish(_ id: String, claimedVersion: JSON?, store: any RecordWorkflowStore, now: String) throws -> RecordWorkflowVersion {
        guard let latest = try store.latestVersion(of: id, publishedOnly: false) else { throw notFound(id) }
        try checkLatest(claimedVersion, latest)
        guard !latest.published else {
            throw DomainError(.unprocessable, code: "ValidationError", message: "version \(latest.version) of '\(id)' is already published")
        }
        try store.insertPublishedCopy(of: id, major: latest.major, minor: latest.minor, at: now)
        return RecordWorkflowVersion(id: id, major: latest.major + 1, minor: 0, published: true, definition: latest.definition)
    }

    /// 409 `NotLatestVersion` when `claimed` names a version other than the latest (none named: no check).
    private static func checkLatest(_ claimed: JSON?, _ latest: RecordWorkflowVersion) throws(DomainError) {
        guard let claimed, !claimed.isNull, claimed.stringValue != latest.version else { return }
        throw DomainError(.conflict, code: "NotLatestVersion",
                          message: "version \(claimed.stringValue ?? claimed.serialized()) is not the latest (\(latest.version))", field: "version")
    }
}
