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

/// Spec 04's post-action trigger over HTTP: which workflows fire, how often, with which subject and
/// context — read back from `X-Workflow-Executions` / `X-Workflows-Ignored`, the `executions` rows
/// and the executions API.
@Suite struct TriggerTests {
    // MARK: Named workflows and the context

    @Test func aNamedWorkflowFiresOnce_withDataUserAndRoleName() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            let workflowID = try #require(try client.createWorkflow(#"{"key":"notify","enabled":true,"config":{"collection":"posts"},"nodes":[]}"#)["id"]?.intValue)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=notify", body: #"{"title":"Hello","views":3}"#)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.headers["x-workflows-ignored"] == nil)
            let postID = try #require(created.json["data"]?["id"]?.intValue)
            let ids = created.executionIDs
            #expect(ids.count == 1)

            let rows = try app.rows("SELECT id, workflowId, key, context FROM executions")
            #expect(rows.count == 1)
            #expect(rows.first?["id"] == ids.first.map(String.init) && rows.first?["workflowId"] == String(workflowID) && rows.first?["key"] == "notify")
            let context = try app.context(ids[0])
            #expect(Set(context.objectValue?.keys ?? []) == ["data", "user", "roleName"])
            #expect(context["data"]?["id"] == .int(postID) && context["data"]?["title"] == "Hello" && context["data"]?["views"] == 3)
            #expect(context["roleName"] == "root")
            #expect(context["user"]?["username"] == "root")
            #expect(context["user"]?.objectValue?.keys.contains("password") == false, "the user without password")
            #expect(!(try app.rows("SELECT context FROM executions")[0]["context"] ?? "").contains(app.rootToken), "never the token")

