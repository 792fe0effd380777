import JSON

/// `{{ path }}` templates in node configs (spec 04: Templates). Paths start at `$context`,
/// `$jobsMapByNodeKey.<key>` or `$system`; a string that is exactly one template keeps the value's
/// JSON type, a template inside longer text is rendered as text, and a path to nothing is null
/// (or the empty string inside text).
package enum Template {
    /// Every template path found in the strings of `value` (object values and array items).
    package static func references(in value: JSON) -> [[String]] {
        switch value {
        case .string(let text): return spans(in: text).map(\.path)
        case .array(let items): return items.flatMap(references)
        case .object(let object): return object.flatMap { references(in: $0.value) }
        default: return []
        }
    }

    /// Renders every string in `value` against `scope` (an object holding `$context`, …).
    package static func render(_ value: JSON, scope: JSON) -> JSON {
        switch value {
        case .string(let text): return render(text, scope: scope)
        case .array(let items): return .array(items.map { render($0, scope: scope) })
        case .object(let object):
            var result = JSONObject()
            for (key, item) in object { result[key] = render(item, scope: scope) }
            return .object(result)
        default: return value
        }
    }

    package static func render(_ text: String, scope: JSON) -> JSON {
        let found = spans(in: text)
        guard !found.isEmpty else { return .string(text) }
        if found.count == 1, found[0].range == text.startIndex..<text.endIndex {
            return scope[path: found[0].path] ?? .null
        }
        var result = ""
        var rest = text.startIndex
        for span in found {
            result += text[rest..<span.range.lowerBound]
            switch scope[path: span.path] ?? .null {
            case .null: break
            case .string(let string): result += string
            case let other: result += other.serialized()
            }
            rest = span.range.upperBound
        }
        return .string(result + text[rest...])
    }

    /// The `{{ … }}` spans of `text` and their dotted paths, found by scanning UTF-8 bytes.
    private static func spans(in text: String) -> [(range: Range<String.Index>, path: [String])] {
        let utf8 = text.utf8
        guard utf8.count >= 4, utf8.contains(UInt8(ascii: "{")) else { return [] }
        var result: [(Range<String.Index>, [String])] = []
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let next = utf8.index(after: i)
            guard utf8[i] == UInt8(ascii: "{"), next < utf8.endIndex, utf8[next] == UInt8(ascii: "{") else { i = next; continue }
            let innerStart = utf8.index(after: next)
            var j = innerStart
            var close: String.Index?
            while j < utf8.endIndex {
                let after = utf8.index(after: j)
                if utf8[j] == UInt8(ascii: "}"), after < utf8.endIndex, utf8[after] == UInt8(ascii: "}") { close = j; break }
                j = after
            }
            guard let close else { break }
            let end = utf8.index(close, offsetBy: 2)
            let inner = text[innerStart..<close].split(separator: " ", omittingEmptySubsequences: true).joined()
            if !inner.isEmpty { result.append((i..<end, inner.split(separator: ".").map(String.init))) }
            i = end
        }
        return result
    }
}
