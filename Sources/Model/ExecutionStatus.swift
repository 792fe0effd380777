/// NocoBase's execution and job status numbers (spec 04: The dispatcher); queued is NULL.
/// SQL binds `rawValue` as a parameter rather than writing the numbers; only the migrations,
/// which must stay as they were applied, spell them out.
package enum ExecutionStatus: Int64, Sendable, CaseIterable {
    case started = 0, resolved = 1, failed = -1, error = -2, aborted = -3, canceled = -4

    package init?(name: String) {
        switch name {
        case "started": self = .started
        case "resolved": self = .resolved
        case "failed": self = .failed
        case "error": self = .error
        case "aborted": self = .aborted
        case "canceled": self = .canceled
        default: return nil
        }
    }

    package var isFinal: Bool { self != .started }

    /// failed, error, aborted, canceled: the ended-without-success statuses, all below `started`.
    package var isFailure: Bool { rawValue < Self.started.rawValue }

    /// The SQL of the generated `statusName` columns (migration 005) says the same.
    package static func name(_ status: Int64?) -> String {
        guard let status else { return "queued" }
        return ExecutionStatus(rawValue: status).map { "\($0)" } ?? "unknown"
    }
}
