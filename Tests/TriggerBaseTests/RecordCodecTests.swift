import Foundation
import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// spec 02's type table: what each field type stores, reads back and refuses.
@Suite struct RecordCodecTests {
    func encode(_ value: JSON, _ type: FieldType, maxLength: Int? = nil) throws(DomainError) -> SQLiteValue {
        try RecordCodec.encode(value, for: FieldDefinition(name: "f", type: type, maxLength: maxLength), path: "f")
    }

    @Test(arguments: [
        ("hi", .string, .text("hi")), ("long text", .text, .text("long text")), (42, .integer, .integer(42)),
        (3.0, .integer, .integer(3)), (2, .double, .real(2)), (2.5, .double, .real(2.5)),
        (true, .boolean, .integer(1)), (false, .boolean, .integer(0)), ("2024-02-29", .date, .text("2024-02-29")),
        (["a": [1]], .json, .text(#"{"a":[1]}"#)), ("x", .json, .text(#""x""#)), (.null, .integer, .null),
    ] as [(JSON, FieldType, SQLiteValue)])
    func scalars_encodeToTheirStoredForm(value: JSON, type: FieldType, stored: SQLiteValue) throws {
        #expect(try encode(value, type) == stored)
    }

    @Test(arguments: [
        ("2026-11-22T14:31:00Z", "2026-11-22T14:31:00.000Z"),
        ("2026-11-22T15:31:00+01:00", "2026-11-22T14:31:00.000Z"),
        ("2026-11-22T14:31:00.5Z", "2026-11-22T14:31:00.500Z"),
        ("2026-11-22T23:59:59.999-05:00", "2026-11-23T04:59:59.999Z"),
    ])
    func datetimes_areNormalizedToUTCMilliseconds(text: String, stored: String) throws {
        #expect(try encode(.string(text), .datetime) == .text(stored))
    }

    @Test(arguments: [
        (1, .string), ("abcd", .string), ("1", .integer), (3.5, .integer), (true, .integer), ("2", .double),
        (1, .boolean), ("2026-02-30", .date), ("2026-1-2", .date), ("2026-11-22", .datetime),
        ("2026-11-22 14:31:00Z", .datetime), (5, .belongsTo), ([1], .hasMany),
    ] as [(JSON, FieldType)])
    func wrongValues_areValidationErrorsNamingTheField(value: JSON, type: FieldType) {
        #expect {
            _ = try encode(value, type, maxLength: 3)
        } throws: { error in
            (error as? DomainError)?.status == 400 && (error as? DomainError)?.items.first?.field == "f"
        }
    }

    @Test(arguments: [
        (.integer(1), .boolean, true), (.integer(0), .boolean, false), (.integer(7), .integer, 7), (.real(1.5), .double, 1.5),
        (.text(#"{"a":1}"#), .json, ["a": 1]), (.text("not json"), .json, "not json"), (.text("x"), .string, "x"),
        (.null, .string, .null), (.blob([1, 2, 3]), .string, "AQID"),
    ] as [(SQLiteValue, FieldType, JSON)])
    func storedValues_decodeToJSON(stored: SQLiteValue, type: FieldType, value: JSON) {
        #expect(RecordCodec.decode(stored, type: type) == value)
    }

    @Test func timestamps_roundTripThroughMilliseconds() {
        let text = "2026-11-22T14:31:00.123Z"
        #expect(Timestamp.milliseconds(text).map { Timestamp.format(Date(timeIntervalSince1970: Double($0) / 1000)) } == text)
        #expect(Timestamp.milliseconds("2026-11-22T14:31:00Z") == nil)
    }

    /// `Timestamp.format` computes the calendar itself: it agrees with Foundation's ISO 8601
    /// formatter across leap days, century rules, year ends and the epoch.
    @Test func timestamps_matchFoundationsCalendar() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // Fractions exact in binary, so both sides see the same milliseconds.
        var seconds: [Double] = [0, 0.25, 59.75, 86_399.5, 951_782_400, 951_868_799.75, 4_107_542_400, 1_709_164_800, 1_735_689_599.5]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            seconds.append(Double(Int64.random(in: 0...4_102_444_800, using: &generator)) + [0, 0.125, 0.5, 0.875].randomElement(using: &generator)!)
        }
        for value in seconds {
            let date = Date(timeIntervalSince1970: value)
            #expect(Timestamp.format(date) == formatter.string(from: date), "\(value)")
        }
    }
}
