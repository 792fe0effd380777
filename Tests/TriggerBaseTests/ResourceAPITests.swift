import Foundation
import JSON
import Testing

/// Spec 02 over HTTP: every action, parameter and error, checked in responses and in the database.
@Suite struct ResourceAPITests {
    @Test func createWithNestedNewCategoryEmbedsItAndWritesBothRows() throws {
        try withTestApp { app in
            let r = try app.client().request("POST", "/api/posts:create", body: #"{"title":"Hello","secret":"s","category":{"title":"Releases"}}"#)
            #expect(r.status == 200)
            let data = try #require(r.json["data"])
            #expect(data["title"]?.stringValue == "Hello")
            #expect(data["category"]?["title"]?.stringValue == "Releases")
            #expect(data["secret"] == nil, "hidden fields never come back")
            #expect(data["views"] == .int(0), "default applied")
            #expect(try app.rows("SELECT c.title FROM posts p JOIN categories c ON c.id = p.categoryId")[0]["title"] == "Releases")
        }
    }

    @Test func toOneValuesLinkByIdOrObjectWithId() throws {
        try withTestApp { app in
            let client = try app.client()
            #expect(try client.request("POST", "/api/posts", body: #"{"title":"a","category":2}"#).json["data"]?["categoryId"] == .int(2))
            #expect(try client.request("POST", "/api/posts", body: #"{"title":"b","category":{"id":1}}"#).json["data"]?["categoryId"] == .int(1))
            #expect(try app.count("categories") == 2)
        }
    }

    @Test func toManyArraysCreateAndLinkChildren() throws {
        try withTestApp { app in
            let r = try app.client().request("POST", "/api/posts:create", body: #"{"title":"p","comments":[{"body":"one"},{"body":"two"}],"tags":[1,{"name":"new"}]}"#)
            #expect(r.status == 200)
            #expect(r.json["data"]?["comments"]?.arrayValue?.count == 2)
            #expect(r.json["data"]?["tags"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() == ["new", "swift"])
            #expect(try app.count("comments") == 2)
            #expect(try app.count("posts_tags") == 2)
        }
    }

    @Test func badNestedValueWritesNothing() throws {
        try withTestApp { app in
            let r = try app.client().request("POST", "/api/posts:create", body: #"{"title":"p","category":{"title":"X"},"comments":[{"body":"ok"},{"nope":1}]}"#)
            #expect(r.status == 400)
            #expect(r.json["errors"]?[path: ["0", "code"]] == "VALIDATION_ERROR")
            #expect(try app.count("posts") == 0)
            #expect(try app.count("categories") == 2)
            #expect(try app.count("comments") == 0)
        }
    }

    @Test func bulkCreateIsAllOrNothing() throws {
        try withTestApp { app in
            let client = try app.client()
            let ok = try client.request("POST", "/api/posts:create", body: #"[{"title":"a"},{"title":"b"},{"title":"c"}]"#)
            #expect(ok.json["data"]?.arrayValue?.count == 3)
            let bad = try client.request("POST", "/api/posts:create", body: #"[{"title":"d"},{"title":7}]"#)
            #expect(bad.status == 400)
            #expect(bad.json["errors"]?[path: ["0", "field"]] == "[1].title")
            #expect(try app.count("posts") == 3)
        }
    }

    static let invalid: [(String, String, String)] = [
        (#"{"content":"no title"}"#, "title", "VALIDATION_ERROR"),
        (#"{"title":5}"#, "title", "VALIDATION_ERROR"),
        (#"{"title":"\#(String(repeating: "x", count: 256))"}"#, "title", "VALIDATION_ERROR"),
        (#"{"title":"t","nope":1}"#, "nope", "VALIDATION_ERROR"),
        (#"{"title":"t","views":1.5}"#, "views", "VALIDATION_ERROR"),
        (#"{"title":"t","published":"yes"}"#, "published", "VALIDATION_ERROR"),
        (#"{"title":"t","day":"2026-13-01"}"#, "day", "VALIDATION_ERROR"),
        (#"{"title":"t","at":"yesterday"}"#, "at", "VALIDATION_ERROR"),
        (#"{"title":"t","category":99}"#, "category", "VALIDATION_ERROR"),
    ]

    @Test(arguments: invalid, [false, true])
    func invalidValuesAre400NamingTheFieldAndWriteNothing(invalid: (body: String, field: String, code: String), warm: Bool) throws {
        let (body, field, code) = invalid
        try withTestApp { app in
            let client = try app.client()
            // A warm authentication cache takes the event-loop fast path for creates; a cold one does not.
            if warm { _ = try client.request("GET", "/api/posts:list") }
            let r = try client.request("POST", "/api/posts:create", body: body)
            #expect(r.status == 400)
            #expect(r.json["errors"]?[path: ["0", "code"]]?.stringValue == code)
            #expect(r.json["errors"]?.arrayValue?.contains { $0["field"]?.stringValue == field } == true)
            #expect(try app.count("posts") == 0)
        }
    }

    @Test func valuesOfEveryTypeRoundTrip() throws {
        try withTestApp { app in
            let r = try app.client().request("POST", "/api/posts:create", body:
                #"{"title":"t","views":3,"score":2.5,"published":true,"day":"2026-11-22","at":"2026-11-22T15:31:00+01:00","meta":{"a":[1,"x"]}}"#)
            let data = try #require(r.json["data"])
            #expect(data["views"] == .int(3))
            #expect(data["score"] == .double(2.5))
            #expect(data["published"] == .bool(true))
            #expect(data["day"] == "2026-11-22")
            #expect(data["at"] == "2026-11-22T14:31:00.000Z")
            #expect(data["meta"] == ["a": [1, "x"]])
        }
    }

    /// A create answers the record built from what it inserted (no read back): it must be what a
    /// read answers, for every type and on every backend.
    @Test func theCreateAnswerIsTheRecordAsStored() throws {
        try withTestApp { app in
            let client = try app.client()
            for (collection, body) in [
                ("posts", #"{"title":"t","content":"c","score":2,"published":false,"day":"2026-11-22","at":"2026-11-22T15:31:00Z","meta":[1,{"b":null}],"secret":"s","category":1}"#),
                ("posts", #"{"title":"only the required one"}"#),
                ("comments", #"{"body":"b","post":{"title":"nested"}}"#),
            ] {
                let created = try client.request("POST", "/api/\(collection):create", body: body)
                #expect(created.status == 200)
                let data = try #require(created.json["data"]?.objectValue)
                let id = try #require(data["id"]?.intValue)
                let read = try client.request("GET", "/api/\(collection):get?filterByTk=\(id)")
                var stored = try #require(read.json["data"]?.objectValue)
                if collection == "comments" { stored["post"] = data["post"] }  // embedded by the create only
                #expect(data == stored, "\(collection) \(body)")
                #expect(data["secret"] == nil)
            }
        }
    }

    @Test func uniqueViolationIs409_onBothPaths() throws {
        try withTestApp { app in
            let client = try app.client()
            #expect(try client.request("POST", "/api/categories:create", body: #"{"title":"News"}"#).status == 409)
            let r = try client.request("POST", "/api/categories:create", body: #"{"title":"News"}"#)
            #expect(r.status == 409)
            #expect(r.json["errors"]?[path: ["0", "code"]] == "UNIQUE_VIOLATION")
            #expect(r.json["errors"]?[path: ["0", "field"]] == "title")
        }
    }

    @Test func listFiltersSortsPagesAndProjects() throws {
        try withTestApp { app in
            let client = try app.client()
            for i in 1...25 {
                _ = try client.request("POST", "/api/posts", body: #"{"title":"post \#(i)","views":\#(i),"category":\#(i % 2 + 1)}"#)
            }
            let page = try client.request("GET", "/api/posts:list?page=2&pageSize=10&sort=-views")
            #expect(page.json["meta"] == ["count": 25, "page": 2, "pageSize": 10, "totalPage": 3])
            #expect(page.json["data"]?[path: ["0", "views"]] == .int(15))
            let filter = #"{"$and":[{"views":{"$gte":10}},{"category.title":"News"}]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let filtered = try client.request("GET", "/api/posts:list?paginate=false&filter=\(filter)&fields=id,views")
            let views = filtered.json["data"]?.arrayValue?.compactMap { $0["views"]?.intValue } ?? []
            #expect(views == [10, 12, 14, 16, 18, 20, 22, 24])
            #expect(filtered.json["data"]?[path: ["0"]]?.objectValue?.keys == ["id", "views"])
            let except = try client.request("GET", "/api/posts:list?pageSize=1&except=content,meta&appends=category")
            #expect(except.json["data"]?[path: ["0", "content"]] == nil)
            #expect(except.json["data"]?[path: ["0", "category", "title"]] != nil)
            let capped = try client.request("GET", "/api/posts:list?pageSize=5000")
            #expect(capped.json["meta"]?["pageSize"] == .int(1000))
            // Found by schemathesis: (page - 1) * pageSize overflowed and trapped the server.
            let huge = try client.request("GET", "/api/posts:list?page=2432902008176639999")
            #expect(huge.status == 400 && huge.json["errors"]?[path: ["0", "field"]] == "page", "\(huge.text)")
            #expect(try client.request("GET", "/api/posts:list?page=4").status == 200)
        }
    }

    static let operators: [(String, [Int64])] = [
        (#"{"views":3}"#, [3]), (#"{"views":{"$ne":3}}"#, [1, 2, 4]), (#"{"views":{"$gt":2}}"#, [3, 4]),
        (#"{"views":{"$lte":2}}"#, [1, 2]), (#"{"views":{"$in":[1,4]}}"#, [1, 4]), (#"{"views":{"$notIn":[1,4]}}"#, [2, 3]),
        (#"{"title":{"$includes":"bc"}}"#, [1, 2]), (#"{"title":{"$notIncludes":"bc"}}"#, [3, 4]),
        (#"{"title":{"$startsWith":"ab"}}"#, [1]), (#"{"title":{"$endsWith":"cd"}}"#, [2]),
        (#"{"content":{"$empty":true}}"#, [2, 3]), (#"{"content":{"$notEmpty":true}}"#, [1, 4]),
        (#"{"content":{"$exists":true}}"#, [1, 3, 4]), (#"{"content":{"$notExists":true}}"#, [2]),
        (#"{"$or":[{"views":1},{"title":"xyz"}]}"#, [1, 3]), (#"{"comments.body":"hi"}"#, [4]),
        (#"{"category":{"title":{"$eq":"Guides"}}}"#, [2]),
    ]

    @Test(arguments: operators)
    func everyFilterOperatorSelectsTheRightRecords(filter: String, expected: [Int64]) throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"{"title":"abc","views":1,"content":"x"}"#)
            _ = try client.request("POST", "/api/posts", body: #"{"title":"bcd","views":2,"category":2}"#)
            _ = try client.request("POST", "/api/posts", body: #"{"title":"xyz","views":3,"content":""}"#)
            _ = try client.request("POST", "/api/posts", body: #"{"title":"zzz","views":4,"content":"y","comments":[{"body":"hi"}]}"#)
            let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let r = try client.request("GET", "/api/posts:list?filter=\(encoded)")
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json["data"]?.arrayValue?.compactMap { $0["id"]?.intValue } == expected)
        }
    }

    static let badParameters: [(String, String)] = [
        ("filter=%7Bnot%20json", "filter"), ("filter=%7B%22x%22%3A1%7D", "filter"),
        ("filter=%7B%22views%22%3A%7B%22%24foo%22%3A1%7D%7D", "filter"), ("filter=%7B%22%24in%22%3A1%7D", "filter"),
        ("filter=%7B%22views%22%3A%7B%22%24in%22%3A3%7D%7D", "filter"),
        ("filter=%7B%22views%22%3A%7B%22%24gt%22%3A%7B%22a%22%3A1%7D%7D%7D", "filter"),  // {"views":{"$gt":{"a":1}}}, issue 13
        ("filter=%7B%22title%3B%20DROP%20TABLE%20posts%22%3A1%7D", "filter"),
        ("sort=title;DROP%20TABLE%20posts", "sort"), ("sort=secret", "sort"), ("sort=%22id%22", "sort"),
        ("fields=id,nope", "fields"), ("except=1=1", "except"), ("appends=title", "appends"),
        ("appends=category.nope", "appends"), ("page=0", "page"), ("pageSize=-1", "pageSize"),
    ]

    @Test(arguments: badParameters)
    func malformedOrUnknownNamesAre400AndNeverReachSQL(query: String, parameter: String) throws {
        try withTestApp { app in
            let r = try app.client().request("GET", "/api/posts:list?\(query)")
            #expect(r.status == 400)
            #expect(r.json["errors"]?[path: ["0", "code"]] == "INVALID_PARAMETER")
            #expect(r.json["errors"]?[path: ["0", "field"]]?.stringValue == parameter)
            #expect(try app.count("posts") == 0, "table still there")
        }
    }

    @Test func getAndRestAliasesAndNotFound() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"{"title":"one"}"#)
            #expect(try client.request("GET", "/api/posts:get?filterByTk=1").json["data"]?["title"] == "one")
            #expect(try client.request("GET", "/api/posts/1?appends=comments").json["data"]?["comments"] == [])
            let missing = try client.request("GET", "/api/posts:get?filterByTk=9")
            #expect(missing.status == 200 && missing.json["data"] == .null, "NocoBase's get answers null for a missing record")
            #expect(try client.request("GET", "/api/posts/9").json["data"] == .null)
            let noCollection = try client.request("GET", "/api/nothing:list")
            #expect(noCollection.status == 404)
            #expect(noCollection.json["errors"]?[path: ["0", "code"]] == "COLLECTION_NOT_FOUND")
            let badName = try client.request("GET", "/api/bad-name:list")
            #expect(badName.json["errors"]?[path: ["0", "code"]] == "INVALID_NAME")
        }
    }

    @Test func updateByIdByFilterAndMatchingNothing() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"[{"title":"a","views":1},{"title":"b","views":2},{"title":"c","views":3}]"#)
            let one = try client.request("POST", "/api/posts:update?filterByTk=1", body: #"{"title":"A"}"#)
            #expect(one.json["data"]?[path: ["0", "title"]] == "A", "update answers a list, also for one filterByTk")
            let rest = try client.request("PUT", "/api/posts/2", body: #"{"views":20}"#)
            #expect(rest.json["data"]?[path: ["0", "views"]] == .int(20))
            let filter = #"{"views":{"$gte":3}}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let many = try client.request("POST", "/api/posts:update?filter=\(filter)", body: #"{"content":"big"}"#)
            #expect(many.json["data"]?.arrayValue?.count == 2)
            let none = try client.request("POST", "/api/posts:update?filter=%7B%22views%22%3A99%7D", body: #"{"content":"x"}"#)
            #expect(none.status == 200 && none.json["data"] == [])
            let missing = try client.request("POST", "/api/posts:update?filterByTk=99", body: #"{"content":"x"}"#)
            #expect(missing.status == 200 && missing.json["data"] == [])
            #expect(try client.request("POST", "/api/posts:update?filterByTk=1", body: #"{"title":null}"#).status == 400)
            #expect(try client.request("POST", "/api/posts:update", body: #"{"content":"x"}"#).status == 400)
            #expect(try app.rows("SELECT title FROM posts WHERE id = 1")[0]["title"] == "A")
        }
    }

    @Test func destroyCountsAndNotFound() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"[{"title":"a"},{"title":"b"},{"title":"c"}]"#)
            #expect(try client.request("POST", "/api/posts:destroy?filterByTk=1,2").json["data"] == .int(2))
            #expect(try client.request("DELETE", "/api/posts/3").json["data"] == .int(1))
            let missing = try client.request("POST", "/api/posts:destroy?filterByTk=3")
            #expect(missing.status == 200 && missing.json["data"] == .int(0))
            #expect(try app.count("posts") == 0)
        }
    }

    /// Action URLs take the five methods NocoBase clients use; anything else, and a method outside a
    /// REST form's table, is 405 with `Allow`.
    @Test func wrongMethodIs405WithAllow() throws {
        try withTestApp { app in
            let r = try app.client().request("OPTIONS", "/api/posts:create")
            #expect(r.status == 405)
            #expect(r.headers["allow"] == "GET, POST, PUT, PATCH, DELETE")
            #expect(try app.client().request("HEAD", "/api/posts:create").status == 405, "HEAD never writes")
            #expect(try app.client().request("PATCH", "/api/posts").headers["allow"] == "GET, HEAD, POST")
            #expect(try app.count("posts") == 0)
        }
    }

    @Test func badBodiesAre400BadRequest() throws {
        try withTestApp { app in
            let client = try app.client()
            for body in ["{not json", "42", "", #"{"a":1,"a":2}"#] {
                let r = try client.request("POST", "/api/posts:create", body: body)
                #expect(r.status == 400)
                #expect(r.json["errors"]?[path: ["0", "code"]] == "BAD_REQUEST")
            }
        }
    }

    @Test func associationRoutesListAndCreateChildren() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"{"title":"p","comments":[{"body":"a"}]}"#)
            _ = try client.request("POST", "/api/posts", body: #"{"title":"q","comments":[{"body":"b"}]}"#)
            let created = try client.request("POST", "/api/posts/1/comments:create", body: #"{"body":"c"}"#)
            #expect(created.json["data"]?["postId"] == .int(1))
            let list = try client.request("GET", "/api/posts/1/comments:list")
            #expect(list.json["data"]?.arrayValue?.compactMap { $0["body"]?.stringValue } == ["a", "c"])
            #expect(try client.request("GET", "/api/posts/9/comments:list").status == 404)
        }
    }

    @Test func sixtyFourConcurrentClientsAllCreate() throws {
        try withTestApp { app in
            let port = app.port, token = app.rootToken
            DispatchQueue.concurrentPerform(iterations: 64) { i in
                guard let client = try? HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(token)"]) else { return }
                for j in 0..<5 { _ = try? client.request("POST", "/api/posts:create", body: #"{"title":"c\#(i)-\#(j)"}"#) }
            }
            #expect(try app.count("posts") == 320)
            let ids = try app.rows("SELECT count(DISTINCT id) AS n, min(id) AS lo, max(id) AS hi FROM posts")[0]
            #expect(ids["n"] == "320" && ids["lo"] == "1" && ids["hi"] == "320")
        }
    }
}
