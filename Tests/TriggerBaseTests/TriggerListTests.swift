import Foundation
import Testing
@testable import Workflows

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
