import JSON
import Model
import Storage

/// Validating and merging definitions (spec 04: Definitions and versions).
extension WorkflowDefinition {
    package static let nodeTypes: Set<String> = ["condition", "create", "update", "query", "destroy", "request", "response-message", "delay", "end"]
    package static let triggerActions: Set<String> = ["create", "update", "destroy", "workflowEvent"]

    /// Applies the fields present in `body` (a create or update) over `self`.
    package mutating func merge(_ body: JSONObject) throws(DomainError) {
        let known: Set<String> = ["key", "title", "type", "enabled", "sync", "config", "options", "nodes", "description"]
        for name in body.keys where !known.contains(name) { throw Self.invalid(name, "unknown property '\(name)'") }
        if let value = body["title"] {
            guard value.isNull || value.stringValue != nil else { throw Self.invalid("title", "title must be a string") }
            title = value.stringValue
        }
        if let value = body["type"] {
            guard let text = value.stringValue else { throw Self.invalid("type", "type must be a string") }
            type = text
        }
        for (name, target) in [("enabled", \WorkflowDefinition.enabled), ("sync", \WorkflowDefinition.sync)] {
            guard let value = body[name] else { continue }
            guard let flag = value.boolValue else { throw Self.invalid(name, "\(name) must be true or false") }
            self[keyPath: target] = flag
        }
        for (name, target) in [("config", \WorkflowDefinition.config), ("options", \WorkflowDefinition.options)] {
            guard let value = body[name] else { continue }
            guard let object = value.objectValue else { throw Self.invalid(name, "\(name) must be an object") }
            self[keyPath: target] = object
        }
        if let value = body["nodes"] {
            guard let list = value.arrayValue else { throw Self.invalid("nodes", "nodes must be an array") }
            nodes = list
        }
    }

    package static func invalid(_ place: String, _ message: String) -> DomainError {
        DomainError(.invalid, code: "INVALID_WORKFLOW", message: "\(place): \(message)", field: place)
    }

    /// Checks the definition against the catalogue; each problem is a 400 `INVALID_WORKFLOW`
    /// naming its place (spec 04).
    package func validate(catalogue: Catalogue) throws(DomainError) {
        guard type == "action" else { throw Self.invalid("type", "unknown trigger type '\(type)'") }
        let collection = config["collection"]?.stringValue
        if let value = config["collection"], !value.isNull {
            guard let name = collection, catalogue.collection(name)?.isBuiltIn == false else {
                throw Self.invalid("config.collection", "unknown collection '\(value.stringValue ?? value.serialized())'")
            }
        }
        if enabled && collection == nil { throw Self.invalid("config.collection", "an enabled action workflow needs a collection") }
        if let value = config["global"], value.boolValue == nil { throw Self.invalid("config.global", "global must be true or false") }
        if let value = config["actions"] {
            guard let list = value.arrayValue else { throw Self.invalid("config.actions", "actions must be an array") }
            for (i, item) in list.enumerated() {
                guard let action = item.stringValue, Self.triggerActions.contains(action) else {
                    throw Self.invalid("config.actions[\(i)]", "actions are create, update, destroy or workflowEvent")
                }
                if action == "workflowEvent", collection.flatMap({ catalogue.collection($0)?.workflowDefinition }) == nil {
                    throw Self.invalid("config.actions[\(i)]", "workflowEvent needs a collection bound to a record workflow")
                }
            }
        }
        if let value = config["appends"] {
            guard let list = value.arrayValue?.compactMap(\.stringValue), list.count == value.arrayValue?.count else {
                throw Self.invalid("config.appends", "appends must be an array of relation paths")
            }
            guard let collection else { throw Self.invalid("config.appends", "appends need a collection") }
            do {
                try catalogue.validateAppends(list.map { $0.split(separator: ".").map(String.init) }, collection: collection,
                                              parameter: "config.appends")
            } catch { throw Self.invalid("config.appends", error.items.first?.message ?? "not a relation") }
        }
        try validateOptions()
        var seen: Set<String> = []
        var keys: Set<String> = []
        try validateNodes(nodes, place: "nodes", upstream: [], seen: &seen, keys: &keys, catalogue: catalogue)
    }

