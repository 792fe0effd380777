import Model

/// The route table: every resource's actions with the methods each allows, and the fixed paths.
/// The dispatchers check requests against these tables (an action not listed is 404, a method not
/// listed is 405 with `Allow`), and `OpenAPIDocument` is generated from the same tables, so the
/// published contract cannot name a route the server does not take, nor miss one it does.
package enum APIRoutes {
    /// An action of `/api/<resource>:<action>` and the methods it allows (HEAD rides with GET).
    package struct Action: Sendable {
        package var name: String
        package var methods: [String]
        package var summary: String
    }

    /// An action comes from `:<action>`, never from the method (NocoBase's `parseRequest`, spec 02:
    /// NocoBase wire compatibility): clients send every action as GET as well as POST, so each takes
    /// the five methods NocoBase's clients use, with the body parsed whatever the method. HEAD rides
    /// only with the reading actions, since it must not change anything.
    private static let write = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    private static let read = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

    /// The record actions of every collection (spec 02), also its association routes.
    package static let record: [Action] = [
        Action(name: "list", methods: read, summary: "List records (filter, sort, page, fields, appends)"),
        Action(name: "get", methods: read, summary: "Get one record by filterByTk"),
        Action(name: "create", methods: write, summary: "Create a record (or an array of them), with nested relations"),
        Action(name: "update", methods: write, summary: "Update records by filterByTk or filter"),
        Action(name: "destroy", methods: write, summary: "Delete records by filterByTk or filter"),
    ]

    /// The actions of a data collection: the record actions and NocoBase's find-or-write pair
    /// (`actions/first-or-create.ts`, `update-or-create.ts`).
    package static let collection: [Action] = record + [
        Action(name: "firstOrCreate", methods: write, summary: "The first record matching the values' filterKeys, else a new one"),
        Action(name: "updateOrCreate", methods: write, summary: "Update the first record matching the values' filterKeys, else create one"),
    ]

    /// The link actions of a relation, `/api/<c>/<id>/<relation>:<action>` (NocoBase's relation
    /// repositories): `add`, `set`, `remove` on to-many relations, `set`, `remove` on to-one ones,
    /// `toggle` on belongsToMany.
    package static let links: [Action] = [
        Action(name: "add", methods: write, summary: "Link these records (filterByTk or a body array of ids)"),
        Action(name: "set", methods: write, summary: "Link exactly these records, unlinking the others"),
        Action(name: "remove", methods: write, summary: "Unlink these records (to-one: the linked one)"),
        Action(name: "toggle", methods: write, summary: "Link the record if it is not linked, else unlink it"),
    ]

    /// `<c>:invokeWorkflow` on collections bound to a record workflow (spec 06).
    package static let invokeWorkflow = Action(name: "invokeWorkflow", methods: write, summary: "Invoke a record workflow event on one record")

    /// `/api/workflows:<action>` (spec 04, 05).
    package static let workflows: [Action] = record + [
        Action(name: "revision", methods: write, summary: "Copy a version into a new current version of its key"),
        Action(name: "execute", methods: write, summary: "Run one version now, in the request"),
    ]

    /// `/api/executions:<action>` (spec 04).
    package static let executions: [Action] = [
        record[0], record[1],
        Action(name: "cancel", methods: write, summary: "Cancel a queued or started execution"),
        Action(name: "retry", methods: write, summary: "Retry a failed, error or aborted execution by filterByTk, or all that a filter matches"),
    ]

    /// `/api/collections:<action>` (spec 02).
    package static let collections: [Action] = [
        Action(name: "list", methods: read, summary: "List collection definitions"),
        Action(name: "get", methods: read, summary: "Get a collection definition by filterByTk (its name)"),
        Action(name: "create", methods: write, summary: "Create collections (a migration applied at once)"),
        Action(name: "destroy", methods: write, summary: "Drop a collection by filterByTk (its name)"),
    ]

    /// `/api/collections/<c>/fields:<action>` (spec 02).
    package static let fields: [Action] = [
        Action(name: "create", methods: write, summary: "Add a field (a migration applied at once)"),
        Action(name: "destroy", methods: write, summary: "Remove a field by filterByTk; force=true when it holds data"),
    ]

    /// `/api/auth|apiKeys|users|roles:<action>` (spec 03).
    package static let identities: [(resource: String, actions: [Action])] = [
        ("auth", [
            Action(name: "signIn", methods: write, summary: "Exchange an account and password for a token"),
            Action(name: "signOut", methods: write, summary: "Revoke the token of this request"),
        ]),
        ("apiKeys", [
            Action(name: "create", methods: write, summary: "Create an API token for the caller"),
            Action(name: "list", methods: read, summary: "List the caller's API tokens"),
            Action(name: "destroy", methods: write, summary: "Revoke one of the caller's API tokens"),
        ]),
        ("users", record),
        ("roles", record),
    ]

    /// A path outside the `<resource>:<action>` grammar, with its methods. `{name}` segments are parameters.
    package struct Fixed: Sendable {
        package var path: String
        package var methods: [String]
        package var summary: String
    }

    package static let fixed: [Fixed] = [
        Fixed(path: "/health", methods: ["GET", "HEAD"], summary: "Liveness and database health"),
        Fixed(path: "/metrics", methods: ["GET", "HEAD"], summary: "Prometheus metrics"),
        Fixed(path: "/api/openapi.json", methods: ["GET", "HEAD"], summary: "This document"),
        Fixed(path: "/api/workflow/processdefinition", methods: ["GET", "HEAD"], summary: "Workflow versions the caller may start"),
        Fixed(path: "/api/workflow/processinstance", methods: ["GET", "HEAD", "POST"],
              summary: "GET: instances by businessKey or _queryFilter; POST ?_action=create: start a workflow"),
        Fixed(path: "/api/workflow/processinstance/{id}", methods: ["GET", "HEAD"], summary: "One instance with its jobs"),
        Fixed(path: "/api/management/workflow/definitions", methods: ["GET", "HEAD"], summary: "Record workflow definitions, latest versions"),
        Fixed(path: "/api/management/workflow/definitions/{definitionId}", methods: ["GET", "HEAD", "PUT"],
              summary: "GET: a definition; PUT: save a new version"),
        Fixed(path: "/api/management/workflow/definitions/{definitionId}/workflow/events", methods: ["POST"],
              summary: "Publish a definition's latest version"),
    ]

    /// Paths under `/api/<c>` of a collection bound to a record workflow (spec 06).
    package static let recordWorkflow: [Fixed] = [
        Fixed(path: "/{id}/workflow/events", methods: ["POST"], summary: "Invoke a record workflow event on one record"),
        Fixed(path: "/{id}/workflow/history", methods: ["GET", "HEAD"], summary: "A record's workflow history, oldest first"),
    ]

    /// The methods `action` allows in `table`: 404 for an action the table lacks, 405 (with
    /// `Allow`) for a method it does not list.
    package static func check(_ method: String, action: String, in table: [Action], resource: String) throws(DomainError) {
        guard let entry = table.first(where: { $0.name == action }) else {
            throw DomainError(.notFound, code: "NOT_FOUND", message: "unknown action '\(resource):\(action)'")
        }
        guard entry.methods.contains(method) else { throw Route.methodNotAllowed(entry.methods.joined(separator: ", ")) }
    }

    /// Checks `method` against the fixed route `path` (a template of `fixed` or `recordWorkflow`):
    /// 405 with `Allow` when the table does not list it.
    package static func check(_ method: String, fixed path: String) throws(DomainError) {
        guard let methods = fixedMethods[path] else { throw DomainError(.notFound, code: "NOT_FOUND", message: "no route for \(path)") }
        guard methods.contains(method) else { throw Route.methodNotAllowed(methods.joined(separator: ", ")) }
    }

    /// `fixed` and `recordWorkflow` by path, built once: `/health` checks its method here per request.
    private static let fixedMethods: [String: [String]] =
        Dictionary(uniqueKeysWithValues: (fixed + recordWorkflow).map { ($0.path, $0.methods) })
}
