import Foundation
import JSON

/// RFC 3339 UTC timestamps with milliseconds (spec README: Times).
package enum Timestamp {
    package static func now() -> String { format(Date()) }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`. The calendar date comes from days since 1970 by arithmetic
    /// (`DateRange.civil`): `gmtime_r` takes glibc's time-zone lock on every call.
    package static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (days, dayMillis) = millis.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, ofDay) = dayMillis < 0 ? (days - 1, dayMillis + 86_400_000) : (days, dayMillis)
        let (year, month, dayOfMonth) = DateRange.civil(days: day)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, _ at: Int, _ width: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) { bytes[i] = UInt8(48 + v % 10); v /= 10 }
        }
        put(year, 0, 4); bytes[4] = 45; put(month, 5, 2); bytes[7] = 45; put(dayOfMonth, 8, 2)
        bytes[10] = 84; put(ofDay / 3_600_000, 11, 2); bytes[13] = 58; put(ofDay / 60_000 % 60, 14, 2); bytes[16] = 58
        put(ofDay / 1000 % 60, 17, 2); bytes[19] = 46; put(ofDay % 1000, 20, 3); bytes[23] = 90
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Milliseconds since 1970 of a timestamp written by `format` (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    package static func milliseconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 24, b[10] == 84, b[23] == 90 else { return nil }
        func number(_ at: Int, _ width: Int) -> Int32? {
            var value: Int32 = 0
            for i in at..<(at + width) { guard b[i] >= 48 && b[i] <= 57 else { return nil }; value = value * 10 + Int32(b[i] - 48) }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let millis = number(20, 3) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900; parts.tm_mon = month - 1; parts.tm_mday = day
        parts.tm_hour = hour; parts.tm_min = minute; parts.tm_sec = second
        return Int64(timegm(&parts)) * 1000 + Int64(millis)
    }

    package static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
