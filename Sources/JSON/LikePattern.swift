/// SQLite's `LIKE`, in memory, so a condition node matches what a list query matches (spec 02:
/// `$like`, `$notLike`, `$includes`, `$notIncludes`). As in SQLite without ICU: `%` is any run of
/// characters, `_` exactly one (a Unicode scalar, as SQLite counts UTF-8 characters), and only
/// ASCII letters fold case: `É` and `é` differ, as they do in the database.
public enum LikePattern {
    /// The escape character TriggerBase puts in `ESCAPE '\'` for the patterns it builds.
    public static let escape: Unicode.Scalar = "\\"

    /// `%text%` with `%`, `_` and `\` escaped: the `$includes` pattern for a literal substring.
    public static func containing(_ text: String) -> String {
        var pattern = "%"
        for scalar in text.unicodeScalars {
            if scalar == "%" || scalar == "_" || scalar == escape { pattern.unicodeScalars.append(escape) }
            pattern.unicodeScalars.append(scalar)
        }
        pattern.unicodeScalars.append("%")
        return pattern
    }

    /// Whether `text LIKE pattern [ESCAPE escape]` holds. A pattern ending in a lone escape never
    /// matches (SQLite's `patternCompare`).
    public static func matches(_ text: String, pattern: String, escape: Unicode.Scalar? = nil) -> Bool {
        enum Token: Equatable { case any, one, literal(UInt32) }
        var tokens: [Token] = []
        var pending = false
        for scalar in pattern.unicodeScalars {
            if pending { tokens.append(.literal(fold(scalar))); pending = false }
            else if scalar == escape { pending = true }
            else if scalar == "%" { if tokens.last != .any { tokens.append(.any) } }
            else if scalar == "_" { tokens.append(.one) }
            else { tokens.append(.literal(fold(scalar))) }
        }
        if pending { return false }
        let characters = text.unicodeScalars.map(fold)
        // Greedy match with one backtrack point per `%`: O(text × pattern) at worst.
        var t = 0, p = 0, starP = -1, starT = 0
        while t < characters.count {
            if p < tokens.count, tokens[p] == .one || tokens[p] == .literal(characters[t]) {
                t += 1; p += 1
            } else if p < tokens.count, tokens[p] == .any {
                starP = p; starT = t; p += 1
            } else if starP >= 0 {
                p = starP + 1; starT += 1; t = starT
            } else {
                return false
            }
        }
        while p < tokens.count, tokens[p] == .any { p += 1 }
        return p == tokens.count
    }

    private static func fold(_ scalar: Unicode.Scalar) -> UInt32 {
        (65...90).contains(scalar.value) ? scalar.value + 32 : scalar.value
    }
}
