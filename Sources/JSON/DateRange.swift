/// A span of UTC time, `[start, end)` in milliseconds since 1970, read from a date value at the
/// granularity it is written in: what the filter's date operators compare against (spec 02,
/// NocoBase `core/utils/src/parse-date.ts`). `2026` is the whole year, `2026-11` the month,
/// `2026-11-22` the day, and a date-time (`T` or space) spans its last written unit: an hour, a
/// minute, a second or a millisecond. A trailing `Z`, `±HH:MM` or `±HHMM` is converted to UTC; no
/// zone means UTC (TriggerBase stores UTC only, and NocoBase reads its array form in UTC too).
///
/// One parser serves the SQL compiler and the in-memory evaluator, and reads stored values as well
/// as operands, so the two cannot disagree on what a date means. Pure integer civil-date math
/// (Howard Hinnant's `days_from_civil`): no `Calendar`, no locale, no time zone database.
public struct DateRange: Sendable, Equatable {
    /// The unit of the last field written, which decides the length of the range.
    public enum Unit: Sendable, Equatable { case year, month, day, hour, minute, second, millisecond }

    public var start: Int64
    public var end: Int64
    public var unit: Unit

    public init(start: Int64, end: Int64, unit: Unit) {
        self.start = start
        self.end = end
        self.unit = unit
    }

    static let millisecondsPerDay: Int64 = 86_400_000
    /// `0000-01-01T00:00:00.000Z`: nothing stored (four-digit years) is earlier.
    public static let earliest = days(year: 0, month: 1, day: 1) * millisecondsPerDay
    /// `10000-01-01T00:00:00.000Z`: nothing stored is this late.
    public static let latest = days(year: 10_000, month: 1, day: 1) * millisecondsPerDay

    /// The range widened to whole UTC days, as a `date` column (`YYYY-MM-DD`) sees it.
    public var wholeDays: DateRange {
        let day = Self.millisecondsPerDay
        let first = Self.floorDivide(start, day) * day
        let last = Self.floorDivide(end + day - 1, day) * day
        return DateRange(start: first, end: last, unit: unit)
    }

    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DD[T| ]HH[:MM[:SS[.fff…]]]`, each with
    /// an optional `Z` / `±HH:MM` / `±HHMM`; nil for anything else, including impossible dates
    /// (`2026-02-30`, hour 24, second 60). Digits past milliseconds are dropped.
    public static func parse(_ text: String) -> DateRange? {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int64? {
            guard i + count <= b.count else { return nil }
            var value: Int64 = 0
            for k in i..<(i + count) {
                guard b[k] >= 48 && b[k] <= 57 else { return nil }
                value = value * 10 + Int64(b[k] - 48)
            }
            i += count
            return value
        }
        func take(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = digits(4) else { return nil }
        var month: Int64 = 1, day: Int64 = 1, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, milli: Int64 = 0
        var unit = Unit.year
        if take("-") {
            guard let m = digits(2) else { return nil }
            month = m; unit = .month
            if take("-") {
                guard let d = digits(2) else { return nil }
                day = d; unit = .day
                if take("T") || take(" ") {
                    guard let h = digits(2) else { return nil }
                    hour = h; unit = .hour
                    if take(":") {
                        guard let m = digits(2) else { return nil }
                        minute = m; unit = .minute
                        if take(":") {
                            guard let s = digits(2) else { return nil }
                            second = s; unit = .second
                            if take(".") {
                                var count = 0
                                while i < b.count, b[i] >= 48 && b[i] <= 57 {
                                    if count < 3 { milli = milli * 10 + Int64(b[i] - 48) }
                                    count += 1; i += 1
                                }
                                guard count > 0 else { return nil }
                                for _ in min(count, 3)..<3 { milli *= 10 }
                                unit = .millisecond
                            }
                        }
                    }
                }
            }
        }
        var offsetMinutes: Int64 = 0
        if !take("Z"), i < b.count, b[i] == 43 || b[i] == 45 {
            let sign: Int64 = b[i] == 45 ? -1 : 1
            i += 1
            guard let h = digits(2) else { return nil }
            _ = take(":")
            guard let m = digits(2), h <= 23, m <= 59 else { return nil }
            offsetMinutes = sign * (h * 60 + m)
        }
        guard i == b.count, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 59 else { return nil }

        let startDay = days(year: year, month: month, day: day)
        let local = (((startDay * 24 + hour) * 60 + minute) * 60 + second) * 1000 + milli
        let localEnd: Int64 = switch unit {
        case .year: days(year: year + 1, month: 1, day: 1) * millisecondsPerDay
        case .month: (month == 12 ? days(year: year + 1, month: 1, day: 1) : days(year: year, month: month + 1, day: 1)) * millisecondsPerDay
        case .day: local + millisecondsPerDay
        case .hour: local + 3_600_000
        case .minute: local + 60_000
        case .second: local + 1000
        case .millisecond: local + 1
        }
        let shift = offsetMinutes * 60_000
        return DateRange(start: local - shift, end: localEnd - shift, unit: unit)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant, `days_from_civil`).
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant, `civil_from_days`).
    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (era * 400 + yearOfEra + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        if month == 2 { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28 }
        return [4, 6, 9, 11].contains(month) ? 30 : 31
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// `YYYY-MM-DD` of the UTC day holding `milliseconds`, the stored form of a `date` column.
    /// Only for `earliest..<latest`.
    public static func dayText(_ milliseconds: Int64) -> String {
        let (y, m, d) = civil(days: floorDivide(milliseconds, millisecondsPerDay))
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, the stored form of a `datetime` column (RecordCodec), so that
    /// text comparison in SQL orders like time. Only for `earliest..<latest`.
    public static func timestampText(_ milliseconds: Int64) -> String {
        let inDay = milliseconds - floorDivide(milliseconds, millisecondsPerDay) * millisecondsPerDay
        let seconds = inDay / 1000
        return dayText(milliseconds) + "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":"
            + pad(seconds % 60, 2) + "." + pad(inDay % 1000, 3) + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
