import JSON
import Model

/// A stored version: its id and number, and what it holds.
package struct WorkflowRow: Sendable, Equatable {
    package var id: Int64
    package var versionNumber: Int64
    package var definition: WorkflowDefinition
}

/// A version as the start API sees it (spec 05): who it is and its options.
package struct VersionSummary: Sendable, Equatable {
    package var id: Int64
    package var key: String
    package var versionNumber: Int64
    package var title: String?
    /// `options` parsed (nil if unreadable).
    package var options: JSON?
}

/// Workflow versions (spec 04), inside the caller's transaction. At most one version per key is
/// current; the rules of which (enabling makes current, a new key's first version is current)
/// are the caller's, the store only writes them.
package protocol WorkflowStore {
    /// Version `id`, or nil.
    func version(_ id: Int64) throws -> WorkflowRow?

    /// The current version of every key, by id (the registry's reload).
    func currentVersions() throws -> [WorkflowRow]

    /// Whether any version has `key`.
    func hasVersions(key: String) throws -> Bool

    /// Whether a version of `key` is current.
    func hasCurrentVersion(key: String) throws -> Bool

    /// The highest version number of `key` (nil when it has none).
    func latestVersionNumber(key: String) throws -> Int64?

    /// Inserts a version (not current) created and updated now by `actorID`; returns its id.
    func insertVersion(_ content: WorkflowDefinition, versionNumber: Int64, actorID: Int64?) throws -> Int64

    /// Rewrites version `id` (everything but its key and number), updated now by `actorID`.
    func updateVersion(_ id: Int64, _ content: WorkflowDefinition, actorID: Int64?) throws

    /// Rewrites version `id`'s content, keeping who updated it last (a seed applied again).
    func replaceContent(_ id: Int64, _ content: WorkflowDefinition) throws

    /// The current version of `key`, else its highest: what a seed compares itself with.
    func currentOrLatestVersion(key: String) throws -> (id: Int64, versionNumber: Int64)?

    /// Makes `id` the current version of `key`; every other version of `key` stops being current
    /// and is disabled.
    func makeCurrent(_ id: Int64, key: String) throws

    /// Deletes version `id` (its executions go with it); returns how many rows went (0 or 1).
    func deleteVersion(_ id: Int64) throws -> Int

    /// Every version, by key then version number.
    func summaries() throws -> [VersionSummary]

    /// The versions whose stored `options` text contains `text` (a cheap first pass; the caller
    /// checks the parsed options).
    func summaries(optionsContaining text: String) throws -> [VersionSummary]

    /// The version with this id, key and number, or nil.
    func summary(id: Int64, key: String, versionNumber: Int64) throws -> VersionSummary?

    /// The current version of `key` if it is enabled, or nil.
    func enabledCurrentSummary(key: String) throws -> VersionSummary?
}
