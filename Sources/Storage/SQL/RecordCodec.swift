import Foundation
import JSON
import Model

/// Converts field values between JSON (the wire) and their stored forms (the table), checking
/// types (spec 02's type table). Errors name the field.
package enum RecordCodec {
    /// The stored form of `value` for a scalar field, or a validation error: what record writes
    /// bind.
    package static func value(_ value: JSON, for field: FieldDefinition, path: String) throws(DomainError) -> ColumnValue {
        switch try encode(value, for: field, path: path) {
        case .null: .null
        case .integer(let i): .integer(i)
        case .real(let d): .real(d)
        case .text(let s): .text(s)
        case .blob: .null  // never encoded
        }
    }

    /// The stored form of `value` for a scalar field as SQLite binds it, or a validation error.
    package static func encode(_ value: JSON, for field: FieldDefinition, path: String) throws(DomainError) -> SQLiteValue {
        if value.isNull { return .null }
        func wrong(_ expected: String) -> DomainError { .validation(path, "'\(field.name)' must be \(expected)") }
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
    package static func decode(_ value: SQLiteValue, type: FieldType) -> JSON {
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
    package static func isDate(_ s: String) -> Bool {
        s.utf8.count == 10 && DateRange.parse(s)?.unit == .day
    }

    /// RFC 3339 → UTC with milliseconds (`2026-11-22T14:31:00.000Z`); nil when malformed.
    package static func normalizeDateTime(_ s: String) -> String? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: s) { return Timestamp.format(date) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: s) { return Timestamp.format(date) }
        return nil
    }
}
