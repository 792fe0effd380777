import JSON
import Testing

/// The date values of the filter's date operators (NocoBase `core/utils/src/parse-date.ts` and its
/// `__tests__/parse-date.test.ts`), read as UTC ranges `[start, end)`.
struct DateRangeTests {
    static let valid: [(String, String, String)] = [
        // parse-date.test.ts
        ("2023", "2023-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z"),
        ("2023+08:00", "2022-12-31T16:00:00.000Z", "2023-12-31T16:00:00.000Z"),
        ("2023-01-12T12:23:59+08:00", "2023-01-12T04:23:59.000Z", "2023-01-12T04:24:00.000Z"),
        // each granularity
        ("2024-02", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"),
        ("2026-12", "2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"),
        ("2024-02-29", "2024-02-29T00:00:00.000Z", "2024-03-01T00:00:00.000Z"),
        ("2026-11-22 10", "2026-11-22T10:00:00.000Z", "2026-11-22T11:00:00.000Z"),
        ("2026-11-22T10:30", "2026-11-22T10:30:00.000Z", "2026-11-22T10:31:00.000Z"),
        ("2026-11-22T10:30:05Z", "2026-11-22T10:30:05.000Z", "2026-11-22T10:30:06.000Z"),
        ("2026-11-22T10:30:05.5Z", "2026-11-22T10:30:05.500Z", "2026-11-22T10:30:05.501Z"),
        ("2026-11-22T10:30:05.123456Z", "2026-11-22T10:30:05.123Z", "2026-11-22T10:30:05.124Z"),
        // offsets, with and without the colon, both signs
        ("2026-11-22-0530", "2026-11-22T05:30:00.000Z", "2026-11-23T05:30:00.000Z"),
        ("2026-01-01T00:00:00.000+01:00", "2025-12-31T23:00:00.000Z", "2025-12-31T23:00:00.001Z"),
        ("0000-03-01", "0000-03-01T00:00:00.000Z", "0000-03-02T00:00:00.000Z"),
        ("9999-12", "9999-12-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"),
    ]

    @Test(arguments: valid)
    func readsEachFormAtTheGranularityWritten(text: String, start: String, end: String) throws {
        let range = try #require(DateRange.parse(text))
        #expect(DateRange.timestampText(range.start) == start)
        // The end of 9999-12 is 10000-01-01, beyond the stored form: compare one millisecond back.
        #expect(DateRange.timestampText(range.end == DateRange.latest ? range.end - 1 : range.end) == end)
    }

    static let invalid = ["", "26", "202", "20261", "2026-1", "2026-00", "2026-13", "2026-02-29", "2026-04-31",
                          "2026-11-22T", "2026-11-22T24", "2026-11-22T10:60", "2026-11-22T10:00:60", "2026-11-22T10:00:00.",
                          "2026-11-22T10:00+8", "2026-11-22T10:00+24:00", "2026-11-22T10:00+08:60", "2026-11-22Zx",
                          "2026-11-22t10:00", "+2026", "２０２６", "2026-11-22T10:00:00ZZ", "today"]

    @Test(arguments: invalid)
    func rejectsAnythingElse(text: String) {
        #expect(DateRange.parse(text) == nil)
    }

    @Test func civilDateMathRoundTripsAcrossEras() {
        for day in stride(from: DateRange.earliest / 86_400_000, to: DateRange.latest / 86_400_000, by: 997) {
            let (y, m, d) = DateRange.civil(days: day)
            #expect(DateRange.days(year: y, month: m, day: d) == day)
        }
        #expect(DateRange.days(year: 1970, month: 1, day: 1) == 0)
        #expect(DateRange.dayText(-1) == "1969-12-31")
    }

    @Test func wholeDaysWidensASubDayRange() throws {
        let range = try #require(DateRange.parse("2026-11-22+08:00")).wholeDays
        #expect(DateRange.dayText(range.start) == "2026-11-21" && DateRange.dayText(range.end) == "2026-11-23")
        let day = try #require(DateRange.parse("2026-11-22"))
        #expect(day.wholeDays == day)
    }
}

/// SQLite's LIKE, in memory: `%`, `_`, an optional escape, ASCII-only case folding.
struct LikePatternTests {
    static let cases: [(String, String, Bool)] = [
        ("Hello", "hello", true), ("Hello", "h%", true), ("Hello", "%LL%", true), ("Hello", "H_llo", true),
        ("Hello", "H_lo", false), ("", "%", true), ("", "_", false), ("abc", "%%c", true), ("aXbXc", "a%b%c", true),
        ("aaa", "%a%a%a%a", false), ("É", "é", false), ("Ünï", "_n_", true), ("50% off", "%\\%%", true),
    ]

    @Test(arguments: cases)
    func matchesAsSQLiteLike(text: String, pattern: String, expected: Bool) {
        #expect(LikePattern.matches(text, pattern: pattern, escape: pattern.contains("\\") ? LikePattern.escape : nil) == expected)
    }

    @Test func containingEscapesWildcardsAndTheEscape() {
        #expect(LikePattern.containing(#"5%_\"#) == #"%5\%\_\\%"#)
        #expect(LikePattern.matches("x5%_\\y", pattern: LikePattern.containing(#"5%_\"#), escape: LikePattern.escape))
        #expect(!LikePattern.matches("x5ab\\y", pattern: LikePattern.containing(#"5%_\"#), escape: LikePattern.escape))
        #expect(!LikePattern.matches("a", pattern: "a\\", escape: LikePattern.escape), "a lone escape at the end never matches")
    }
}
