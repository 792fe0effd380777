import Foundation
import Testing
@testable import API

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
