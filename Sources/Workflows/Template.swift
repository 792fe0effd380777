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

    /// The `{{ … }}` spans of `text` and their dotted paths (spaces inside dropped), found by
    /// scanning UTF-8 bytes: only the path's components are copied out.
    private static func spans(in text: String) -> [(range: Range<String.Index>, path: [String])] {
        let utf8 = text.utf8
        guard utf8.count >= 4 else { return [] }
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}"), space = UInt8(ascii: " "), dot = UInt8(ascii: ".")
        var result: [(Range<String.Index>, [String])] = []
        var i = utf8.startIndex
        while let brace = utf8[i...].firstIndex(of: open) {
            let second = utf8.index(after: brace)
            guard second < utf8.endIndex else { break }
            guard utf8[second] == open else { i = second; continue }
            let innerStart = utf8.index(after: second)
            var j = innerStart
            var closing: String.Index?
            while let candidate = utf8[j...].firstIndex(of: close) {
                let after = utf8.index(after: candidate)
                if after < utf8.endIndex, utf8[after] == close { closing = candidate; break }
                j = after
            }
            guard let closing else { break }
            // Empty components are dropped (`a..b` is `a.b`); a span of spaces only is text.
            var path: [String] = []
            var component: [UInt8] = []
            var inner = false
            for byte in utf8[innerStart..<closing] where byte != space {
                inner = true
                if byte != dot { component.append(byte); continue }
                if !component.isEmpty { path.append(String(decoding: component, as: UTF8.self)) }
                component.removeAll(keepingCapacity: true)
            }
            if !component.isEmpty { path.append(String(decoding: component, as: UTF8.self)) }
            let end = utf8.index(closing, offsetBy: 2)
            if inner { result.append((brace..<end, path)) }
            i = end
        }
        return result
    }
}
