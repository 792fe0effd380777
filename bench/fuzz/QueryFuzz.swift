// libFuzzer target for the query languages (bench/fuzz/run.sh compiles it together with
// Sources/JSON/*.swift and Sources/Workflows/TriggerList.swift).
//
// Every input is tried as: JSON text (and what parses must serialize and parse back to the same
// value), a filter (spec 02), evaluated against a fixed record, and a `triggerWorkflows` list.
import Foundation

private let record: JSON = .object([
    "id": .int(1), "title": .string("Hello"), "score": .double(2.5), "tags": .array([.string("a")]),
    "category": .object(["title": .string("News")]), "deletedAt": .null,
    "day": .string("2026-11-22"), "at": .string("2026-11-22T10:30:00.000Z"),
])

@_cdecl("LLVMFuzzerTestOneInput")
public func queryFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)

    if let value = try? JSON.parse(bytes, maxDepth: 64) {
        let text = value.serializedBytes()
        guard let again = try? JSON.parse(text, maxDepth: 64) else {
            preconditionFailure("serialized JSON does not parse: \(String(decoding: text, as: UTF8.self))")
        }
        precondition(again.serializedBytes() == text, "JSON changed on a round trip: \(String(decoding: text, as: UTF8.self))")
        if let filter = try? Filter.parse(value) {
            _ = filter.evaluate { path in record[path: path] }
        }
    }

    let text = String(decoding: bytes, as: UTF8.self)
    for item in TriggerListItem.split(text) {
        precondition(!item.key.contains(","), "a key holds a comma")
        precondition(item.key == item.key.trimmingCharacters(in: .whitespaces), "an untrimmed key")
        precondition(item.pathText != nil || item.path.isEmpty, "a path without '!'")
        precondition(item.key.isEmpty == false || item.pathText != nil, "an empty item was kept")
    }
    return 0
}
