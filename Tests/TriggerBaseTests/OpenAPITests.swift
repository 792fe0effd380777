import Foundation
import JSON
import Testing

/// `/api/openapi.json` and the route table it is generated from (issue 7): the committed contract
/// is the server's, every documented operation is routed, and what the table lacks is refused.
@Suite struct OpenAPITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A server seeded like `bench/schemathesis.sh`: the workflows and approval examples.
    static func withExamplesApp(_ body: (TestApp) throws -> Void) throws {
        let app = try TestApp(seed: nil)
        for example in ["workflows", "approval"] {
            _ = try app.application.applySeedFile(repository.appendingPathComponent("examples/\(example).seed.json").path)
        }
        try body(app)
    }

    /// `schema/openapi.json` is what the server answers for the examples' seeds. To refresh it after
    /// a route or catalogue change: `UPDATE_OPENAPI=1 swift test --filter OpenAPITests`.
    @Test func theCommittedContractIsTheServersDocument() throws {
        try Self.withExamplesApp { app in
            let served = try app.anonymousClient().request("GET", "/api/openapi.json")
            #expect(served.status == 200)
            let file = Self.repository.appendingPathComponent("schema/openapi.json")
            let pretty = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(served.body)),
                                                   options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            if ProcessInfo.processInfo.environment["UPDATE_OPENAPI"] == "1" { try (pretty + Data("\n".utf8)).write(to: file) }
            let committed = try JSON.parse(Array(try Data(contentsOf: file)))
            let same = committed == served.json  // compared apart, so a failure does not print both documents
            #expect(same, "schema/openapi.json is stale: UPDATE_OPENAPI=1 swift test --filter OpenAPITests")
        }
    }

    /// Every operation of the document reaches a handler: no 405, and no 404 for an unknown route
    /// or action. Path parameters take values that exist in the examples.
    @Test func everyDocumentedOperationIsRouted() throws {
        try Self.withExamplesApp { app in
            let client = try app.client()
            #expect(try client.request("POST", "/api/posts:create", body: #"{"title":"Hello"}"#).status == 200)
            let document = try client.request("GET", "/api/openapi.json").json
            var operations: [(String, String)] = []
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                for (method, _) in item.objectValue ?? [:] { operations.append((method.uppercased(), path)) }
            }
            #expect(operations.count > 120)
            // Signing out revokes the token every other call uses: last.
            operations.sort { ($0.1.hasSuffix("auth:signOut") ? 1 : 0, $0.1, $0.0) < ($1.1.hasSuffix("auth:signOut") ? 1 : 0, $1.1, $1.0) }
            for (method, path) in operations {
                let target = path.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(of: "{collection}", with: "posts")
                    .replacingOccurrences(of: "{definitionId}", with: "approvalWorkflow")
                let response = try client.request(method, target + (path.hasSuffix("processinstance") && method == "POST" ? "?_action=create" : ""),
                                                  body: method == "GET" ? nil : "{}")
                let message = response.json["errors"]?[path: ["0", "message"]]?.stringValue ?? ""
                #expect(response.status != 405, "\(method) \(target): \(response.text)")
                #expect(!(response.status == 404 && (message.hasPrefix("no route") || message.hasPrefix("unknown action"))),
                        "\(method) \(target): \(response.text)")
            }
        }
    }

    /// An action the route table lacks is 404 and does nothing. `posts:view` used to pass the
    /// permission check (as the `view` permission) and fall through to destroy.
    @Test func actionsOutsideTheTableAreRefusedAndChangeNothing() throws {
        try withTestApp { app in
            let client = try app.client()
            #expect(try client.request("POST", "/api/posts:create", body: #"{"title":"Keep me"}"#).status == 200)
            for action in ["view", "drop", "invokeWorkflow"] {
                let response = try client.request("GET", "/api/posts:\(action)?filterByTk=1")
                #expect(response.status == 404 || response.status == 405, "\(action): \(response.text)")
            }
            #expect(try client.request("GET", "/api/posts:view?filterByTk=1").status == 404)
            #expect(try app.count("posts") == 1)

            let trace = try client.request("TRACE", "/metrics")
            #expect(trace.status == 405 && trace.headers["allow"] == "GET, HEAD")
            for path in ["/health", "/api/openapi.json"] {
                let post = try client.request("POST", path, body: "{}")
                #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD", "\(path): \(post.text)")
            }
            let wrongMethod = try client.request("TRACE", "/api/executions:cancel?filterByTk=1")
            #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "GET, POST, PUT, PATCH, DELETE")
        }
    }

    /// Bodies and parameters of the wrong type that schemathesis found accepted (and silently
    /// dropped) are 400 now, and write nothing.
    @Test func wrongTypesFoundBySchemathesisAreRefused() throws {
        try withTestApp { app in
            let client = try app.client()
            let users = try app.count("users")
            #expect(try client.request("POST", "/api/users:create", body: #"{"username":"x","roles":[{}]}"#).status == 400)
            #expect(try client.request("POST", "/api/users:create", body: #"{"username":"x","password":5}"#).status == 400)
            #expect(try app.count("users") == users)
            #expect(try client.request("POST", "/api/roles:create", body: #"{"name":"r","title":{}}"#).status == 400)
            #expect(try app.rows("SELECT name FROM roles WHERE name = 'r'").isEmpty)
            #expect(try client.request("POST", "/api/workflows:create", body: #"{"title":{}}"#).status == 400)
            #expect(try client.request("POST", "/api/workflows:create", body: #"{"key":5}"#).status == 400)
            #expect(try app.count("workflows") == 0)
            let scalarWithTarget = #"{"name":"things","fields":[{"name":"a","type":"string","target":"posts","foreignKey":"bad name"}]}"#
            #expect(try client.request("POST", "/api/collections:create", body: scalarWithTarget).status == 400)
            #expect(try app.tableNames(like: "things").isEmpty)
            let selfLinked = #"{"name":"nodes","fields":[{"name":"peers","type":"belongsToMany","target":"nodes"}]}"#
            let refused = try client.request("POST", "/api/collections:create", body: selfLinked)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(try app.tableNames(like: "nodes%").isEmpty)
            let paginate = try client.request("GET", "/api/posts:list?paginate=maybe")
            #expect(paginate.status == 400 && paginate.json["errors"]?[path: ["0", "field"]] == "paginate")
        }
    }
}
