import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// NocoBase's status numbers, named in one enum (issue 15 item 5).
@Suite struct ExecutionStatusTests {
    @Test(arguments: [
        (nil, "queued", "suspended"), (0, "started", "suspended"), (1, "resolved", "ended"), (-1, "failed", "failed"),
        (-2, "error", "failed"), (-3, "aborted", "failed"), (-4, "canceled", "failed"), (7, "unknown", "suspended"),
    ] as [(Int64?, String, String)])
    func numbers_haveTheirNames(status: Int64?, name: String, instance: String) {
        #expect(ExecutionStatus.name(status) == name)
        #expect(DirectStartService.instanceStatus(status) == instance)
        if let status, let known = ExecutionStatus(rawValue: status) { #expect(ExecutionStatus(name: name) == known) }
    }

    @Test func onlyNegativeStatusesAreFailures() {
        #expect(ExecutionStatus.allCases.filter(\.isFailure) == [.failed, .error, .aborted, .canceled])
        #expect(ExecutionStatus.allCases.filter { !$0.isFinal } == [.started])
    }
}
