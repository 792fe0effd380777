import JSON

/// One workflow version as saved (spec 04: Definitions and versions).
package struct WorkflowDefinition: Sendable, Equatable {
    package var key: String
    package var title: String?
    package var type: String = "action"
    package var enabled = false
    package var sync = false
    package var config: JSONObject = [:]
    package var options: JSONObject = [:]
    package var nodes: [JSON] = []

    package init(key: String, title: String? = nil, type: String = "action", enabled: Bool = false, sync: Bool = false, config: JSONObject = [:], options: JSONObject = [:], nodes: [JSON] = []) {
        self.key = key
        self.title = title
        self.type = type
        self.enabled = enabled
        self.sync = sync
        self.config = config
        self.options = options
        self.nodes = nodes
    }
}