            let viaAPI = try client.request("GET", "/api/executions:get?filterByTk=\(ids[0])")
            #expect(viaAPI.status == 200 && viaAPI.json["data"]?["context"] == context, "executions:get returns the stored context")
            let listed = try client.request("GET", "/api/executions:list?filter=\(q(#"{"key":"notify"}"#))")
            #expect(listed.json["data"]?.arrayValue?.compactMap { $0["id"]?.intValue } == ids)
            #expect(listed.json["data"]?[path: ["0", "context", "data", "title"]] == "Hello")
        }
    }

    @Test func theContextCarriesTheActingUserWithoutHiddenFields_andTheRoleItActedAs() throws {
        try withTestApp(seed: Self.seedWithMember) { app in
            try app.client().createWorkflow(#"{"key":"notify","enabled":true,"config":{"collection":"posts"}}"#)
            let ann = try HTTPTestClient(port: app.port, defaultHeaders: ["Authorization": "Bearer \(Self.annToken)"])
            let created = try ann.request("POST", "/api/posts:create?triggerWorkflows=notify", body: #"{"title":"By Ann"}"#)
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.executionIDs.first)
            let context = try app.context(id)
            #expect(context["roleName"] == "member")
            #expect(context["user"]?["username"] == "ann" && context["user"]?["id"]?.intValue != nil)
            #expect(context["user"]?.objectValue?.keys.contains("password") == false)
            #expect(context["data"]?["createdById"] == context["user"]?["id"])
            let text = try app.rows("SELECT context FROM executions")[0]["context"] ?? ""
            #expect(!text.contains(Self.annToken) && !text.contains("pbkdf2"), "no token, no password hash: \(text)")

            let post = try #require(created.json["data"]?["id"]?.intValue)
            let asEditor = try ann.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=notify", body: #"{"title":"Edited"}"#,
                                           headers: ["X-Role": "editor"])
            #expect(asEditor.status == 200, "\(asEditor.text)")
            let edited = try app.context(try #require(asEditor.executionIDs.first))
            #expect(edited["roleName"] == "editor" && edited["user"]?["username"] == "ann", "the role the request acted as")
        }
    }

    @Test func severalKeysFireEach_inTheOrderNamed() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            for key in ["a", "b", "c"] { try client.posts(key) }
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=c,a,b", body: #"{"title":"x"}"#)
            #expect(response.status == 200 && response.executionIDs.count == 3)
            #expect(try app.firedKeys() == ["c", "a", "b"])
            #expect(response.headers["x-workflows-ignored"] == nil)
        }
    }

    @Test func spacesAroundKeysAndPathsAreTrimmed() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("a")
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=%20%20a%20,%20cat%20!%20category%20", body: #"{"title":"x","category":2}"#)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.executionIDs.count == 2)
            #expect(response.headers["x-workflows-ignored"] == nil)
            #expect(try app.firedKeys() == ["a", "cat"])
            #expect(try app.context(response.executionIDs[1])["data"]?["title"] == "Guides")
        }
    }

    /// Found by bench/fuzz: U+0602 (a prepending mark) forms one grapheme with the `,` after it,
    /// so a split on `Character`s kept `a\u{0602},b` as one key. The split is on bytes now.
    @Test func aCommaAfterAPrependingMarkStillSeparatesKeys() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("a")
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=%D8%82,a", body: #"{"title":"x"}"#)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.executionIDs.count == 1)
            #expect(response.headers["x-workflows-ignored"] == "%D8%82=unknown")
            #expect(try app.firedKeys() == ["a"])
        }
    }

    @Test func emptyItemsAreIgnored() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("a")
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=,,a,%20,,", body: #"{"title":"x"}"#)
            #expect(response.status == 200 && response.executionIDs.count == 1)
            #expect(response.headers["x-workflows-ignored"] == nil)
            let empty = try client.request("POST", "/api/posts:create?triggerWorkflows=", body: #"{"title":"y"}"#)
            #expect(empty.status == 200 && empty.headers["x-workflow-executions"] == nil && empty.headers["x-workflows-ignored"] == nil)
            #expect(try app.count("posts") == 2 && app.count("executions") == 1)
        }
    }

    @Test func theSameKeyTwiceFiresOnce() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("a")
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            let plain = try client.request("POST", "/api/posts:create?triggerWorkflows=a,a,%20a", body: #"{"title":"x"}"#)
            #expect(plain.status == 200 && plain.executionIDs.count == 1)
            let withPath = try client.request("POST", "/api/posts:create?triggerWorkflows=cat!category,cat!category", body: #"{"title":"y","category":1}"#)
            #expect(withPath.status == 200 && withPath.executionIDs.count == 1)
            #expect(try app.firedKeys() == ["a", "cat"])
        }
    }

    // MARK: Bad triggers write nothing

    @Test func theSameKeyWithTwoPathsIs400_andNothingIsWritten() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("a")
            try client.createWorkflow(#"{"key":"all","enabled":true,"config":{"collection":"posts","global":true,"actions":["create","update","destroy"]}}"#)
            let post = try client.seedPost(#"{"title":"Before","category":1}"#)
            let before = try app.count("executions")

            let create = try client.request("POST", "/api/posts:create?triggerWorkflows=a,a!category", body: #"{"title":"x"}"#)
            #expect(create.status == 400 && create.errorCode == "INVALID_TRIGGER", "\(create.text)")
            #expect(create.headers["x-workflow-executions"] == nil)
            let update = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=a!category,a", body: #"{"title":"After"}"#)
            #expect(update.status == 400 && update.errorCode == "INVALID_TRIGGER", "\(update.text)")
            let destroy = try client.request("POST", "/api/posts:destroy?filterByTk=\(post)&triggerWorkflows=a!category,a!comments")
            #expect(destroy.status == 400 && destroy.errorCode == "INVALID_TRIGGER", "\(destroy.text)")

            #expect(try app.rows("SELECT title FROM posts").map { $0["title"] } == ["Before"], "no create, no update, no destroy")
            #expect(try app.count("executions") == before, "not even the global workflow fired")
        }
    }

    static let badPaths = ["nope", "title", "views", "category.nope", "category.title", "secret", "", "category.", "comments.post.nope"]

    @Test(arguments: badPaths)
    func aPathThatDoesNotFollowRelationsIs400_andNothingIsWritten(path: String) throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("x")
            try client.createWorkflow(#"{"key":"all","enabled":true,"config":{"collection":"posts","global":true,"actions":["create","update","destroy"]}}"#)
            let post = try client.seedPost(#"{"title":"Before"}"#)
            let before = try app.count("executions")
            let trigger = "x!" + path

            let create = try client.request("POST", "/api/posts:create?triggerWorkflows=\(q(trigger))", body: #"{"title":"new"}"#)
            #expect(create.status == 400 && create.errorCode == "INVALID_TRIGGER_PATH", "\(trigger): \(create.text)")
            let update = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=\(q(trigger))", body: #"{"title":"After"}"#)
            #expect(update.status == 400 && update.errorCode == "INVALID_TRIGGER_PATH", "\(trigger): \(update.text)")
            let destroy = try client.request("POST", "/api/posts:destroy?filterByTk=\(post)&triggerWorkflows=\(q(trigger))")
            #expect(destroy.status == 400 && destroy.errorCode == "INVALID_TRIGGER_PATH", "\(trigger): \(destroy.text)")

            #expect(try app.rows("SELECT title FROM posts").map { $0["title"] } == ["Before"])
            #expect(try app.count("executions") == before)
        }
    }

    @Test func aBadPathIs400EvenForAnUnknownKey() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let response = try app.client().request("POST", "/api/comments:create?triggerWorkflows=ghost!post.title", body: #"{"body":"x"}"#)
            #expect(response.status == 400 && response.errorCode == "INVALID_TRIGGER_PATH", "\(response.text)")
            #expect(try app.count("comments") == 0)
        }
    }

    // MARK: Ignored keys

    @Test func unknownDisabledOtherCollectionAndGlobalKeysAreIgnored_andListedWithWhy() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("on")
            try client.createWorkflow(#"{"key":"draft","enabled":false,"config":{"collection":"posts"}}"#)
            let later = try #require(try client.posts("later")["id"]?.intValue)
            #expect(try client.request("POST", "/api/workflows:update?filterByTk=\(later)", body: #"{"enabled":false}"#).status == 200)
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            try client.createWorkflow(#"{"key":"glob","enabled":true,"config":{"collection":"posts","global":true,"actions":["update"]}}"#)

            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=glob,ghost,draft,later,cat,on", body: #"{"title":"x"}"#)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.json["data"]?["title"] == "x")
            #expect(response.ignored == ["glob": "global", "ghost": "unknown", "draft": "disabled", "later": "disabled", "cat": "collection"],
                    "\(response.headers["x-workflows-ignored"] ?? "no header")")
            #expect(response.executionIDs.count == 1)
            #expect(try app.firedKeys() == ["on"])

            let onlyIgnored = try client.request("POST", "/api/posts:create?triggerWorkflows=ghost,on!category", body: #"{"title":"y","category":1}"#)
            #expect(onlyIgnored.status == 200)
            #expect(onlyIgnored.ignored == ["ghost": "unknown", "on": "collection"], "a path ending elsewhere than config.collection")
            #expect(onlyIgnored.headers["x-workflow-executions"] == nil)
            #expect(try app.count("posts") == 2 && app.count("executions") == 1)
        }
    }

    /// `type` is a reason the trigger knows, but only `action` workflows can be saved, so another
    /// type never reaches it: the definition is refused and its key stays unknown.
    @Test func aWorkflowOfAnotherTypeIsRefusedOnSave_soItsKeyIsUnknown() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            let saved = try client.request("POST", "/api/workflows:create", body: #"{"key":"timer","type":"schedule","enabled":false,"config":{"collection":"posts"}}"#)
            #expect(saved.status == 400 && saved.errorCode == "INVALID_WORKFLOW", "\(saved.text)")
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=timer", body: #"{"title":"x"}"#)
            #expect(response.status == 200 && response.ignored == ["timer": "unknown"])
            #expect(try app.count("executions") == 0)
        }
    }

    @Test func ignoredKeysAreListedOnUpdateAndDestroyToo() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            let post = try client.seedPost(#"{"title":"x"}"#)
            let update = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=ghost", body: #"{"title":"y"}"#)
            #expect(update.status == 200 && update.ignored == ["ghost": "unknown"])
            let destroy = try client.request("POST", "/api/posts:destroy?filterByTk=\(post)&triggerWorkflows=ghost")
            #expect(destroy.status == 200 && destroy.ignored == ["ghost": "unknown"])
            #expect(try app.count("posts") == 0)
        }
    }

    @Test func theExecutionsHeaderListsTheFiredIds_andIsAbsentWhenNothingFired() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            let nothing = try client.request("POST", "/api/posts:create", body: #"{"title":"quiet"}"#)
            #expect(nothing.status == 200 && nothing.headers["x-workflow-executions"] == nil && nothing.headers["x-workflows-ignored"] == nil)
            try client.posts("a")
            try client.posts("b")
            let fired = try client.request("POST", "/api/posts:create?triggerWorkflows=a,b", body: #"{"title":"loud"}"#)
            let ids = try app.rows("SELECT id FROM executions ORDER BY id").compactMap { $0["id"] }
            #expect(ids.count == 2)
            #expect(fired.headers["x-workflow-executions"] == ids.joined(separator: ","))
            let plain = try client.request("POST", "/api/posts:create", body: #"{"title":"quiet again"}"#)
            #expect(plain.status == 200 && plain.headers["x-workflow-executions"] == nil, "named workflows fire only when named")
        }
    }

    /// A workflow saved in a write that rolls back must not stay in the registry the trigger reads.
    @Test func aWorkflowWhoseWriteRolledBackNeverFires() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let registry = app.application.workflowRuntime.registry
            let semaphore = DispatchSemaphore(value: 0)
            app.application.database.write({ connection in
                var definition = WorkflowDefinition(key: "ghost")
                try definition.merge(["enabled": true, "config": ["collection": "posts"]])
                _ = try WorkflowService.insert(definition, versionNumber: 1, actorID: nil, connection)
                try registry.reload(connection)
                throw DomainError.badRequest("rolled back on purpose")
            }, completion: { _ in semaphore.signal() })
            semaphore.wait()
            let response = try app.client().request("POST", "/api/posts:create?triggerWorkflows=ghost", body: #"{"title":"Hello"}"#)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.headers["x-workflows-ignored"] == "ghost=unknown")
            #expect(try app.count("executions") == 0 && app.count("workflows") == 0)
        }
    }

    // MARK: Global workflows

    @Test func aGlobalWorkflowFiresOnce_whetherNamedOrNot() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"g","enabled":true,"config":{"collection":"posts","global":true,"actions":["create"]}}"#)
            let unnamed = try client.request("POST", "/api/posts:create", body: #"{"title":"one"}"#)
            #expect(unnamed.status == 200 && unnamed.executionIDs.count == 1)
            let named = try client.request("POST", "/api/posts:create?triggerWorkflows=g", body: #"{"title":"two"}"#)
            #expect(named.status == 200 && named.executionIDs.count == 1, "never twice")
            #expect(named.headers["x-workflows-ignored"] == nil, "it fired, so it is not reported")
            let twice = try client.request("POST", "/api/posts:create?triggerWorkflows=g,g", body: #"{"title":"three"}"#)
            #expect(twice.executionIDs.count == 1)
            #expect(try app.firedKeys() == ["g", "g", "g"])
            let titles = try (unnamed.executionIDs + named.executionIDs + twice.executionIDs).map { try app.context($0)["data"]?["title"] }
            #expect(titles == ["one", "two", "three"])
        }
    }

    @Test func aGlobalWorkflowWithoutActionsNeverFires() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"never","enabled":true,"config":{"collection":"posts","global":true}}"#)
            try client.createWorkflow(#"{"key":"empty","enabled":true,"config":{"collection":"posts","global":true,"actions":[]}}"#)
            let created = try client.request("POST", "/api/posts:create", body: #"{"title":"x"}"#)
            #expect(created.status == 200 && created.executionIDs.isEmpty)
            let post = try #require(created.json["data"]?["id"]?.intValue)
            let named = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=never,empty", body: #"{"title":"y"}"#)
            #expect(named.status == 200 && named.executionIDs.isEmpty)
            #expect(named.ignored == ["never": "global", "empty": "global"])
            #expect(try client.request("POST", "/api/posts:destroy?filterByTk=\(post)").executionIDs.isEmpty)
            #expect(try app.count("executions") == 0)
        }
    }

    @Test func aGlobalUpdateWorkflowFiresOnUpdatesOnly() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"onUpdate","enabled":true,"config":{"collection":"posts","global":true,"actions":["update"]}}"#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=onUpdate", body: #"{"title":"x"}"#)
            #expect(created.status == 200 && created.executionIDs.isEmpty)
            #expect(created.ignored == ["onUpdate": "global"], "named but not fired: reason global")
            let post = try #require(created.json["data"]?["id"]?.intValue)
            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(post)", body: #"{"title":"y"}"#)
            #expect(updated.status == 200 && updated.executionIDs.count == 1)
            #expect(try app.context(updated.executionIDs[0])["data"]?["title"] == "y", "the record as committed")
            #expect(try client.request("POST", "/api/posts:destroy?filterByTk=\(post)").executionIDs.isEmpty)
            #expect(try client.request("POST", "/api/categories:update?filterByTk=1", body: #"{"title":"Other"}"#).executionIDs.isEmpty,
                    "only on its own collection")
            #expect(try app.firedKeys() == ["onUpdate"])
        }
    }

    // MARK: One execution per affected record

    @Test func aBulkCreateFiresOncePerRecord() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("w")
            let bulk = try client.request("POST", "/api/posts:create?triggerWorkflows=w", body: #"[{"title":"a"},{"title":"b"},{"title":"c"}]"#)
            #expect(bulk.status == 200, "\(bulk.text)")
            let postIDs = bulk.json["data"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
            #expect(postIDs.count == 3)
            #expect(bulk.executionIDs.count == 3)
            let subjects = try bulk.executionIDs.map { try app.context($0)["data"] }
            #expect(subjects.map { $0?["id"]?.intValue } == postIDs.map { Optional($0) })
            #expect(subjects.map { $0?["title"] } == ["a", "b", "c"])
            #expect(try app.count("executions") == 3)
        }
    }

    @Test func aBulkUpdateByFilterFiresOncePerMatchedRecord() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("w")
            let ids = try (1...4).map { try client.seedPost(#"{"title":"p\#($0)","views":\#($0)}"#) }
            let update = try client.request("POST", "/api/posts:update?filter=\(q(#"{"views":{"$gte":2}}"#))&triggerWorkflows=w", body: #"{"published":true}"#)
            #expect(update.status == 200, "\(update.text)")
            #expect(update.executionIDs.count == 3)
            let subjects = try update.executionIDs.map { try app.context($0)["data"] }
            #expect(Set(subjects.compactMap { $0?["id"]?.intValue }) == Set(ids[1...]))
            #expect(subjects.allSatisfy { $0?["published"] == .bool(true) }, "as committed")
        }
    }

    @Test func anUpdateMatchingNothingFiresNothing() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("w")
            try client.createWorkflow(#"{"key":"g","enabled":true,"config":{"collection":"posts","global":true,"actions":["update","destroy"]}}"#)
            try client.seedPost(#"{"title":"only"}"#)
            let update = try client.request("POST", "/api/posts:update?filter=\(q(#"{"title":"zzz"}"#))&triggerWorkflows=w", body: #"{"views":5}"#)
            #expect(update.status == 200, "\(update.text)")
            #expect(update.headers["x-workflow-executions"] == nil)
            let destroy = try client.request("POST", "/api/posts:destroy?filter=\(q(#"{"title":"zzz"}"#))&triggerWorkflows=w")
            #expect(destroy.status == 200 && destroy.headers["x-workflow-executions"] == nil)
            #expect(try app.count("executions") == 0)
        }
    }

    @Test func destroyFiresWithTheRecordAsItWasBeforeDeletion() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"gone","enabled":true,"config":{"collection":"posts","appends":["category"]}}"#)
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            try client.createWorkflow(#"{"key":"g","enabled":true,"config":{"collection":"posts","global":true,"actions":["destroy"]}}"#)
            let post = try client.seedPost(#"{"title":"Doomed","views":7,"category":1}"#)
            let other = try client.seedPost(#"{"title":"Kept"}"#)
            #expect(try app.count("executions") == 0, "the global destroy workflow does not fire on create")

            let destroyed = try client.request("POST", "/api/posts:destroy?filterByTk=\(post)&triggerWorkflows=gone,cat!category")
            #expect(destroyed.status == 200, "\(destroyed.text)")
            #expect(destroyed.executionIDs.count == 3)
            #expect(try app.firedKeys() == ["gone", "cat", "g"], "named first, then global")
            let subject = try app.context(destroyed.executionIDs[0])["data"]
            #expect(subject?["id"] == .int(post) && subject?["title"] == "Doomed" && subject?["views"] == 7)
            #expect(subject?["category"]?["title"] == "News", "with the workflow's appends")
            #expect(try app.context(destroyed.executionIDs[1])["data"]?["title"] == "News", "a path from the deleted record")
            #expect(try app.context(destroyed.executionIDs[2])["data"]?["title"] == "Doomed")
            #expect(try app.rows("SELECT id FROM posts").map { $0["id"] } == [String(other)])
        }
    }

    // MARK: Paths

    @Test func aCategoryPathMakesTheCategoryTheSubject() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            let cat = try #require(try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)["id"]?.intValue)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=cat!category", body: #"{"title":"Hello","category":2}"#)
            #expect(created.status == 200 && created.executionIDs.count == 1, "\(created.text)")
            let subject = try app.context(created.executionIDs[0])["data"]
            #expect(subject?["id"] == 2 && subject?["title"] == "Guides")
            #expect(subject?["views"] == nil, "the category, not the post")
            #expect(try app.rows("SELECT workflowId FROM executions")[0]["workflowId"] == String(cat))

            let post = try #require(created.json["data"]?["id"]?.intValue)
            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=cat!category", body: #"{"category":1}"#)
            #expect(updated.executionIDs.count == 1)
            #expect(try app.context(updated.executionIDs[0])["data"]?["title"] == "News", "the category after the update")
        }
    }

    @Test func aDottedPathFollowsEveryStep() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            try client.createWorkflow(#"{"key":"postWf","enabled":true,"config":{"collection":"posts"}}"#)
            let post = try client.seedPost(#"{"title":"Parent","category":2}"#)
            let comment = try client.request("POST", "/api/comments:create?triggerWorkflows=cat!post.category,postWf!post", body: #"{"body":"hi","postId":\#(post)}"#)
            #expect(comment.status == 200 && comment.executionIDs.count == 2, "\(comment.text)")
            #expect(try app.context(comment.executionIDs[0])["data"]?["title"] == "Guides")
            #expect(try app.context(comment.executionIDs[1])["data"]?["id"] == .int(post))
            let wrongEnd = try client.request("POST", "/api/comments:create?triggerWorkflows=postWf!post.category", body: #"{"body":"x","postId":\#(post)}"#)
            #expect(wrongEnd.status == 200 && wrongEnd.ignored == ["postWf": "collection"])
        }
    }

    @Test func aToManyStepFiresOncePerRelatedRecord() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"audit","enabled":true,"config":{"collection":"comments"}}"#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=audit!comments",
                                             body: #"{"title":"Three","comments":[{"body":"one"},{"body":"two"},{"body":"three"}]}"#)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.executionIDs.count == 3, "one execution per comment")
            #expect(try created.executionIDs.map { try app.context($0)["data"]?["body"] } == ["one", "two", "three"])
            let post = try #require(created.json["data"]?["id"]?.intValue)
            #expect(try created.executionIDs.allSatisfy { try app.context($0)["data"]?["postId"] == .int(post) })

            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=audit!comments", body: #"{"views":1}"#)
            #expect(updated.executionIDs.count == 3, "existing related records on update too")
            #expect(try app.count("executions") == 6)
        }
    }

    @Test func aPathReachingNoRecordFiresNothing_andSaysSo() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories"}}"#)
            try client.createWorkflow(#"{"key":"audit","enabled":true,"config":{"collection":"comments"}}"#)
            let response = try client.request("POST", "/api/posts:create?triggerWorkflows=cat!category", body: #"{"title":"No category"}"#)
            #expect(response.status == 200)
            #expect(response.headers["x-workflow-executions"] == nil)
            #expect(response.headers["x-workflows-ignored"] == "cat=no-record")
            #expect(try app.count("posts") == 1 && app.count("executions") == 0)
            let noComments = try client.request("POST", "/api/posts:create?triggerWorkflows=audit!comments", body: #"{"title":"No comments"}"#)
            #expect(noComments.status == 200 && noComments.ignored == ["audit": "no-record"] && noComments.executionIDs.isEmpty)
            let comment = try client.request("POST", "/api/comments:create?triggerWorkflows=cat!post.category", body: #"{"body":"orphan"}"#)
            #expect(comment.status == 200 && comment.ignored == ["cat": "no-record"] && comment.executionIDs.isEmpty)
            #expect(try app.count("executions") == 0)
        }
    }

    // MARK: Nested records, appends, hidden fields

    @Test func nestedRecordsFireTheirOwnCollectionsGlobalCreateWorkflows() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"newCategory","enabled":true,"config":{"collection":"categories","global":true,"actions":["create"]}}"#)
            try client.createWorkflow(#"{"key":"newComment","enabled":true,"config":{"collection":"comments","global":true,"actions":["create"]}}"#)
            let created = try client.request("POST", "/api/posts:create",
                                             body: #"{"title":"Hello","category":{"title":"Nested"},"comments":[{"body":"a"},{"body":"b"}]}"#)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.executionIDs.count == 3)
            let fired = try created.executionIDs.map { id in
                let context = try app.context(id)
                return try app.rows("SELECT key FROM executions WHERE id = \(id)")[0]["key"]! + ":" + (context["data"]?["title"]?.stringValue ?? context["data"]?["body"]?.stringValue ?? "?")
            }
            #expect(Set(fired) == ["newCategory:Nested", "newComment:a", "newComment:b"])

            let linked = try client.request("POST", "/api/posts:create", body: #"{"title":"Linked","category":1}"#)
            #expect(linked.status == 200 && linked.executionIDs.isEmpty, "linking an existing category creates nothing")
            let post = try #require(linked.json["data"]?["id"]?.intValue)
            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(post)", body: #"{"category":{"title":"Via update"}}"#)
            #expect(updated.status == 200 && updated.executionIDs.count == 1, "\(updated.text)")
            #expect(try app.context(updated.executionIDs.first ?? -1)["data"]?["title"] == "Via update")
        }
    }

    @Test func appendsAreEmbeddedInTheSubject() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"withCategory","enabled":true,"config":{"collection":"posts","appends":["category"]}}"#)
            try client.createWorkflow(#"{"key":"plain","enabled":true,"config":{"collection":"posts"}}"#)
            try client.createWorkflow(#"{"key":"com","enabled":true,"config":{"collection":"comments","appends":["post.category"]}}"#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=withCategory,plain,com!comments",
                                             body: #"{"title":"Hello","category":1,"comments":[{"body":"c"}]}"#)
            #expect(created.status == 200 && created.executionIDs.count == 3, "\(created.text)")
            let embedded = try app.context(created.executionIDs[0])["data"]
            #expect(embedded?["category"]?["id"] == 1 && embedded?["category"]?["title"] == "News")
            #expect(embedded?["categoryId"] == 1)
            #expect(try app.context(created.executionIDs[1])["data"]?["category"] == nil, "no appends, no embedding")
            let comment = try app.context(created.executionIDs[2])["data"]
            #expect(comment?["post"]?["title"] == "Hello" && comment?["post"]?["category"]?["title"] == "News", "a nested append on a path subject")
        }
    }

    @Test func hiddenFieldsNeverAppearInTheSubject() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("w")
            try client.createWorkflow(#"{"key":"com","enabled":true,"config":{"collection":"comments","appends":["post"]}}"#)
            try client.createWorkflow(#"{"key":"g","enabled":true,"config":{"collection":"posts","global":true,"actions":["create","update","destroy"]}}"#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=w", body: #"{"title":"Hush","secret":"TOPSECRET1"}"#)
            #expect(created.status == 200, "\(created.text)")
            let post = try #require(created.json["data"]?["id"]?.intValue)
            #expect(try app.rows("SELECT secret FROM posts")[0]["secret"] == "TOPSECRET1", "the hidden value is stored")
            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=w", body: #"{"secret":"TOPSECRET2"}"#)
            #expect(updated.status == 200)
            let comment = try client.request("POST", "/api/comments:create?triggerWorkflows=com,w!post", body: #"{"body":"c","postId":\#(post)}"#)
            #expect(comment.status == 200 && comment.executionIDs.count == 2)
            let destroyed = try client.request("POST", "/api/posts:destroy?filterByTk=\(post)&triggerWorkflows=w")
            #expect(destroyed.status == 200)
            let contexts = try app.rows("SELECT key, context FROM executions ORDER BY id")
            #expect(contexts.count == 8, "w and g on create, update and destroy; com and w!post on the comment")
            for row in contexts {
                #expect(!(row["context"] ?? "").contains("TOPSECRET") && !(row["context"] ?? "").contains("\"secret\""), "\(row)")
            }
        }
    }

    @Test func aNamedWorkflowIgnoresConfigActions() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"{"key":"onlyCreate","enabled":true,"config":{"collection":"posts","actions":["create"]}}"#)
            try client.createWorkflow(#"{"key":"onlyDestroy","enabled":true,"config":{"collection":"posts","actions":["destroy"]}}"#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=onlyDestroy", body: #"{"title":"x"}"#)
            #expect(created.status == 200 && created.executionIDs.count == 1)
            let post = try #require(created.json["data"]?["id"]?.intValue)
            let updated = try client.request("POST", "/api/posts:update?filterByTk=\(post)&triggerWorkflows=onlyCreate", body: #"{"title":"y"}"#)
            #expect(updated.status == 200 && updated.executionIDs.count == 1)
            let destroyed = try client.request("POST", "/api/posts:destroy?filterByTk=\(post)&triggerWorkflows=onlyCreate")
            #expect(destroyed.status == 200 && destroyed.executionIDs.count == 1)
            #expect(try app.firedKeys() == ["onlyDestroy", "onlyCreate", "onlyCreate"])
            #expect(try client.request("POST", "/api/posts:create", body: #"{"title":"z"}"#).executionIDs.isEmpty, "and never fires unnamed")
        }
    }

    // MARK: Durability and running

    @Test func theWriteAndItsExecutionsCommitTogether() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("slow")
            for i in 0..<20 {
                let response = try client.request("POST", "/api/posts:create?triggerWorkflows=slow", body: #"{"title":"t\#(i)"}"#)
                #expect(response.status == 200)
                let post = try #require(response.json["data"]?["id"]?.intValue)
                let id = try #require(response.executionIDs.first)
                let row = try app.rows("SELECT key, status FROM executions WHERE id = \(id)")
                #expect(row.count == 1 && row.first?["key"] == "slow", "the execution row exists as soon as the answer does")
                #expect(["NULL", "0", "1"].contains(row.first?["status"] ?? "missing"), "queued, or already run by the dispatcher: \(row)")
                #expect(try app.context(id)["data"]?["id"] == .int(post))
                #expect(try app.rows("SELECT title FROM posts WHERE id = \(post)").first?["title"] == "t\(i)")
            }
            #expect(try app.count("executions") == 20)
            for id in try app.rows("SELECT id FROM executions").compactMap({ $0["id"].flatMap(Int64.init) }) {
                #expect(try client.waitForExecution(id, timeout: 5)["statusName"] == "resolved")
            }
        }
    }

    @Test func aFailedWriteFiresNothing() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.posts("w")
            try client.createWorkflow(#"{"key":"cat","enabled":true,"config":{"collection":"categories","global":true,"actions":["create"]}}"#)
            let invalid = try client.request("POST", "/api/posts:create?triggerWorkflows=w", body: #"{"views":1}"#)
            #expect(invalid.status == 400 && invalid.headers["x-workflow-executions"] == nil)
            let bulk = try client.request("POST", "/api/posts:create?triggerWorkflows=w",
                                          body: #"[{"title":"a","category":{"title":"Fresh"}},{"title":"b"},{"views":3}]"#)
            #expect(bulk.status == 400 && bulk.headers["x-workflow-executions"] == nil, "\(bulk.text)")
            let duplicate = try client.request("POST", "/api/categories:create", body: #"{"title":"News"}"#)
            #expect(duplicate.status >= 400 && duplicate.headers["x-workflow-executions"] == nil)
            #expect(try app.count("posts") == 0 && app.count("categories") == 2 && app.count("executions") == 0)
        }
    }

    @Test func asyncExecutionsEndResolved_andTheirNodesWriteRenderedValues() throws {
        try withTestApp(seed: WorkflowSeeds.blogWithLogs) { app in
            let client = try app.client()
            try client.createWorkflow(#"""
            {"key":"logPost","enabled":true,"config":{"collection":"posts","appends":["category"]},
             "nodes":[{"id":"n1","key":"log","type":"create","config":{"collection":"logs",
                       "values":{"message":"{{$context.data.title}} in {{$context.data.category.title}} by {{$context.user.username}}","count":"{{$context.data.views}}"}}}]}
            """#)
            let created = try client.request("POST", "/api/posts:create?triggerWorkflows=logPost", body: #"{"title":"Hello","views":3,"category":2}"#)
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.executionIDs.first)
            let execution = try client.waitForExecution(id, timeout: 5)
            #expect(execution["statusName"] == "resolved" && execution["status"] == 1, "\(execution)")
            #expect(execution["startedAt"]?.isNull == false && execution["finishedAt"]?.isNull == false)
            let jobs = execution["jobs"]?.arrayValue ?? []
            #expect(jobs.count == 1 && jobs.first?["nodeId"] == "n1" && jobs.first?["nodeKey"] == "log" && jobs.first?["statusName"] == "resolved")
            let logs = try app.rows("SELECT message, count FROM logs")
            #expect(logs.count == 1)
            #expect(logs.first?["message"] == "Hello in Guides by root" && logs.first?["count"] == "3")
            #expect(try app.rows("SELECT status FROM executions WHERE id = \(id)").first?["status"] == "1")
        }
    }

    @Test func seededWorkflowsFireLikeCreatedOnes() throws {
        let seed = WorkflowSeeds.blogWithLogs.replacingOccurrences(of: #""records":"#, with: #"""
        "workflows": [ { "key": "seeded", "enabled": true, "config": { "collection": "posts", "global": true, "actions": ["create"] },
                         "nodes": [ { "id": "n", "type": "create", "config": { "collection": "logs", "values": { "message": "seeded {{$context.data.title}}" } } } ] } ],
        "records":
        """#)
        try withTestApp(seed: seed) { app in
            let client = try app.client()
            let created = try client.request("POST", "/api/posts:create", body: #"{"title":"S"}"#)
            #expect(created.status == 200 && created.executionIDs.count == 1, "\(created.text)")
            let execution = try client.waitForExecution(created.executionIDs.first ?? -1, timeout: 5)
            #expect(execution["statusName"] == "resolved")
            #expect(try app.rows("SELECT message FROM logs").map { $0["message"] } == ["seeded S"])
        }
    }

    // MARK: Seeds for this suite

    static let annToken = "tb_test_trigger_ann_0123456789abcdef"
    /// The blog seed plus roles `member` (create posts) and `editor` (update posts), and their user `ann` with a password.
    static let seedWithMember = WorkflowSeeds.blogWithLogs.replacingOccurrences(of: #""records":"#, with: #"""
    "roles": [ { "name": "member", "permissions": { "posts": { "create": {}, "view": {} }, "categories": { "view": {} } } },
               { "name": "editor", "permissions": { "posts": { "view": {}, "update": {} } } } ],
    "users": [ { "username": "ann", "password": "secret-ann", "roles": ["member", "editor"], "defaultRole": "member",
                 "tokens": [ { "token": "\#(annToken)" } ] } ],
    "records":
    """#)
}

/// Seeds and helpers shared by the workflow suites.
enum WorkflowSeeds {
    /// The blog seed plus a `logs` collection for node writes.
    static let blogWithLogs: String = {
        var seed = TestSeeds.blog
        let marker = #"{ "name": "tags", "fields": [ { "name": "name", "type": "string" } ] } ],"#
        seed = seed.replacingOccurrences(of: marker, with: #"{ "name": "tags", "fields": [ { "name": "name", "type": "string" } ] },"#
            + #"{ "name": "logs", "fields": [ { "name": "message", "type": "string" }, { "name": "count", "type": "integer" } ] } ],"#)
        return seed
    }()
}

/// A query-string value, percent-encoded.
private func q(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
}

extension HTTPTestClient.Response {
    /// `X-Workflow-Executions` as ids.
    var executionIDs: [Int64] {
        (headers["x-workflow-executions"] ?? "").split(separator: ",").compactMap { Int64($0) }
    }

    /// `X-Workflows-Ignored` as key → reason.
    var ignored: [String: String] {
        var result: [String: String] = [:]
        for item in (headers["x-workflows-ignored"] ?? "").split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }

    /// The first error's `code`.
    var errorCode: String? { json["errors"]?[path: ["0", "code"]]?.stringValue }
}

extension HTTPTestClient {
    @discardableResult
    func createWorkflow(_ body: String) throws -> JSON {
        let response = try request("POST", "/api/workflows:create", body: body)
        guard response.status == 200, let data = response.json["data"] else {
            throw Failure(description: "workflows:create answered \(response.status): \(response.text)")
        }
        return data
    }

    /// An enabled, named workflow `key` on posts without nodes.
    @discardableResult
    fileprivate func posts(_ key: String) throws -> JSON {
        try createWorkflow(#"{"key":"\#(key)","enabled":true,"config":{"collection":"posts"},"nodes":[]}"#)
    }

    /// Creates a post without naming workflows; its id.
    @discardableResult
    fileprivate func seedPost(_ body: String) throws -> Int64 {
        let response = try request("POST", "/api/posts:create", body: body)
        guard response.status == 200, let id = response.json["data"]?["id"]?.intValue else {
            throw Failure(description: "posts:create answered \(response.status): \(response.text)")
        }
        return id
    }

    /// The execution once it has ended (polls `executions:get` for up to `timeout` seconds).
    func waitForExecution(_ id: Int64, timeout: Double = 10, appends: String = "jobs") throws -> JSON {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let response = try request("GET", "/api/executions:get?filterByTk=\(id)&appends=\(appends)")
            let execution = response.json["data"] ?? .null
            if let name = execution["statusName"]?.stringValue, name != "queued", name != "started" { return execution }
            if Date() > deadline { throw Failure(description: "execution \(id) did not end: \(response.status) \(response.text)") }
            usleep(20_000)
        }
    }
}

extension TestApp {
    /// An execution's stored `context`, parsed.
    fileprivate func context(_ id: Int64) throws -> JSON {
        guard let text = try rows("SELECT context FROM executions WHERE id = \(id)").first?["context"] else {
            throw HTTPTestClient.Failure(description: "no execution \(id)")
        }
        return try JSON.parse(text)
    }

    /// The keys of every execution, in creation order.
    fileprivate func firedKeys() throws -> [String] {
        try rows("SELECT key FROM executions ORDER BY id").compactMap { $0["key"] }
    }
}
