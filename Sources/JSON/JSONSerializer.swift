extension JSON {
    /// Compact JSON text, keys in insertion order (RFC 8259 escaping; non-finite numbers as null).
    public func serialized() -> String { String(decoding: serializedBytes(), as: UTF8.self) }

    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return out
    }

    /// The decimal digits of `value`, written straight into `out` (no String in between).
    static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var rest = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .int(let i): Self.writeInteger(i, to: &out)
        case .double(let d):
            if !d.isFinite { out.append(contentsOf: "null".utf8) }
            else if d.rounded() == d && abs(d) < 1e15 { Self.writeInteger(Int64(d), to: &out); out.append(contentsOf: ".0".utf8) }
            else { out.append(contentsOf: "\(d)".utf8) }
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            out.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(44) }
                item.write(to: &out)
            }
            out.append(93)
        case .object(let object):
            out.append(123)
            var first = true
            for (key, value) in object {
                if !first { out.append(44) }
                first = false
                Self.writeString(key, to: &out)
                out.append(58)
                value.write(to: &out)
            }
            out.append(125)
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        var text = s
        // One pass over the contiguous UTF-8: runs that need no escape are copied whole.
        text.withUTF8 { bytes in
            out.append(34)
            var start = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 32 || byte == 34 || byte == 92 else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                appendEscape(byte, to: &out)
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
            out.append(34)
        }
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case 34: out += [92, 34]
        case 92: out += [92, 92]
        case 10: out += [92, 110]
        case 13: out += [92, 114]
        case 9: out += [92, 116]
        case 8: out += [92, 98]
        case 12: out += [92, 102]
        default:
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            out += [92, 117, 48, 48, digits[Int(byte >> 4)], digits[Int(byte & 15)]]
        }
    }
}
