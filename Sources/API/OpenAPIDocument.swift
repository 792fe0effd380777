import JSON
import Model

/// `GET /api/openapi.json`: an OpenAPI 3.0 document generated from `APIRoutes` (the tables the
/// dispatchers check) and the live catalogue, so every collection's routes carry its own fields.
/// `schema/openapi.json` is this document for the examples' seeds (a test keeps the two equal).
package struct OpenAPIDocument {
    package let catalogue: Catalogue

    package func json() -> JSON {
        var paths = JSONObject()
        func add(_ path: String, _ methods: [String], _ operation: (String) -> JSON) {
            var item = paths[path]?.objectValue ?? JSONObject()
            for method in methods where method != "HEAD" { item[method.lowercased()] = operation(method) }
            paths[path] = .object(item)
        }

        for fixed in APIRoutes.fixed {
            add(fixed.path, fixed.methods) { method in fixedOperation(fixed, method: method) }
        }
        for name in catalogue.userDefined {
            guard let definition = catalogue.collection(name) else { continue }
            let actions = APIRoutes.collection + (definition.workflowDefinition == nil ? [] : [APIRoutes.invokeWorkflow])
            for action in actions {
                add("/api/\(name):\(action.name)", action.methods) { recordOperation(name, action, method: $0, form: .action) }
            }
            add("/api/\(name)", ["GET", "POST"]) { recordOperation(name, $0 == "GET" ? APIRoutes.record[0] : APIRoutes.record[2], method: $0, form: .rest) }
            add("/api/\(name)/{id}", ["GET", "PUT", "PATCH", "DELETE"]) { method in
                let action = switch method { case "GET": APIRoutes.record[1]; case "DELETE": APIRoutes.record[4]; default: APIRoutes.record[3] }
                return recordOperation(name, action, method: method, form: .restID)
            }
            if definition.workflowDefinition != nil {
                for route in APIRoutes.recordWorkflow {
                    var path = route
                    path.path = "/api/\(name)" + route.path
                    add(path.path, route.methods) { method in fixedOperation(path, method: method, tag: name) }
                }
            }
            for field in definition.fields where field.type.isRelation && !field.hidden {
                guard let target = field.target else { continue }
                let actions = field.type == .belongsTo ? Array(APIRoutes.record[0...1]) : APIRoutes.record
                for action in actions {
                    add("/api/\(name)/{id}/\(field.name):\(action.name)", action.methods) {
                        recordOperation(target, action, method: $0, form: .association(parent: name, relation: field.name))
                    }
                }
                let links = APIRoutes.links.filter { field.type.isToMany || $0.name == "set" || $0.name == "remove" }
                for action in links {
                    add("/api/\(name)/{id}/\(field.name):\(action.name)", action.methods) { method in
                        operation(target, action, method: method, parameters: [roleHeader, pathParameter("id"), filterByTk],
                                  body: method == "GET" || method == "DELETE" ? .none : ["type": "array", "items": ["type": "integer", "minimum": 1]],
                                  operationID: "\(name).\(field.name).\(action.name).\(method.lowercased())")
                    }
                }
            }
        }
        builtIn("collections", APIRoutes.collections, add)
        for action in APIRoutes.fields {
            add("/api/collections/{collection}/fields:\(action.name)", action.methods) { method in
                operation("fields", action, method: method, parameters: [pathParameter("collection", string: true)]
                    + (action.name == "destroy" ? [queryParameter("filterByTk", "The field's name", required: true), queryParameter("force", "true to drop a field that holds data")] : []),
                    body: action.name == "create" ? Self.field : .none)
            }
        }
        for (resource, actions) in APIRoutes.identities { builtIn(resource, actions, add) }
        builtIn("workflows", APIRoutes.workflows, add)
        builtIn("executions", APIRoutes.executions, add)

        return [
            "openapi": "3.0.3",
            "info": ["title": "TriggerBase", "version": "1",
                     "description": "Collections over HTTP, with workflows fired after writes. Generated from the server's route table and catalogue."],
            "paths": .object(paths),
            "components": components(),
            "security": [["bearer": []], [:]],
        ]
    }

    // MARK: Operations

    private enum Form {
        case action, rest, restID
        case association(parent: String, relation: String)
    }

    private func recordOperation(_ collection: String, _ action: APIRoutes.Action, method: String, form: Form) -> JSON {
        var parameters: [JSON] = [roleHeader]
        var id = "\(collection).\(action.name)"
        var toOne = false
        switch form {
        case .action: id += ".\(method.lowercased())"
        case .rest: id += ".rest"
        case .restID:
            id += ".rest.\(method.lowercased())"
            parameters.append(pathParameter("id"))
        case .association(let parent, let relation):
            id = "\(parent).\(relation).\(action.name).\(method.lowercased())"
            parameters.append(pathParameter("id"))
            toOne = catalogue.collection(parent)?.field(relation)?.type == .belongsTo
        }
        let byID: Bool = { if case .restID = form { return true }; return false }()
        let definition = catalogue.collection(collection)
        let columns = catalogue.allColumns(collection).filter { column in definition?.field(column)?.hidden != true }
        let relations = definition?.fields.filter { $0.type.isRelation && !$0.hidden }.map(\.name) ?? []
        switch action.name {
        case "list":
            parameters += [filter, queryParameter("sort", "Comma list of fields, '-' for descending", names: columns + columns.map { "-" + $0 }),
                           queryParameter("page", "From 1", integer: true), queryParameter("pageSize", "Default 20, at most 1000", integer: true),
                           queryParameter("paginate", "false for up to 10,000 rows", names: ["true", "false"]),
                           queryParameter("fields", "Comma list of fields to return", names: columns),
                           queryParameter("except", "Comma list of fields to drop", names: columns)]
            if !relations.isEmpty { parameters.append(queryParameter("appends", "Comma list of relation paths to embed", names: relations)) }
        case "get":
            if !byID { parameters.append(filterByTk) }
            parameters.append(queryParameter("fields", "Comma list of fields to return", names: columns))
            if !relations.isEmpty { parameters.append(queryParameter("appends", "Comma list of relation paths to embed", names: relations)) }
        case "create":
            parameters += [triggerWorkflows, whitelist, blacklist]
        case "update":
            if !byID { parameters += [filterByTk, filter] }
            parameters += [triggerWorkflows, whitelist, blacklist]
        case "destroy":
            if !byID { parameters += [filterByTk, filter] }
            parameters.append(triggerWorkflows)
        case "firstOrCreate", "updateOrCreate":
            parameters += [queryParameter("filterKeys", "Comma list of the fields that identify the record", required: true, names: columns),
                           triggerWorkflows, whitelist, blacklist]
        default: // invokeWorkflow
            parameters += [filterByTk, triggerWorkflows]
        }
        let body: JSON? = switch action.name {
        case "create": ["oneOf": [ref("\(collection)Values"), ["type": "array", "items": ref("\(collection)Values")]]]
        case "firstOrCreate", "updateOrCreate": ref("\(collection)Values")
        case "update": ref("\(collection)Changes")
        case "invokeWorkflow": ref("WorkflowEvent")
        default: .none
        }
        let data: JSON = switch action.name {
        case "list" where !toOne: ["type": "array", "items": ref(collection)]
        case "destroy": ["type": "integer"]
        case "invokeWorkflow", "firstOrCreate": ref(collection)
        // A missing record (or one outside the caller's scope) is null, as in NocoBase.
        case "get": ["allOf": [ref(collection)], "nullable": true]
        case "update": ["type": "array", "items": ref(collection)]
        case "list" where toOne: ["allOf": [ref(collection)], "nullable": true]
        default: ["oneOf": [ref(collection), ["type": "array", "items": ref(collection)]]]
        }
        var success: JSONObject = ["type": "object", "required": ["data"], "properties": ["data": data]]
        if action.name == "list" && !toOne { success["properties"] = ["data": data, "meta": ref("ListMeta")] }
        return operation(collection, action, method: method, parameters: parameters, body: method == "GET" || method == "DELETE" ? .none : body,
                         operationID: id, success: .object(success))
    }

    private func builtIn(_ resource: String, _ actions: [APIRoutes.Action], _ add: (String, [String], (String) -> JSON) -> Void) {
        for action in actions {
            add("/api/\(resource):\(action.name)", action.methods) { method in
                let needsKey = !["list", "create", "signIn", "signOut"].contains(action.name)
                let body = method == "GET" || method == "DELETE" ? .none : Self.bodies["\(resource):\(action.name)"]
                // executions:retry takes a filter for bulk retry (the dead-letter view's "retry all").
                let filtered = action.name == "list" || (resource == "executions" && action.name == "retry")
                // Sign-in is capped per client address and server-wide (429 with Retry-After; issue 13).
                return operation(resource, action, method: method, parameters: [roleHeader] + (needsKey ? [filterByTk] : []) + (filtered ? [filter] : []),
                                 body: body, success: ["type": "object", "required": ["data"]], extraErrors: action.name == "signIn" ? ["429"] : [])
            }
        }
    }

    private func fixedOperation(_ fixed: APIRoutes.Fixed, method: String, tag: String? = nil) -> JSON {
        var parameters: [JSON] = []
        var position = fixed.path.startIndex
        while let open = fixed.path[position...].firstIndex(of: "{"), let close = fixed.path[open...].firstIndex(of: "}") {
            let name = String(fixed.path[fixed.path.index(after: open)..<close])
            parameters.append(pathParameter(name, string: name != "id"))
            position = close
        }
        if fixed.path == "/api/workflow/processinstance" {
            parameters += method == "POST" ? [queryParameter("_action", "create", required: true)]
                : [queryParameter("businessKey", "Instances of one business key"), queryParameter("_queryFilter", "businessKey|processDefinitionId eq \"…\", or true")]
        }
        if fixed.path.hasPrefix("/api/") && fixed.path != "/api/openapi.json" { parameters.insert(roleHeader, at: 0) }
        let body: JSON? = method == "GET" ? .none : tag != nil ? ref("WorkflowEvent") : Self.bodies["\(method) \(fixed.path)"]
        let action = APIRoutes.Action(name: method.lowercased(), methods: fixed.methods, summary: fixed.summary)
        let id = fixed.path.split(separator: "/").map { $0.filter { $0.isLetter || $0.isNumber } }.joined(separator: ".") + "." + method.lowercased()
        let success: JSON = fixed.path == "/metrics" ? ["type": "string"]
            : fixed.path == "/api/management/workflow/definitions" ? ["type": "array", "items": ["type": "object"]] : ["type": "object"]
        return operation(tag ?? (fixed.path.contains("/workflow") ? "workflow" : "operations"), action, method: method,
                         parameters: parameters, body: body, operationID: id, success: success,
                         contentType: fixed.path == "/metrics" ? "text/plain" : "application/json")
    }

    private func operation(_ tag: String, _ action: APIRoutes.Action, method: String, parameters: [JSON], body: JSON?,
                           operationID: String? = nil, success: JSON = ["type": "object"], contentType: String = "application/json",
                           extraErrors: [String] = []) -> JSON {
        var operation: JSONObject = [
            "operationId": .string(operationID ?? "\(tag).\(action.name).\(method.lowercased())"),
            "tags": [.string(tag)],
            "summary": .string(action.summary),
        ]
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body { operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
        var content = JSONObject()
        content[contentType] = ["schema": success]
        var responses: JSONObject = ["200": ["description": "OK", "content": .object(content)]]
        for status in ["400", "401", "403", "404", "405", "409", "413", "422", "500", "503"] + extraErrors {
            responses[status] = ref("Error", responses: true)
        }
        operation["responses"] = .object(responses)
        return .object(operation)
    }

    // MARK: Bodies

    private static let name: JSON = ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,62}$"]
    private static let field: JSON = [
        "type": "object", "required": ["name", "type"],
        "properties": ["name": name, "type": ["type": "string", "enum": .array(FieldType.allCases.map { .string($0.rawValue) })],
                       "required": ["type": "boolean"], "unique": ["type": "boolean"], "hidden": ["type": "boolean"],
                       "index": ["type": "boolean"], "target": name, "foreignKey": name],
    ]
    private static let optionalString: JSON = ["type": "string", "nullable": true]
    private static let workflow: JSON = [
        "type": "object",
        "properties": ["key": ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "nullable": true], "title": optionalString, "enabled": ["type": "boolean"],
                       "sync": ["type": "boolean"], "config": ["type": "object"], "nodes": ["type": "array", "items": ["type": "object"]],
                       "options": ["type": "object"]],
    ]

    /// Request bodies of the built-in resources and fixed paths, by `resource:action` or `METHOD path`.
    private static let bodies: [String: JSON] = [
        "auth:signIn": ["type": "object", "required": ["account", "password"],
                        "properties": ["account": ["type": "string"], "password": ["type": "string"]]],
        "apiKeys:create": ["type": "object", "required": ["role"],
                           "properties": ["role": name, "name": ["type": "string"], "expiresIn": ["type": "string", "pattern": "^[0-9]{1,6}[smhd]$"]]],
        "users:create": ["type": "object", "required": ["username"],
                         "properties": ["username": ["type": "string", "minLength": 1], "email": optionalString, "nickname": optionalString,
                                        "password": optionalString, "roles": ["type": "array", "items": name]]],
        "users:update": ["type": "object", "properties": ["email": optionalString, "nickname": optionalString,
                                                          "password": optionalString, "roles": ["type": "array", "items": name]]],
        "roles:create": ["type": "object", "required": ["name"],
                         "properties": ["name": name, "title": optionalString, "permissions": ["type": "object"]]],
        "roles:update": ["type": "object", "properties": ["title": optionalString, "permissions": ["type": "object"]]],
        "collections:create": ["type": "object", "required": ["name"],
                               "properties": ["name": name, "fields": ["type": "array", "items": field], "workflowDefinition": optionalString]],
        "workflows:create": workflow,
        "workflows:update": workflow,
        "workflows:execute": ["type": "object", "properties": ["values": ["type": "object", "properties": [
            "data": ["oneOf": [["type": "object"], ["type": "integer"]]], "userId": ["type": "integer"]]]]],
        "POST /api/workflow/processinstance": ["type": "object", "properties": [
            "_key": ["type": "string"], "_processDefinitionId": ["type": "string"], "_businessKey": ["type": "string"]]],
        "PUT /api/management/workflow/definitions/{definitionId}": ["type": "object", "required": ["id", "states"],
            "properties": ["id": ["type": "string"], "name": ["type": "object"], "version": ["type": "string"],
                           "states": ["type": "array", "items": ["type": "object"]]]],
        "POST /api/management/workflow/definitions/{definitionId}/workflow/events": ["type": "object", "required": ["event"],
            "properties": ["event": ["type": "string", "enum": ["publish"]], "version": ["type": "string"]]],
    ]

    // MARK: Parameters

    private var roleHeader: JSON {
        ["name": "X-Role", "in": "header", "description": "The role to act as; one the user holds", "schema": ["type": "string"]]
    }
    private var filterByTk: JSON { queryParameter("filterByTk", "Primary key (comma-separate for several)", nonEmpty: true) }
    /// A JSON object in the query (OpenAPI `content`), so generated filters are JSON.
    private var filter: JSON {
        ["name": "filter", "in": "query", "required": false, "description": Self.filterDescription,
         "content": ["application/json": ["schema": ["type": "object"]]]]
    }
    private var whitelist: JSON { queryParameter("whitelist", "Comma list of the top-level keys of the values to keep (others are dropped)") }
    private var blacklist: JSON { queryParameter("blacklist", "Comma list of the top-level keys of the values to drop") }
    /// The operators of spec 02 (NocoBase's set), listed for clients that read the document.
    package static let filterDescription: JSON = .string(
        "JSON filter (NocoBase's shape), e.g. {\"title\":{\"$includes\":\"x\"}}. Operators: "
        + FilterOperator.allCases.map(\.rawValue).joined(separator: " ")
        + " (also $endWith), combined with $and / $or. Date operators take YYYY, YYYY-MM, YYYY-MM-DD or an ISO date-time"
        + " (Z or ±HH:MM), compared at that granularity; $dateBetween takes [from, to], both ends included.")

    private var triggerWorkflows: JSON { queryParameter("triggerWorkflows", "key[!relation.path],... fired after the action succeeds") }

    private func queryParameter(_ name: String, _ description: String, integer: Bool = false, required: Bool = false,
                                names: [String]? = nil, nonEmpty: Bool = false) -> JSON {
        let schema: JSON = if integer { ["type": "integer", "minimum": 1] }
            else if let names { ["type": "string", "pattern": .string(Self.commaList(names))] }
            else if nonEmpty { ["type": "string", "minLength": 1] }
            else { ["type": "string"] }
        return ["name": .string(name), "in": "query", "required": .bool(required), "description": .string(description), "schema": schema]
    }

    /// A pattern for a comma list of `names` (empty allowed), spaces around items allowed.
    private static func commaList(_ names: [String]) -> String {
        let one = "(" + names.joined(separator: "|") + ")"
        return "^( *\(one) *(, *\(one) *)*)?$"
    }

    private func pathParameter(_ name: String, string: Bool = false) -> JSON {
        ["name": .string(name), "in": "path", "required": true,
         "schema": string ? ["type": "string"] : ["type": "integer", "minimum": 1]]
    }

    private func ref(_ name: String, responses: Bool = false) -> JSON {
        responses ? ["$ref": .string("#/components/responses/\(name)")] : ["$ref": .string("#/components/schemas/\(name)")]
    }

    // MARK: Components

    private func components() -> JSON {
        var schemas: JSONObject = [
            "Error": ["type": "object", "required": ["errors"], "properties": ["errors": ["type": "array", "items": [
                "type": "object", "required": ["message", "code"],
                "properties": ["message": ["type": "string"], "code": ["type": "string"], "field": ["type": "string"]],
            ]]]],
            "ListMeta": ["type": "object", "properties": ["count": ["type": "integer"], "page": ["type": "integer"],
                                                          "pageSize": ["type": "integer"], "totalPage": ["type": "integer"]]],
            "WorkflowEvent": ["type": "object", "properties": ["event": ["type": "string"], "version": ["type": "integer"]]],
        ]
        for name in catalogue.userDefined {
            guard let definition = catalogue.collection(name) else { continue }
            schemas[name] = record(definition)
            schemas["\(name)Values"] = values(definition, requireRequired: true)
            schemas["\(name)Changes"] = values(definition, requireRequired: false)
        }
        return [
            "schemas": .object(schemas),
            "responses": ["Error": ["description": "An error: {\"errors\": [{message, code, field?}]}",
                                    "content": ["application/json": ["schema": ref("Error")]]]],
            "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
        ]
    }

    /// A record as answered: system columns, the visible fields, embedded relations when appended.
    private func record(_ definition: CollectionDefinition) -> JSON {
        var properties: JSONObject = ["id": ["type": "integer"]]
        for column in ["createdAt", "updatedAt"] { properties[column] = ["type": "string", "nullable": true] }
        for column in ["createdById", "updatedById"] { properties[column] = ["type": "integer", "nullable": true] }
        for field in definition.fields where !field.hidden {
            if let column = field.column, field.type == .belongsTo { properties[column] = ["type": "integer", "nullable": true] }
            properties[field.name] = field.type.isRelation ? relation(field, answered: true) : scalar(field)
        }
        for (column, _) in catalogue.foreignColumns(definition.name) { properties[column] = ["type": "integer", "nullable": true] }
        for column in CollectionDefinition.workflowColumns where definition.workflowDefinition != nil {
            properties[column.name] = scalar(FieldDefinition(name: column.name, type: column.type))
        }
        return ["type": "object", "properties": .object(properties)]
    }

    /// A create or update body: writable fields only; unknown fields are refused (400).
    private func values(_ definition: CollectionDefinition, requireRequired: Bool) -> JSON {
        var properties = JSONObject()
        var required: [JSON] = []
        for field in definition.fields {
            properties[field.name] = field.type.isRelation ? relation(field, answered: false) : scalar(field, nullable: !field.required)
            if let column = field.column, field.type == .belongsTo { properties[column] = ["type": "integer", "nullable": true] }
            if requireRequired && field.required && field.defaultValue == nil { required.append(.string(field.name)) }
        }
        for (column, _) in catalogue.foreignColumns(definition.name) { properties[column] = ["type": "integer", "nullable": true] }
        var schema: JSONObject = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { schema["required"] = .array(required) }
        return .object(schema)
    }

    private func scalar(_ field: FieldDefinition, nullable: Bool = true) -> JSON {
        var schema: JSONObject = switch field.type {
        case .string: ["type": "string", "maxLength": .int(Int64(field.maxLength ?? 255))]
        case .text: ["type": "string"]
        case .integer: ["type": "integer", "format": "int64"]
        case .double: ["type": "number"]
        case .boolean: ["type": "boolean"]
        case .date: ["type": "string", "format": "date"]
        case .datetime: ["type": "string", "format": "date-time"]
        default: [:]
        }
        if nullable && field.type != .json { schema["nullable"] = true }
        return .object(schema)
    }

    private func relation(_ field: FieldDefinition, answered: Bool) -> JSON {
        let one: JSON = answered ? ["type": "object"] : ["oneOf": [["type": "integer", "minimum": 1], ["type": "object"]]]
        return field.type.isToMany ? ["type": "array", "items": one] : ["allOf": [one], "nullable": true]
    }
}
