import Testing
import JSON

/// `JSONObject` keeps insertion order, small (searched) and large (indexed) alike.
struct JSONObjectTests {
    @Test(arguments: [3, 40]) func keepsOrder_findsReplacesAndRemovesKeys(count: Int) {
        var object = JSONObject()
        for i in 0..<count { object["k\(i)"] = .int(Int64(i)) }
        #expect(object.keys == (0..<count).map { "k\($0)" })
        object["k1"] = "replaced"
        #expect(object["k1"] == "replaced" && object.count == count, "replaced in place")
        #expect(object.removeValue(forKey: "k0") == .int(0))
        #expect(object["k0"] == nil && object.count == count - 1)
        #expect(object["k\(count - 1)"] == .int(Int64(count - 1)), "found after a removal")
        object["k0"] = .bool(true)
        #expect(object.keys.last == "k0", "a key set again goes last")
        #expect(Array(object).map(\.key) == object.keys)
    }

    @Test func equalityAndHashIgnoreKeyOrder() {
        let a: JSONObject = ["x": 1, "y": [1, 2], "z": ["n": nil]]
        let b: JSONObject = ["z": ["n": nil], "x": 1, "y": [1, 2]]
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": [2, 1], "z": ["n": nil]])
        #expect(a != ["x": 1, "y": [1, 2]])
    }
}
