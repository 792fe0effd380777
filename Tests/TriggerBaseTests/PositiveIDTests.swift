import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// The one id parser (issue 15 item 5; STYLE habit 10).
@Suite struct PositiveIDTests {
    @Test(arguments: [("5", 5), ("42", 42), ("05", 5), ("9223372036854775807", Int64.max)] as [(String, Int64)])
    func digits_areIDs(text: String, id: Int64) {
        #expect(PositiveID.parse(text) == id)
    }

    @Test(arguments: ["", "0", "00", "+5", "-1", "5 ", " 5", "5a", "0x10", "1e3", "٣", "9223372036854775808", "99999999999999999999"])
    func anythingElse_isNotAnID(text: String) {
        #expect(PositiveID.parse(text) == nil)
    }

    @Test func route_andFilterByTk_useIt() throws {
        #expect(throws: DomainError.self) { try Route.parse("posts/+5", method: "GET") }
        // `%2B` is a literal `+` (a bare `+` is a space in a query string, and items are trimmed).
        #expect(throws: DomainError.self) { try QueryParameters("filterByTk=%2B5").primaryKeys() }
        #expect(try QueryParameters("filterByTk=05,7").primaryKeys() == [5, 7])
    }
}
