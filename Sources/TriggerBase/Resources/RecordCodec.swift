import Foundation
import JSON
import Storage

/// Converts field values between JSON (the wire) and SQLite (the table), checking types
/// (spec 02's type table). Errors name the field.
enum RecordCodec {
    /// The stored form of `value` for a scalar field, or a validation error.
    static func encode(_ value: JSON, for field: FieldDefinition, path: String) throws(APIError) -> SQLiteValue {
        if value.isNull { return .null }
        func wrong(_ expected: String) -> APIError { .validation(path, "'\(field.name)' must be \(expected)") }
        switch field.type {
        case .string, .text:
            guard case .string(let s) = value else { throw wrong("a string") }
            if let max = field.maxLength, s.count > max {
                throw .validation(path, "'\(field.name)' is longer than \(max) characters")
            }
            return .text(s)
        case .integer:
            guard let i = value.intValue, case .int = value else {
                if case .double(let d) = value, d.rounded() == d, abs(d) < 9.0e15 { return .integer(Int64(d)) }
                throw wrong("an integer")
            }
            return .integer(i)
        case .double:
            switch value {
            case .int(let i): return .real(Double(i))
            case .double(let d): return .real(d)
            default: throw wrong("a number")
            }
        case .boolean:
            guard case .bool(let b) = value else { throw wrong("true or false") }
            return .integer(b ? 1 : 0)
        case .date:
            guard case .string(let s) = value, isDate(s) else { throw wrong("a date (YYYY-MM-DD)") }
            return .text(s)
        case .datetime:
            guard case .string(let s) = value, let normalized = normalizeDateTime(s) else { throw wrong("an RFC 3339 date-time") }
            return .text(normalized)
        case .json:
            return .text(value.serialized())
        case .belongsTo, .hasOne, .hasMany, .belongsToMany:
            throw .validation(path, "'\(field.name)' is a relation")
        }
    }

    /// The JSON form of a stored scalar value.
    static func decode(_ value: SQLiteValue, type: FieldType) -> JSON {
        switch value {
        case .null: return .null
        case .integer(let i): return type == .boolean ? .bool(i != 0) : .int(i)
        case .real(let d): return .double(d)
        case .text(let s):
            if type == .json { return (try? JSON.parse(s)) ?? .string(s) }
            return .string(s)
        case .blob(let b): return .string(Data(b).base64EncodedString())
        }
    }

    /// `YYYY-MM-DD` naming a real day (not `2026-02-30`): the form the date operators read.
    static func isDate(_ s: String) -> Bool {
        s.utf8.count == 10 && DateRange.parse(s)?.unit == .day
    }

    /// RFC 3339 → UTC with milliseconds (`2026-11-22T14:31:00.000Z`); nil when malformed.
    static func normalizeDateTime(_ s: String) -> String? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: s) { return Timestamp.format(date) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: s) { return Timestamp.format(date) }
        return nil
    }
}

/// RFC 3339 UTC timestamps with milliseconds (spec README: Times).
enum Timestamp {
    static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int32, _ at: Int, _ width: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) { bytes[i] = UInt8(48 + v % 10); v /= 10 }
        }
        put(parts.tm_year + 1900, 0, 4); bytes[4] = 45; put(parts.tm_mon + 1, 5, 2); bytes[7] = 45; put(parts.tm_mday, 8, 2)
        bytes[10] = 84; put(parts.tm_hour, 11, 2); bytes[13] = 58; put(parts.tm_min, 14, 2); bytes[16] = 58; put(parts.tm_sec, 17, 2)
        bytes[19] = 46; put(Int32(millis % 1000), 20, 3); bytes[23] = 90
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Milliseconds since 1970 of a timestamp written by `format` (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    static func milliseconds(_ text: String) -> Int64? {
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

    static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
