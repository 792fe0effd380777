import Foundation
import JSON
import Testing

/// Spec 02, "NocoBase wire compatibility": NocoBase's clients, used unchanged. Each test is named
/// after the NocoBase behaviour it pins; the source file it comes from is in its comment.
@Suite struct NocoBaseWireTests {
    // MARK: resourcer/src/utils.ts parseRequest: the action comes from `:<action>`, not the method

    /// `GET /api/posts:create` with a JSON body creates, and fires a named and a global workflow as a
    /// POST would (koa-bodyparser parses the body whatever the method).
    @Test func getWithAnActionSuffixCreatesAndFiresNamedAndGlobalWorkflows() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"notify","enabled":true,"config":{"collection":"posts"},"nodes":[]}"#)
            try client.createWorkflow(#"{"key":"audit","enabled":true,"config":{"collection":"posts","global":true,"actions":["create"]},"nodes":[]}"#)
            let created = try client.request("GET", "/api/posts:create?triggerWorkflows=notify", body: #"{"title":"by GET"}"#)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json["data"]?["title"] == "by GET")
            #expect(created.executionIDs.count == 2)
            #expect(try app.rows("SELECT key FROM executions ORDER BY id").map { $0["key"]! } == ["notify", "audit"])
            #expect(try app.count("posts") == 1)
        }
    }

    @Test func everyMethodRunsTheActionInTheURL() throws {
        try withTestApp { app in
            let client = try app.client()
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let created = try client.request(method, "/api/posts:create", body: #"{"title":"\#(method)"}"#)
                #expect(created.status == 200, "\(method): \(created.text)")
            }
            #expect(try app.count("posts") == 5)
            let updated = try client.request("GET", "/api/posts:update?filterByTk=1", body: #"{"title":"renamed"}"#)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(try app.rows("SELECT title FROM posts WHERE id = 1").first?["title"] == "renamed")
            #expect(try client.request("PUT", "/api/posts:list").json["meta"]?["count"] == .int(5))
            #expect(try client.request("DELETE", "/api/posts:get?filterByTk=2").json["data"]?["title"] == "POST")
            #expect(try client.request("GET", "/api/posts:destroy?filterByTk=2").status == 200)
            #expect(try app.count("posts") == 4)
        }
    }

    @Test func associationActionsIgnoreTheMethodToo() throws {
        try withTestApp { app in
            let client = try app.client()
            let post = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"p"}"#).json["data"]?["id"]?.intValue)
            let comment = try client.request("GET", "/api/posts/\(post)/comments:create", body: #"{"body":"hi"}"#)
            #expect(comment.status == 200, "\(comment.text)")
            #expect(try client.request("DELETE", "/api/posts/\(post)/comments:list").json["meta"]?["count"] == .int(1))
        }
    }

    // MARK: actions/get.ts, update.ts, destroy.ts: the answer shapes

    @Test func getOfAMissingRecordIsNullUpdateAnswersAListDestroyACount() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts:create", body: #"[{"title":"a"},{"title":"b"}]"#)
            let missing = try client.request("GET", "/api/posts:get?filterByTk=99")
            #expect(missing.status == 200 && missing.text == #"{"data":null}"#)
            let one = try client.request("POST", "/api/posts:update?filterByTk=1", body: #"{"title":"A"}"#)
            #expect(one.json["data"]?.arrayValue?.map { $0["title"] } == ["A"])
            let both = try client.request("POST", "/api/posts:update?filterByTk=1,2", body: #"{"views":7}"#)
            #expect(both.json["data"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [1, 2])
            #expect(try client.request("POST", "/api/posts:update?filterByTk=99", body: #"{"title":"x"}"#).text == #"{"data":[]}"#)
            #expect(try client.request("POST", "/api/posts:destroy?filterByTk=99").text == #"{"data":0}"#)
            #expect(try client.request("POST", "/api/posts:destroy?filterByTk=1&filterByTk=2").json["data"] == .int(2))
            #expect(try app.count("posts") == 0)
        }
    }

    // MARK: database/src/options-parser.ts: sort

    /// NULLs last in both directions; ties, and no sort at all, by id ascending.
    @Test func sortPutsNullsLastInBothDirectionsAndBreaksTiesById() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts:create", body:
                #"[{"title":"n1"},{"title":"s2","score":2},{"title":"s1","score":1},{"title":"n2"},{"title":"s2b","score":2}]"#)
            func titles(_ query: String) throws -> [String] {
                try client.request("GET", "/api/posts:list\(query)").json["data"]?.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []
            }
            #expect(try titles("?sort=score") == ["s1", "s2", "s2b", "n1", "n2"])
            #expect(try titles("?sort=-score") == ["s2", "s2b", "s1", "n1", "n2"])
            #expect(try titles("") == ["n1", "s2", "s1", "n2", "s2b"])
            #expect(try titles("?sort[]=-score&sort[]=-title") == ["s2b", "s2", "s1", "n2", "n1"], "qs brackets, as NocoBase's client sends arrays")
        }
    }

    // MARK: database/src/update-guard.ts: whitelist and blacklist

    @Test func whitelistKeepsOnlyAndBlacklistDropsTopLevelKeysSilently() throws {
        try withTestApp { app in
            let client = try app.client()
            let created = try client.request("POST", "/api/posts:create?whitelist=title,views", body: #"{"title":"t","views":3,"content":"dropped"}"#)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json["data"]?["views"] == .int(3) && created.json["data"]?["content"] == .null)
            let id = try #require(created.json["data"]?["id"]?.intValue)
            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(id)&blacklist=title", body: #"{"title":"kept out","content":"in"}"#)
            #expect(updated.json["data"]?[path: ["0", "title"]] == "t" && updated.json["data"]?[path: ["0", "content"]] == "in")
            #expect(try app.rows("SELECT title, content FROM posts").first == ["title": "t", "content": "in"])
            let bracket = try client.request("POST", "/api/posts:update?filterByTk=\(id)&whitelist[]=views", body: #"{"title":"no","views":9}"#)
            #expect(bracket.json["data"]?[path: ["0", "title"]] == "t" && bracket.json["data"]?[path: ["0", "views"]] == .int(9))
            let bulk = try client.request("POST", "/api/posts:create?blacklist=views", body: #"[{"title":"a","views":5},{"title":"b","views":6}]"#)
            #expect(bulk.json["data"]?.arrayValue?.map { $0["views"] } == [.int(0), .int(0)], "each item of a bulk create, views back to its default")
            // A whitelist entry with a path keeps its relation; an empty list is no list.
            let nested = try client.request("POST", "/api/posts:create?whitelist=title,category.title&appends=category", body: #"{"title":"c","views":4,"category":{"title":"Nested"}}"#)
            #expect(nested.json["data"]?[path: ["category", "title"]] == "Nested" && nested.json["data"]?["views"] == .int(0))
            #expect(try client.request("POST", "/api/posts:create?whitelist=", body: #"{"title":"all","views":8}"#).json["data"]?["views"] == .int(8))
        }
    }

    // MARK: actions/first-or-create.ts, update-or-create.ts

    @Test func firstOrCreateFindsByFilterKeysOrCreates() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"onCreate","enabled":true,"config":{"collection":"posts","global":true,"actions":["create"]},"nodes":[]}"#)
            let first = try client.request("POST", "/api/posts:firstOrCreate?filterKeys=title", body: #"{"title":"once","views":1}"#)
            #expect(first.status == 200, "\(first.text)")
            #expect(first.json["data"]?["views"] == .int(1) && first.executionIDs.count == 1)
            let again = try client.request("GET", "/api/posts:firstOrCreate?filterKeys[]=title", body: #"{"title":"once","views":2}"#)
            #expect(again.json["data"]?["id"] == first.json["data"]?["id"] && again.json["data"]?["views"] == .int(1), "found, not changed")
            #expect(again.executionIDs.isEmpty, "nothing was written, so nothing fires")
            #expect(try app.count("posts") == 1)
            #expect(try client.request("POST", "/api/posts:firstOrCreate", body: #"{"title":"x"}"#).errorCode == "INVALID_PARAMETER")
            #expect(try client.request("POST", "/api/posts:firstOrCreate?filterKeys=nope", body: #"{"title":"x"}"#).errorCode == "INVALID_PARAMETER")
        }
    }

    /// Updates the match and answers `[record]`, or creates and answers `record`, as NocoBase does.
    @Test func updateOrCreateUpdatesTheMatchAsAListOrCreatesARecord() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"onWrite","enabled":true,"config":{"collection":"posts","global":true,"actions":["create","update"]},"nodes":[]}"#)
            let created = try client.request("POST", "/api/posts:updateOrCreate?filterKeys=title", body: #"{"title":"k","views":1}"#)
            #expect(created.json["data"]?["views"] == .int(1) && created.json["data"]?.arrayValue == nil, "\(created.text)")
            let updated = try client.request("POST", "/api/posts:updateOrCreate?filterKeys=title", body: #"{"title":"k","views":5}"#)
            #expect(updated.json["data"]?.arrayValue?.map { $0["views"] } == [.int(5)], "\(updated.text)")
            #expect(try app.count("posts") == 1)
            let actions = try app.rows("SELECT context FROM executions ORDER BY id").count
            #expect(actions == 2, "one create, one update fired")
            // A missing filter key matches NULL: a post without content.
            let byNull = try client.request("POST", "/api/posts:updateOrCreate?filterKeys=title,content", body: #"{"title":"k","views":6}"#)
            #expect(byNull.json["data"]?.arrayValue?.first?["views"] == .int(6))
        }
    }

    // MARK: relation repositories: add, set, remove, toggle

    @Test func belongsToManyAddSetRemoveToggle() throws {
        try withTestApp { app in
            let client = try app.client()
            let post = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"p"}"#).json["data"]?["id"]?.intValue)
            _ = try client.request("POST", "/api/tags:create", body: #"{"name":"third"}"#)
            func tags() throws -> [Int64] {
                try app.rows("SELECT tagId FROM posts_tags WHERE postId = \(post) ORDER BY tagId").compactMap { Int64($0["tagId"]!) }
            }
            let added = try client.request("POST", "/api/posts/\(post)/tags:add?filterByTk=1,2")
            #expect(added.status == 200 && added.text == "{}", "\(added.text)")
            #expect(try tags() == [1, 2])
            #expect(try client.request("POST", "/api/posts/\(post)/tags:set", body: "[2,3]").status == 200)
            #expect(try tags() == [2, 3])
            #expect(try client.request("GET", "/api/posts/\(post)/tags:remove?filterByTk[]=3").status == 200)
            #expect(try tags() == [2])
            #expect(try client.request("POST", "/api/posts/\(post)/tags:toggle?filterByTk=2").json["data"] == "ok")
            #expect(try client.request("POST", "/api/posts/\(post)/tags:toggle?filterByTk=1").status == 200)
            #expect(try tags() == [1])
            let missing = try client.request("POST", "/api/posts/\(post)/tags:add?filterByTk=99")
            #expect(missing.status == 400 && missing.errorCode == "VALIDATION_ERROR")
            #expect(try tags() == [1], "a bad id changes nothing")
            #expect(try client.request("POST", "/api/posts/\(post)/tags:add").errorCode == "INVALID_PARAMETER")
        }
    }

    @Test func hasManyAndBelongsToLinks() throws {
        try withTestApp { app in
            let client = try app.client()
            let post = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"p"}"#).json["data"]?["id"]?.intValue)
            let comments = try #require(client.request("POST", "/api/comments:create", body: #"[{"body":"a"},{"body":"b"}]"#).json["data"]?.arrayValue)
            let ids = comments.compactMap { $0["id"]?.intValue }
            func linked() throws -> [String] { try app.rows("SELECT id FROM comments WHERE postId = \(post) ORDER BY id").map { $0["id"]! } }
            #expect(try client.request("POST", "/api/posts/\(post)/comments:add", body: "[\(ids[0]),\(ids[1])]").status == 200)
            #expect(try linked() == ids.map(String.init))
            #expect(try client.request("POST", "/api/posts/\(post)/comments:remove?filterByTk=\(ids[0])").status == 200)
            #expect(try linked() == [String(ids[1])])
            #expect(try app.count("comments") == 2, "unlinking keeps the comment")
            #expect(try client.request("POST", "/api/posts/\(post)/comments:set", body: "[]").status == 200)
            #expect(try linked().isEmpty)

            #expect(try client.request("POST", "/api/posts/\(post)/category:set?filterByTk=2").status == 200)
            #expect(try app.rows("SELECT categoryId FROM posts WHERE id = \(post)").first?["categoryId"] == "2")
            #expect(try client.request("POST", "/api/posts/\(post)/category:add?filterByTk=1").status == 400, "a to-one relation takes set or remove")
            #expect(try client.request("GET", "/api/posts/\(post)/category:create", body: #"{"title":"x"}"#).status == 404, "not in the route table")
            #expect(try client.request("POST", "/api/posts/\(post)/category:remove").status == 200)
            #expect(try app.rows("SELECT categoryId FROM posts WHERE id = \(post)").first?["categoryId"] == "NULL")
        }
    }

    // MARK: options-parser.ts: appends with nested paths, except with appends

    @Test func nestedAppendsAndExceptIntoAnAppendedRelation() throws {
        try withTestApp { app in
            let client = try app.client()
            let post = try #require(try client.request("POST", "/api/posts:create", body: #"{"title":"p","category":1,"comments":[{"body":"c"}]}"#).json["data"]?["id"]?.intValue)
            let comment = try client.request("GET", "/api/comments:list?appends=post.category&except=post.views")
            let embedded = comment.json["data"]?[path: ["0", "post"]]
            #expect(embedded?["id"] == .int(post) && embedded?[path: ["category", "title"]] == "News", "\(comment.text)")
            #expect(embedded?.objectValue?.keys.contains("views") == false && embedded?.objectValue?.keys.contains("title") == true)
            let got = try client.request("GET", "/api/posts:get?filterByTk=\(post)&appends=comments&except=comments.body,content")
            #expect(got.json["data"]?[path: ["comments", "0"]]?.objectValue?.keys.contains("body") == false)
            #expect(got.json["data"]?.objectValue?.keys.contains("content") == false)
            #expect(try client.request("GET", "/api/posts:list?except=comments.nope").errorCode == "INVALID_PARAMETER")
        }
    }
}