    private func validateOptions() throws(DomainError) {
        for name in ["concurrency", "timeoutMs"] {
            if let value = options[name], (value.intValue ?? 0) < 1 { throw Self.invalid("options.\(name)", "\(name) must be a positive integer") }
        }
        if let value = options["retries"], (value.intValue ?? -1) < 0 {
            throw Self.invalid("options.retries", "retries must be an integer of 0 or more")
        }
        if let value = options["startRoles"], value.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            throw Self.invalid("options.startRoles", "startRoles must be an array of role names")
        }
        if let value = options["deleteExecutionOnStatus"] {
            guard let list = value.arrayValue, list.allSatisfy({ item in
                (item.intValue.map { ExecutionStatus(rawValue: $0) } ?? item.stringValue.map { ExecutionStatus(name: $0) })??.isFinal == true
            }) else {
                throw Self.invalid("options.deleteExecutionOnStatus", "deleteExecutionOnStatus lists final statuses (1, -1 … -4 or their names)")
            }
        }
    }

    /// Node ids and keys unique in the version; templates may only name upstream nodes' keys.
    private func validateNodes(_ list: [JSON], place: String, upstream: Set<String>, seen: inout Set<String>,
                               keys: inout Set<String>, catalogue: Catalogue) throws(DomainError) {
        var upstream = upstream
        for (i, node) in list.enumerated() {
            let here = "\(place)[\(i)]"
            guard case .object(let object) = node else { throw Self.invalid(here, "a node must be an object") }
            guard let id = object["id"].flatMap({ $0.stringValue ?? $0.intValue.map(String.init) }), !id.isEmpty else {
                throw Self.invalid("\(here).id", "a node needs an id")
            }
            guard seen.insert(id).inserted else { throw Self.invalid("\(here).id", "node id '\(id)' is used twice") }
            let key = object["key"]?.stringValue ?? id
            guard keys.insert(key).inserted else { throw Self.invalid("\(here).key", "node key '\(key)' is used twice") }
            guard let type = object["type"]?.stringValue, Self.nodeTypes.contains(type) else {
                throw Self.invalid("\(here).type", "unknown node type '\(object["type"]?.stringValue ?? "")'")
            }
            let config = object["config"]?.objectValue ?? [:]
            if type == "delay" && sync { throw Self.invalid("\(here).type", "a delay node cannot run in a sync workflow") }
            var own = config
            if type == "condition" { _ = own.removeValue(forKey: "then"); _ = own.removeValue(forKey: "else") }
            for path in Template.references(in: .object(own)) {
                try checkReference(path, upstream: upstream, place: "\(here).config")
            }
            try validateNodeConfig(type, config, place: "\(here).config", catalogue: catalogue)
            if type == "condition" {
                let inner = upstream.union([key])
                for branch in ["then", "else"] {
                    guard let value = config[branch] else { continue }
                    guard let nodes = value.arrayValue else { throw Self.invalid("\(here).config.\(branch)", "a branch is an array of nodes") }
                    try validateNodes(nodes, place: "\(here).config.\(branch)", upstream: inner, seen: &seen, keys: &keys, catalogue: catalogue)
                }
            }
            upstream.insert(key)
        }
    }

    private func checkReference(_ path: [String], upstream: Set<String>, place: String) throws(DomainError) {
        switch path.first {
        case "$context", "$system": return
        case "$jobsMapByNodeKey":
            guard path.count >= 2, upstream.contains(path[1]) else {
                throw Self.invalid(place, "template refers to node '\(path.count >= 2 ? path[1] : "")', which is not upstream")
            }
        default:
            throw Self.invalid(place, "unknown template variable '\(path.joined(separator: "."))'")
        }
    }

    private func validateNodeConfig(_ type: String, _ config: JSONObject, place: String, catalogue: Catalogue) throws(DomainError) {
        switch type {
        case "create", "update", "query", "destroy":
            guard let name = config["collection"]?.stringValue, catalogue.collection(name)?.isBuiltIn == false else {
                throw Self.invalid("\(place).collection", "unknown collection '\(config["collection"]?.stringValue ?? "")'")
            }
            if type == "update" || type == "destroy", config["filter"]?.objectValue == nil {
                throw Self.invalid("\(place).filter", "\(type) needs a filter object (it never touches every record)")
            }
        case "request":
            guard let url = config["url"]?.stringValue, !url.isEmpty else { throw Self.invalid("\(place).url", "a request node needs a url") }
            if let method = config["method"], !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method.stringValue?.uppercased() ?? "") {
                throw Self.invalid("\(place).method", "method is GET, POST, PUT, PATCH or DELETE")
            }
            if let value = config["timeoutMs"], !(value.intValue.map { $0 >= 1 } ?? (value.stringValue != nil)) {
                throw Self.invalid("\(place).timeoutMs", "timeoutMs must be a positive integer")
            }
            if let value = config["retries"], !(value.intValue.map { $0 >= 0 } ?? (value.stringValue != nil)) {
                throw Self.invalid("\(place).retries", "retries must be zero or more")
            }
        case "condition":
            guard let filter = config["filter"] else { throw Self.invalid("\(place).filter", "a condition needs a filter") }
            do { _ = try Filter.parse(filter) } catch { throw Self.invalid("\(place).filter", error.message) }
        case "end":
            if let status = config["endStatus"], !["resolved", "failed"].contains(status.stringValue ?? "") {
                throw Self.invalid("\(place).endStatus", "endStatus is resolved or failed")
            }
        case "delay":
            guard (config["durationMs"]?.intValue ?? -1) >= 0 else { throw Self.invalid("\(place).durationMs", "durationMs must be a non-negative integer") }
        default:
            break
        }
    }
}

extension WorkflowDefinition {
    /// The saved version `id`, as stored.
    package static func load(_ id: Int64, _ connection: any Transaction) throws -> WorkflowDefinition? {
        try connection.workflows.version(id)?.definition
    }
}
