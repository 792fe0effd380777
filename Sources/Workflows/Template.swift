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

    /// A value whose templates were found once: what a workflow version keeps for each node's
    /// config, so running a node renders without scanning its strings again.
    package indirect enum Compiled: Sendable {
        /// No template inside: rendered as it is.
        case constant(JSON)
        /// A string that is exactly one template: the value at the path, JSON type kept.
        case value([String])
        /// Text with templates inside: rendered as text.
        case text([TextPart])
        case array([Compiled])
        case object([(key: String, value: Compiled)])
    }

    package enum TextPart: Sendable {
        case literal(Substring)
        case path([String])
    }

    /// The templates of `value`, found once (see `Compiled`).
    package static func compile(_ value: JSON) -> Compiled {
        switch value {
        case .string(let text):
            let found = spans(in: text)
            if found.isEmpty { return .constant(value) }
            if found.count == 1, found[0].range == text.startIndex..<text.endIndex { return .value(found[0].path) }
            var parts: [TextPart] = []
            var rest = text.startIndex
            for span in found {
                if rest < span.range.lowerBound { parts.append(.literal(text[rest..<span.range.lowerBound])) }
                parts.append(.path(span.path))
                rest = span.range.upperBound
            }
            if rest < text.endIndex { parts.append(.literal(text[rest...])) }
            return .text(parts)
        case .array(let items):
            let compiled = items.map(compile)
            if compiled.allSatisfy(\.isConstant) { return .constant(value) }
            return .array(compiled)
        case .object(let object):
            let compiled = object.map { (key: $0.key, value: compile($0.value)) }
            if compiled.allSatisfy(\.value.isConstant) { return .constant(value) }
            return .object(compiled)
        default:
            return .constant(value)
        }
    }

    /// Renders every string of `compiled` against `scope` (an object holding `$context`, …).
    package static func render(_ compiled: Compiled, scope: JSON) -> JSON {
        switch compiled {
        case .constant(let value): return value
        case .value(let path): return scope[path: path] ?? .null
        case .text(let parts):
            var result = ""
            for part in parts {
                switch part {
                case .literal(let text): result += text
                case .path(let path):
                    switch scope[path: path] ?? .null {
                    case .null: break
                    case .string(let string): result += string
                    case let other: result += other.serialized()
                    }
                }
            }
            return .string(result)
        case .array(let items): return .array(items.map { render($0, scope: scope) })
        case .object(let entries):
            var result = JSONObject()
            for (key, item) in entries { result[key] = render(item, scope: scope) }
            return .object(result)
        }
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

extension Template.Compiled {
    fileprivate var isConstant: Bool {
        if case .constant = self { return true }
        return false
    }
}
