import Testing
@testable import JSON

struct JSONParserTests {
    static let valid: [(String, JSON)] = [
        ("null", .null), ("true", true), (" false ", false), ("0", 0), ("-12", -12), ("1.5", 1.5), ("1e2", 100.0),
        ("9223372036854775807", .int(Int64.max)), ("9223372036854775808", .double(9223372036854775808)),
        (#""a\"b\\c\n\u00e9\ud83d\ude00""#, .string("a\"b\\c\né😀")), ("[]", []), ("{}", [:]),
        (#"{"a":[1,{"b":null}]}"#, ["a": [1, ["b": nil]]]),
    ]

    @Test(arguments: valid)
    func parsesValidJSON(text: String, expected: JSON) throws {
        #expect(try JSON.parse(text) == expected)
    }

    static let invalid = ["", "nul", "01", "1.", ".5", "+1", "1e", "NaN", "Infinity", "[1,]", "{\"a\":1,}", "[1 2]",
                          "{'a':1}", "{\"a\" 1}", "\"unterminated", "\"tab\there\"", "\"\\x\"", "\"\\ud800\"",
                          "\"\\udc00\"", "// c\n1", "1 2", "{\"a\":1,\"a\":2}", "[", "{"]

    @Test(arguments: invalid)
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func rejectsInvalidUTF8AndDeepNestingWithoutCrashing() {
        #expect(throws: JSONParseError.self) { try JSON.parse([34, 0xFF, 0xFE, 34]) }
        #expect(throws: JSONParseError.self) { try JSON.parse(String(repeating: "[", count: 100_000)) }
        #expect((try? JSON.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))) != nil)
    }

    @Test func serializationKeepsKeyOrderAndRoundTrips() throws {
        var object = JSONObject()
        object["z"] = 1
        object["a"] = "x\u{1}\"\n"
        object["m"] = [true, nil, 2.5]
        let text = JSON.object(object).serialized()
        #expect(text == #"{"z":1,"a":"x\u0001\"\n","m":[true,null,2.5]}"#)
        #expect(try JSON.parse(text) == .object(object))
    }

    @Test(arguments: [Int64.min, -1_000_000_007, -10, -1, 0, 7, 10, 99, 1_000_000_007, Int64.max])
    func integersAreWrittenAsTheirDecimalDigits(value: Int64) {
        #expect(JSON.int(value).serialized() == String(value))
        #expect(JSON.double(Double(value % 1_000_000_000_000)).serialized() == String(value % 1_000_000_000_000) + ".0")
    }

    @Test func pathSubscriptWalksObjectsAndArrays() throws {
        let json = try JSON.parse(#"{"a":[{"b":7}]}"#)
        #expect(json[path: ["a", "0", "b"]] == 7)
        #expect(json[path: ["a", "5"]] == nil)
    }
}

struct FilterTests {
    static let record: JSON = ["title": "Hello world", "views": 5, "score": 2.5, "tags": ["a", "b"], "empty": "", "none": nil,
                               "category": ["title": "News"], "at": "2026-11-22T10:30:00.000Z"]

    static let cases: [(String, Bool)] = [
        (#"{"views":5}"#, true), (#"{"views":{"$eq":5.0}}"#, true), (#"{"views":{"$ne":5}}"#, false),
        (#"{"views":{"$gt":4}}"#, true), (#"{"views":{"$gte":6}}"#, false), (#"{"score":{"$lt":3}}"#, true),
        (#"{"views":{"$lte":"5"}}"#, false), (#"{"views":{"$in":[1,5]}}"#, true), (#"{"views":{"$notIn":[1,5]}}"#, false),
        (#"{"title":{"$includes":"lo w"}}"#, true), (#"{"tags":{"$includes":"b"}}"#, true), (#"{"tags":{"$notIncludes":"c"}}"#, true),
        (#"{"title":{"$startsWith":"Hell"}}"#, true), (#"{"title":{"$endsWith":"World"}}"#, false),
        (#"{"empty":{"$empty":true}}"#, true), (#"{"none":{"$empty":true}}"#, true), (#"{"tags":{"$notEmpty":true}}"#, true),
        (#"{"none":{"$exists":true}}"#, false), (#"{"missing":{"$notExists":true}}"#, true), (#"{"none":null}"#, true),
        (#"{"category.title":"News"}"#, true), (#"{"category":{"title":{"$eq":"News"}}}"#, true),
        (#"{"$or":[{"views":1},{"title":{"$startsWith":"H"}}]}"#, true), (#"{"$and":[{"views":5},{"views":6}]}"#, false),
        (#"{"views":5,"title":"nope"}"#, false), ("{}", true),
        (#"{"title":{"$includes":"WORLD"}}"#, true), (#"{"title":{"$like":"h%d"}}"#, true), (#"{"none":{"$notIncludes":"x"}}"#, false),
        (#"{"views":[1,5]}"#, true), (#"{"none":{"$ne":[1]}}"#, false), (#"{"none":{"$isFalsy":true}}"#, true),
        (#"{"title":{"$endWith":"world"}}"#, true), (#"{"at":{"$dateOn":"2026-11"}}"#, true), (#"{"none":{"$dateNotOn":"2026"}}"#, false),
    ]

    @Test(arguments: cases)
    func evaluatesEveryOperator(filter: String, expected: Bool) throws {
        let parsed = try Filter.parse(try JSON.parse(filter))
        #expect(parsed.evaluate { Self.record[path: $0] } == expected)
    }

    /// Found by bench/fuzz: a prepending mark before `.` must not hide the path separator.
    @Test func aDotAfterAPrependingMarkStillSplitsThePath() throws {
        let parsed = try Filter.parse(try JSON.parse("{\"x\\u0602.title\":\"News\"}"))
        #expect(parsed == .condition(path: ["x\u{0602}", "title"], op: .eq, value: "News"))
    }

    static let malformed = [#"{"views":{"$foo":1}}"#, #"{"$and":{}}"#, #"{"$or":1}"#, #"{"views":{"$in":3}}"#, #"{"$weird":[]}"#, "[]",
                            // Issue 13: an object or array where one value belongs is an error, not "matches nothing".
                            #"{"views":{"$gt":{"a":1}}}"#, #"{"views":{"$lt":[1]}}"#, #"{"views":{"$ne":{"a":1}}}"#,
                            #"{"title":{"$includes":{"x":"y"}}}"#, #"{"category":{"title":{"$startsWith":["N"]}}}"#,
                            #"{"views":{"$in":[1,{"a":1}]}}"#,
                            #"{"at":{"$dateOn":"2026-11-31"}}"#, #"{"at":{"$dateBetween":"2026"}}"#]

    @Test(arguments: malformed)
    func rejectsMalformedFilters(filter: String) throws {
        let json = try JSON.parse(filter)
        #expect(throws: FilterError.self) { try Filter.parse(json) }
    }
}
