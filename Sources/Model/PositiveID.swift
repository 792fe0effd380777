/// Record, execution and workflow ids as they come in paths, query strings and bodies: ASCII
/// digits only, greater than zero, within `Int64`. STYLE habit 10: `Int64("+5")` and
/// `Int64("-1")` succeed in Swift, and neither is an id. Leading zeros are accepted (`05` is 5),
/// as the router always accepted them.
package enum PositiveID {
    package static func parse(_ text: some StringProtocol) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            value = sum
            digits += 1
        }
        return digits > 0 && value > 0 ? value : nil
    }
}
