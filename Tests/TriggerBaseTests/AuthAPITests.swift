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
            _ = try ann.request("GET", "/api/posts:list")  // warm the authentication cache: creates take the fast path
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
            // Outside the scope looks exactly like missing: null, [] and 0.
            #expect(try bob.request("GET", "/api/posts:get?filterByTk=\(annID)").json["data"] == .null)
            #expect(try bob.request("POST", "/api/posts:update?filterByTk=\(annID)", body: #"{"title":"x"}"#).json["data"] == [])
            #expect(try bob.request("POST", "/api/posts:destroy?filterByTk=\(annID)").json["data"] == .int(0))
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

extension AuthAPITests {
    @Test func signInGivesATokenAndWrongPasswordOrAccountLookTheSame() throws {
        try withTestApp(seed: Self.seed) { app in
            let anonymous = try client(app, nil)
            let ok = try anonymous.request("POST", "/api/auth:signIn", body: #"{"account":"ann","password":"secret-ann"}"#)
            #expect(ok.status == 200)
            #expect(ok.json["data"]?[path: ["user", "username"]] == "ann")
            #expect(ok.json["data"]?[path: ["user", "password"]] == nil)
            let token = try #require(ok.json["data"]?["token"]?.stringValue)
            #expect(try client(app, token).request("GET", "/api/posts:list").status == 200)
            let wrongPassword = try anonymous.request("POST", "/api/auth:signIn", body: #"{"account":"ann","password":"nope"}"#)
            let unknown = try anonymous.request("POST", "/api/auth:signIn", body: #"{"account":"nobody","password":"nope"}"#)
            #expect(wrongPassword.status == 401 && unknown.status == 401)
            #expect(wrongPassword.text == unknown.text.replacingOccurrences(of: "nobody", with: "ann"))
            #expect(code(wrongPassword) == "INVALID_CREDENTIALS")
            let signOut = try client(app, token).request("POST", "/api/auth:signOut")
            #expect(signOut.status == 200 && signOut.json == ["data": nil])
            #expect(code(try client(app, token).request("GET", "/api/posts:list")) == "BLOCKED_TOKEN")
        }
    }

    @Test func apiKeysAreShownOnceListedWithoutTokenAndRevocable() throws {
        try withTestApp(seed: Self.seed) { app in
            let ann = try client(app, Self.ann)
            let created = try ann.request("POST", "/api/apiKeys:create", body: #"{"name":"ci","role":"member","expiresIn":"30d"}"#)
            #expect(created.status == 200)
            let data = try #require(created.json["data"])
            #expect(data.objectValue?.keys.sorted() == ["expiresAt", "id", "name", "role", "token"])
            let token = try #require(data["token"]?.stringValue)
            let list = try ann.request("GET", "/api/apiKeys:list")
            #expect(list.json["data"]?.arrayValue?.allSatisfy { $0["token"] == nil } == true)
            #expect(!list.text.contains(token))
            #expect(try client(app, token, role: "editor").request("GET", "/api/posts:list").status == 200)
            let forbidden = try ann.request("POST", "/api/apiKeys:create", body: #"{"name":"x","role":"admin"}"#)
            #expect(forbidden.status == 403 && code(forbidden) == "NO_PERMISSION")
            let id = try #require(data["id"]?.intValue)
            #expect(try ann.request("POST", "/api/apiKeys:destroy?filterByTk=\(id)").status == 200)
            #expect(code(try client(app, token).request("GET", "/api/posts:list")) == "BLOCKED_TOKEN")
        }
    }

    @Test func expiredKeyIsRefused() throws {
        try withTestApp(seed: Self.seed) { app in
            let created = try client(app, Self.ann).request("POST", "/api/apiKeys:create", body: #"{"name":"short","role":"member","expiresIn":"1s"}"#)
            let token = try #require(created.json["data"]?["token"]?.stringValue)
            usleep(1_200_000)
            #expect(code(try client(app, token).request("GET", "/api/posts:list")) == "EXPIRED_SESSION")
        }
    }

    @Test func usersAndRolesManagement() throws {
        try withTestApp(seed: Self.seed) { app in
            let root = try app.client()
            let created = try root.request("POST", "/api/users:create", body:
                #"{"username":"cat","email":"cat@example.com","password":"correct horse","roles":["member","editor"],"defaultRole":"editor"}"#)
            #expect(created.status == 200)
            #expect(created.json["data"]?["defaultRole"] == "editor")
            #expect(created.json["data"]?["password"] == nil)
            #expect(!(try root.request("GET", "/api/users:list")).text.contains("pbkdf2"))
            let catID = try #require(created.json["data"]?["id"]?.intValue)
            let signIn = try client(app, nil).request("POST", "/api/auth:signIn", body: #"{"account":"cat@example.com","password":"correct horse"}"#)
            let catToken = try #require(signIn.json["data"]?["token"]?.stringValue)
            #expect(try root.request("POST", "/api/users:update?filterByTk=\(catID)", body: #"{"roles":[]}"#).status == 200)
            #expect(code(try client(app, catToken).request("GET", "/api/posts:list")) == "USER_HAS_NO_ROLES_ERR")
            #expect(try root.request("POST", "/api/users:destroy?filterByTk=\(catID)").status == 200)
            #expect(code(try client(app, catToken).request("GET", "/api/posts:list")) == "NOT_EXIST_USER")
            #expect(try root.request("POST", "/api/roles:update?filterByTk=root", body: #"{"permissions":{}}"#).status == 403)
            #expect(code(try root.request("POST", "/api/roles:destroy?filterByTk=editor")) == "ROLE_IN_USE")
            let role = try root.request("POST", "/api/roles:create", body: #"{"name":"viewer","permissions":{"posts":{"view":{}}}}"#)
            #expect(role.json["data"]?[path: ["permissions", "posts", "view"]] == [:])
            #expect(try root.request("POST", "/api/roles:destroy?filterByTk=viewer").status == 200)
            #expect(try client(app, Self.ann).request("GET", "/api/users:list").status == 403)
            #expect(code(try client(app, nil).request("GET", "/api/roles:list")) == "EMPTY_TOKEN")
        }
    }
}
