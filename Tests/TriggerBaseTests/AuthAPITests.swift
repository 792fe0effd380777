import Foundation
import JSON
import Testing

/// Spec 03 over HTTP: 401 codes, 403 NO_PERMISSION / FIELD_NOT_ALLOWED, own scope, X-Role, API keys.
@Suite struct AuthAPITests {
    static let ann = "tb_test_ann_0123456789abcdef"
    static let annKey = "tb_test_annkey_0123456789abcdef"
    static let bob = "tb_test_bob_0123456789abcdef"

    static let seed = """
    { "collections": [
        { "name": "categories", "fields": [ { "name": "title", "type": "string" } ] },
        { "name": "posts", "fields": [ { "name": "title", "type": "string" }, { "name": "content", "type": "text" },
                                       { "name": "secret", "type": "string" },
                                       { "name": "category", "type": "belongsTo", "target": "categories" } ] } ],
      "roles": [
        { "name": "member", "permissions": { "posts": { "create": { "fields": ["title", "content", "category"] },
                                                        "view": { "scope": "own" }, "update": { "scope": "own" },
                                                        "destroy": { "scope": "own" } },
                                             "categories": { "view": {} } } },
        { "name": "editor", "permissions": { "posts": { "view": {}, "update": {} } } } ],
      "users": [
        { "username": "ann", "password": "secret-ann", "roles": ["member", "editor"], "defaultRole": "member",
          "tokens": [ { "token": "\(ann)" }, { "token": "\(annKey)", "role": "member" } ] },
        { "username": "bob", "roles": ["member"], "tokens": [ { "token": "\(bob)" } ] } ],
      "records": { "categories": [ { "id": 1, "title": "News" } ] } }
    """

    func client(_ app: TestApp, _ token: String?, role: String? = nil) throws -> HTTPTestClient {
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if let role { headers["X-Role"] = role }
        return try HTTPTestClient(port: app.port, defaultHeaders: headers)
    }

    func code(_ r: HTTPTestClient.Response) -> String? { r.json["errors"]?[path: ["0", "code"]]?.stringValue }

    @Test func unauthenticatedAndBadTokensAre401WithTheirCodes() throws {
        try withTestApp(seed: Self.seed) { app in
            let none = try client(app, nil).request("GET", "/api/posts:list")
            #expect(none.status == 401 && code(none) == "EMPTY_TOKEN")
            let invalid = try client(app, "tb_not_a_real_token_at_all_xx").request("GET", "/api/posts:list")
            #expect(invalid.status == 401 && code(invalid) == "INVALID_TOKEN")
            let role = try client(app, Self.bob, role: "editor").request("GET", "/api/posts:list")
            #expect(role.status == 401 && code(role) == "ROLE_NOT_FOUND_FOR_USER")
            let query = try client(app, nil).request("GET", "/api/posts:list?token=\(Self.bob)")
            #expect(query.status == 200, "token from the query string")
            #expect(try client(app, nil).request("GET", "/health").status == 200, "health stays open")
        }
    }

    @Test func deniedActionsAre403AndChangeNothing() throws {
        try withTestApp(seed: Self.seed) { app in
            let ann = try client(app, Self.ann)
            let destroy = try ann.request("POST", "/api/categories:destroy?filterByTk=1")
            #expect(destroy.status == 403 && code(destroy) == "NO_PERMISSION")
            let field = try ann.request("POST", "/api/posts:create", body: #"{"title":"t","secret":"s"}"#)
            #expect(field.status == 403 && code(field) == "FIELD_NOT_ALLOWED")
            #expect(field.json["errors"]?[path: ["0", "field"]] == "secret")
            let nested = try ann.request("POST", "/api/posts:create", body: #"{"title":"t","category":{"title":"New"}}"#)
            #expect(nested.status == 403 && code(nested) == "NO_PERMISSION", "nested create needs create on categories")
            let manage = try ann.request("GET", "/api/collections:list")
            #expect(manage.status == 403)
            #expect(try app.count("posts") == 0)
            #expect(try app.count("categories") == 1)
        }
    }

    @Test func ownScopeHidesOtherUsersRecords() throws {
        try withTestApp(seed: Self.seed) { app in
            let ann = try client(app, Self.ann), bob = try client(app, Self.bob)
            let mine = try ann.request("POST", "/api/posts", body: #"{"title":"ann's","category":1}"#)
            #expect(mine.status == 200)
            let annID = try #require(mine.json["data"]?["id"]?.intValue)
            let annUser = try app.rows("SELECT id FROM users WHERE username = 'ann'")[0]["id"]
            #expect(mine.json["data"]?["createdById"]?.intValue.map(String.init) == annUser)
            _ = try bob.request("POST", "/api/posts", body: #"{"title":"bob's"}"#)
            let list = try ann.request("GET", "/api/posts:list")
            #expect(list.json["data"]?.arrayValue?.compactMap { $0["title"]?.stringValue } == ["ann's"])
            #expect(try bob.request("GET", "/api/posts:get?filterByTk=\(annID)").status == 404)
            #expect(try bob.request("POST", "/api/posts:update?filterByTk=\(annID)", body: #"{"title":"x"}"#).status == 404)
            #expect(try bob.request("POST", "/api/posts:destroy?filterByTk=\(annID)").status == 404)
            #expect(try app.rows("SELECT title FROM posts WHERE id = \(annID)")[0]["title"] == "ann's")
        }
    }

    @Test func xRoleSwitchesWhatIsAllowed_butAPinnedKeyIgnoresIt() throws {
        try withTestApp(seed: Self.seed) { app in
            _ = try client(app, Self.bob).request("POST", "/api/posts", body: #"{"title":"bob's"}"#)
            let asMember = try client(app, Self.ann).request("GET", "/api/posts:list")
            #expect(asMember.json["meta"]?["count"] == .int(0))
            let asEditor = try client(app, Self.ann, role: "editor").request("GET", "/api/posts:list")
            #expect(asEditor.json["meta"]?["count"] == .int(1))
            #expect(try client(app, Self.ann, role: "editor").request("POST", "/api/posts:update?filterByTk=1", body: #"{"title":"edited"}"#).status == 200)
            #expect(try client(app, Self.ann, role: "editor").request("POST", "/api/posts:create", body: #"{"title":"x"}"#).status == 403)
            let key = try client(app, Self.annKey, role: "editor").request("GET", "/api/posts:list")
            #expect(key.status == 200 && key.json["meta"]?["count"] == .int(0), "pinned to member whatever X-Role says")
            let admin = try client(app, Self.annKey, role: "admin").request("GET", "/api/posts:list")
            #expect(admin.status == 200 && admin.json["meta"]?["count"] == .int(0))
        }
    }

    @Test func seededPasswordsAreStoredOnlyAsSlowHashes() throws {
        try withTestApp(seed: Self.seed) { app in
            let stored = try app.rows("SELECT password FROM users WHERE username = 'ann'")[0]["password"] ?? ""
            #expect(stored.hasPrefix("pbkdf2-sha256$"))
            #expect(!stored.contains("secret-ann"))
            let tokens = try app.rows("SELECT digest FROM tokens").compactMap { $0["digest"] }
            #expect(!tokens.contains(Self.ann))
        }
    }
}
