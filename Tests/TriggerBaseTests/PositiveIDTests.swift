import Foundation
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

/// `QueryParameters.decode` by bytes answers what Foundation's `+` replacement and
/// `removingPercentEncoding` answer, malformed escapes and bytes that are not UTF-8 included.
struct QueryDecodingTests {
    @Test func decodingMatchesFoundation() {
        let samples = ["plain", "", "a+b", "+", "%41", "%4a%4A", "%zz", "%4", "%", "100%", "%C3%A9t%C3%A9", "%C3", "%FF",
                       "%E2%82%AC+x", "a%2Bb", "%00", "%25", "%%41", "caf\u{e9}+%20", "%2", "x%2G", "notify,audit!category"]
        for text in samples {
            let spaced = text.replacingOccurrences(of: "+", with: " ")
            #expect(QueryParameters.decode(text) == (spaced.removingPercentEncoding ?? spaced), "\(text)")
        }
        #expect(QueryParameters("triggerWorkflows=notify%2Caudit%21category&a[]=1&a[]=2").list("triggerWorkflows") == ["notify", "audit!category"])
    }
}

/// `TriggerListItem.split` trims what Foundation's `.whitespaces` trims (tabs and Unicode spaces).
struct TriggerListTrimmingTests {
    @Test func itemsAreTrimmedOfTabsAndUnicodeSpaces() {
        let items = TriggerListItem.split(" notify ,\taudit ! category . owner\u{3000},\u{a0}, x\u{301}")
        #expect(items.map(\.key) == ["notify", "audit", "x\u{301}"])
        #expect(items[1].path == ["category", "owner"] && items[1].pathText == "category . owner")
        for text in [" a ", "\t\u{2003}b\u{a0}", "\u{3000}", "c\u{200b}"] {
            #expect(TriggerListItem.split(text).map(\.key) == [text.trimmingCharacters(in: .whitespaces)].filter { !$0.isEmpty }, "\(text)")
        }
    }
}
