import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

struct MetricsTests {
    /// Issue 13: dropped log lines are visible to operators, as a Prometheus counter (spec 07).
    @Test func metricsCountDroppedLogLines() throws {
        try withTestApp { app in
            let response = try app.client().request("GET", "/metrics")
            #expect(response.status == 200)
            #expect(response.text.contains("# TYPE triggerbase_log_lines_dropped_total counter\n"))
            #expect(response.text.contains("\ntriggerbase_log_lines_dropped_total 0\n"))
        }
    }
}
