import Foundation
import JSON
import Synchronization
import Testing

/// `/api/collections`, seeding and the system schema.
@Suite struct CollectionAPITests {
    @Test func createListGetAddFieldAndDestroy() throws {
        try withTestApp(seed: nil) { app in
            let client = try app.client()
            let created = try client.request("POST", "/api/collections:create", body: #"{"name":"notes","fields":[{"name":"text","type":"text"}]}"#)
            #expect(created.status == 200)
            #expect(created.json["data"]?["name"] == "notes")
            #expect(try client.request("POST", "/api/collections:create", body: #"{"name":"notes"}"#).status == 409)
            #expect(try client.request("GET", "/api/collections:list").json["meta"]?["count"] == .int(1))
            #expect(try client.request("GET", "/api/collections:get?filterByTk=notes").json["data"]?["fields"]?.arrayValue?.count == 1)
            #expect(try client.request("GET", "/api/collections:get?filterByTk=nope").status == 404)
            _ = try client.request("POST", "/api/notes", body: #"{"text":"hi"}"#)
            let field = try client.request("POST", "/api/collections/notes/fields:create", body: #"{"name":"pinned","type":"boolean","default":false}"#)
            #expect(field.status == 200)
            #expect(try client.request("POST", "/api/notes", body: #"{"text":"x","pinned":true}"#).json["data"]?["pinned"] == .bool(true))
            #expect(try app.columnNames("notes").contains("pinned"))
            #expect(try client.request("POST", "/api/collections:destroy?filterByTk=notes").status == 200)
            #expect(try client.request("GET", "/api/notes:list").status == 404)
            #expect(try app.tableNames(like: "notes").isEmpty)
        }
    }

    static let badDefinitions: [(String, String)] = [
        (#"{"name":"bad-name"}"#, "INVALID_NAME"),
        (#"{"name":"x; DROP TABLE collections"}"#, "INVALID_NAME"),
        (#"{"name":"users"}"#, "INVALID_NAME"),
        (#"{"name":"sqlite_anything"}"#, "INVALID_NAME"),
        (#"{"name":"SQLite_Stat1"}"#, "INVALID_NAME"),
        (#"{"name":"n","fields":[{"name":"t","type":"belongsToMany","target":"n2","through":"sqlite_links"}]}"#, "INVALID_NAME"),
        (#"{"name":"n","fields":[{"name":"a b","type":"string"}]}"#, "INVALID_NAME"),
        (#"{"name":"n","fields":[{"name":"a","type":"blob"}]}"#, "VALIDATION_ERROR"),
        (#"{"name":"n","fields":[{"name":"r","type":"belongsTo","target":"ghost"}]}"#, "VALIDATION_ERROR"),
        (#"{"name":"n","fields":[{"name":"id","type":"string"}]}"#, "VALIDATION_ERROR"),
        ("[1", "BAD_REQUEST"),
    ]

    @Test(arguments: badDefinitions)
    func badDefinitionsAreRejectedAndCreateNothing(body: String, code: String) throws {
        try withTestApp(seed: nil) { app in
            let r = try app.client().request("POST", "/api/collections:create", body: body)
            #expect(r.status == 400)
            #expect(r.json["errors"]?[path: ["0", "code"]]?.stringValue == code)
            #expect(try app.count("collections") == 0)
        }
    }

    /// Both requests reach the writer while it is held, so they share one batch: the second must
    /// see the first's uncommitted collection and answer 409, not merge into it.
    @Test func twoCreatesOfOneNameInOneBatch_exactlyOneSucceeds() throws {
        try withTestApp(seed: nil) { app in
            let token = app.rootToken, port = app.port
            let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            app.application.database.write({ _ in held.signal(); release.wait() }, completion: { _ in })
            held.wait()
            let statuses = Mutex<[Int]>([])
            let group = DispatchGroup()
            for fields in [#"[{"name":"a","type":"string"}]"#, #"[{"name":"b","type":"integer"}]"#] {
                DispatchQueue.global().async(group: group) {
                    let client = try? HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(token)"])
                    let status = (try? client?.request("POST", "/api/collections:create", body: #"{"name":"notes","fields":"# + fields + "}"))??.status ?? 0
                    statuses.withLock { $0.append(status) }
                }
            }
            // Let both requests queue their writes behind the held job.
            Thread.sleep(forTimeInterval: 0.3)
            release.signal()
            group.wait()
            #expect(statuses.withLock { $0.sorted() } == [200, 409])
            #expect(try app.count("collections") == 1)
            let columns = try app.columnNames("notes")
            #expect(columns.contains("a") != columns.contains("b"), "the table has the winner's field only")
        }
    }

    /// A seed whose record fails rolls back its collection too: no table, no catalogue entry, and
    /// the name can be created afterwards.
    @Test func failedSchemaBatchLeavesNoGhostCollection() throws {
        try withTestApp(seed: nil) { app in
            let path = app.dataDirectory + "/bad.json"
            try #"{"collections":[{"name":"ghosts","fields":[{"name":"n","type":"integer"}]}],"records":{"ghosts":[{"n":"not a number"}]}}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: (any Error).self) { _ = try app.application.applySeedFile(path) }
            let client = try app.client()
            #expect(try client.request("GET", "/api/ghosts:list").status == 404)
            #expect(try client.request("GET", "/api/collections:list").json["meta"]?["count"] == .int(0))
            #expect(try app.tableNames(like: "ghosts").isEmpty)
            let created = try client.request("POST", "/api/collections:create", body: #"{"name":"ghosts","fields":[{"name":"n","type":"integer"}]}"#)
            #expect(created.status == 200)
            #expect(try client.request("POST", "/api/ghosts:create", body: #"{"n":1}"#).status == 200)
        }
    }

    @Test func relationsCanReferToCollectionsDefinedLaterInTheSameRequest() throws {
        try withTestApp(seed: nil) { app in
            let r = try app.client().request("POST", "/api/collections:create", body:
                #"[{"name":"a","fields":[{"name":"b","type":"belongsTo","target":"b"}]},{"name":"b","fields":[{"name":"as","type":"hasMany","target":"a","foreignKey":"bId"}]}]"#)
            #expect(r.status == 200)
            let created = try app.client().request("POST", "/api/b", body: #"{"as":[{},{}]}"#)
            #expect(created.json["data"]?["as"]?.arrayValue?.count == 2)
            #expect(try app.columnNames("a").filter { $0 == "bId" }.count == 1, "one column for both sides")
        }
    }

    @Test func seedingTwiceGivesTheSameState() throws {
        try withTestApp { app in
            let before = try app.rows("SELECT * FROM categories ORDER BY id")
            let path = app.dataDirectory + "/again.json"
            try TestSeeds.blog.write(toFile: path, atomically: true, encoding: .utf8)
            _ = try app.application.applySeedFile(path)
            #expect(try app.rows("SELECT id, title FROM categories ORDER BY id").map { $0["title"]! } == before.map { $0["title"]! })
            #expect(try app.count("tags") == 2)
        }
    }

    @Test(arguments: [("schema", SystemMigrationsProbe.all), ("schema/postgres", PostgresMigrations.all)])
    func schemaFilesMatchTheEmbeddedMigrations(folder: String, migrations: [Migration]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == migrations.count)
        for (file, migration) in zip(files, migrations) {
            let text = try String(contentsOf: root.appendingPathComponent("\(folder)/\(file)"), encoding: .utf8)
            #expect(file == migration.name + ".sql")
            #expect(text == migration.sql, "\(folder)/\(file) drifted from the embedded migrations")
        }
        #expect(migrations.map(\.name) == SystemMigrationsProbe.all.map(\.name))
    }
}

@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows
typealias SystemMigrationsProbe = SystemMigrations

extension CollectionAPITests {
    @Test func removingAFieldNeedsForceWhenItHoldsData() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"{"title":"t","score":1.5}"#)
            let refused = try client.request("POST", "/api/collections/posts/fields:destroy?filterByTk=score")
            #expect(refused.status == 409)
            #expect(refused.json["errors"]?[path: ["0", "code"]] == "FIELD_HAS_DATA")
            #expect(try app.columnNames("posts").contains("score"))
            #expect(try client.request("POST", "/api/collections/posts/fields:destroy?filterByTk=score&force=true").status == 200)
            #expect(!(try app.columnNames("posts")).contains("score"))
            #expect(try client.request("GET", "/api/posts/1").json["data"]?["score"] == nil)
            #expect(try client.request("POST", "/api/collections/posts/fields:destroy?filterByTk=day").status == 200, "empty: no force needed")
            #expect(try client.request("POST", "/api/collections/posts/fields:destroy?filterByTk=nope").status == 404)
            #expect(try client.request("POST", "/api/collections/posts/fields:destroy?filterByTk=category").status == 400)
        }
    }

    @Test func createdByAndUpdatedByAreReadOnlyRelationsToUsersWithoutHiddenFields() throws {
        try withTestApp { app in
            let client = try app.client()
            _ = try client.request("POST", "/api/posts", body: #"[{"title":"mine"},{"title":"other"}]"#)
            let writer = try app.rawConnection()
            try writer.run("INSERT INTO users (id, createdAt, updatedAt, username, password) VALUES (7, 'x', 'x', 'ann', 'scrypt$hash')")
            try writer.run("UPDATE posts SET createdById = 7 WHERE id = 1")
            try writer.run("UPDATE posts SET createdById = NULL WHERE id = 2")
            writer.close()
            let list = try client.request("GET", "/api/posts:list?appends=createdBy,updatedBy")
            #expect(list.json["data"]?[path: ["0", "createdBy", "username"]] == "ann")
            #expect(list.json["data"]?[path: ["0", "createdBy"]]?["password"] == nil)
            #expect(list.json["data"]?[path: ["1", "createdBy"]] == .null)
            let filter = #"{"createdBy.username":"ann"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(try client.request("GET", "/api/posts:list?filter=\(filter)").json["meta"]?["count"] == .int(1))
            let write = try client.request("POST", "/api/posts", body: #"{"title":"x","createdBy":1}"#)
            #expect(write.status == 400, "createdBy is read-only")
            let users = try client.request("GET", "/api/users:list")
            #expect(users.status == 200 && !users.text.contains("scrypt$hash"), "users come from the auth layer, without passwords")
        }
    }

    @Test func failingRequestsInsideAWriteBatchDoNotAffectTheOthers() throws {
        try withTestApp { app in
            let port = app.port, token = app.rootToken
            DispatchQueue.concurrentPerform(iterations: 32) { i in
                guard let client = try? HTTPTestClient(port: port, defaultHeaders: ["Authorization": "Bearer \(token)"]) else { return }
                for j in 0..<10 {
                    let body = (i + j) % 2 == 0 ? #"{"title":"good \#(i)-\#(j)"}"# : #"{"title":"bad","category":999}"#
                    _ = try? client.request("POST", "/api/posts:create", body: body)
                }
            }
            let total = try app.count("posts")
            let bad = try app.rows("SELECT count(*) AS n FROM posts WHERE title = 'bad'")[0]["n"]
            #expect(total == 160)
            #expect(bad == "0")
        }
    }
}

import Storage
