import Foundation
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

struct HealthProbeTests {
    /// Polls `condition` for up to 5 s.
    func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<250 { if condition() { return true }; usleep(20_000) }
        return condition()
    }

    @Test func healthFollowsWhetherTheDatabaseAnswers() throws {
        let directory = ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try SQLiteDatabase(configuration: SQLiteConfiguration(path: directory + "/h.db"))
        let probe = HealthProbe(database: database, interval: .milliseconds(20), staleAfterNanoseconds: 300_000_000)
        probe.start()
        defer { probe.stop() }
        #expect(probe.isHealthy)
        database.close()
        #expect(eventually { !probe.isHealthy }, "a closed database is reported down")
    }
}
