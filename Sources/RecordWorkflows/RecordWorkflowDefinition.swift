import JSON
import Model

/// A record-workflow definition in the Contensis shape (spec 06): states, each with entry actions
/// and events; events with a target state, exit actions, parameters and optional roles. The JSON
/// is kept as given (so a Contensis definition loads unchanged); this is the parsed view.
package struct RecordWorkflowDefinition: Sendable {
    package struct Parameter: Sendable {
        package var id: String
        package var required: Bool
        /// The configured message for a missing required value.
        package var requiredMessage: String?
        package var defaultValue: JSON
    }

    package struct Event: Sendable {
        package var id: String
        package var transitionTo: String?
        package var exitActions: [String]
        package var parameters: [Parameter]
        /// Roles that may invoke it; nil means anyone with `update` on the collection.
        package var roles: [String]?
    }

    package struct State: Sendable {
        package var id: String
        package var entryActions: [String]
        package var events: [Event]
    }

    package static let actions: Set<String> = ["validateEntry", "publishEntry", "unpublishEntry", "updateEntry"]

    package var id: String
    package var states: [State]
    package var initialState: String { states[0].id }

    package func state(_ id: String) -> State? { states.first { $0.id == id } }

    /// Parses and checks a definition; every problem found is one item of a 422 `ValidationError`.
    package static func parse(_ json: JSON, id: String) throws(DomainError) -> RecordWorkflowDefinition {
        var problems: [DomainError.Item] = []
        func problem(_ field: String, _ message: String) {
            problems.append(.init(message: message, code: "ValidationError", field: field))
        }
        guard case .object(let object) = json else { throw invalid([.init(message: "a definition is a JSON object", code: "ValidationError")]) }
        if let given = object["id"], given.stringValue != id { problem("id", "the id in the body must be '\(id)'") }
        var states: [State] = []
        let stateList = object["states"]?.arrayValue ?? []
        if stateList.isEmpty { problem("states", "a definition needs at least one state") }
        for (i, item) in stateList.enumerated() {
            let place = "states[\(i)]"
            guard let stateID = item["id"]?.stringValue, !stateID.isEmpty else { problem("\(place).id", "a state needs an id"); continue }
            if states.contains(where: { $0.id == stateID }) { problem("\(place).id", "state id '\(stateID)' is used twice") }
            var events: [Event] = []
            for (j, eventJSON) in (item["events"]?.arrayValue ?? []).enumerated() {
                let eventPlace = "\(place).events[\(j)]"
                guard let eventID = eventJSON["id"]?.stringValue, !eventID.isEmpty else { problem("\(eventPlace).id", "an event needs an id"); continue }
                if events.contains(where: { $0.id == eventID }) { problem("\(eventPlace).id", "event id '\(eventID)' is used twice in state '\(stateID)'") }
                let parameters = (eventJSON["parameters"]?.arrayValue ?? []).compactMap { parameter -> Parameter? in
                    guard let parameterID = parameter["id"]?.stringValue else { return nil }
                    let required = parameter[path: ["validations", "required"]]
                    return Parameter(id: parameterID, required: required != nil && required != .null && required != .bool(false),
                                     requiredMessage: required.flatMap { message($0["message"]) }, defaultValue: parameter["default"] ?? .null)
                }
                events.append(Event(id: eventID, transitionTo: eventJSON["transitionTo"]?.stringValue,
                                    exitActions: actionNames(eventJSON["exitActions"], place: "\(eventPlace).exitActions", problem: problem),
                                    parameters: parameters, roles: eventJSON["roles"]?.arrayValue?.compactMap(\.stringValue)))
            }
            states.append(State(id: stateID, entryActions: actionNames(item["entryActions"], place: "\(place).entryActions", problem: problem),
                                events: events))
        }
        for (i, state) in states.enumerated() {
            for (j, event) in state.events.enumerated() {
                if let target = event.transitionTo, !states.contains(where: { $0.id == target }) {
                    problem("states[\(i)].events[\(j)].transitionTo", "event '\(state.id).\(event.id)' goes to unknown state '\(target)'")
                }
            }
        }
        guard problems.isEmpty else { throw invalid(problems) }
        return RecordWorkflowDefinition(id: id, states: states)
    }

    private static func actionNames(_ value: JSON?, place: String, problem: (String, String) -> Void) -> [String] {
        var names: [String] = []
        for (i, item) in (value?.arrayValue ?? []).enumerated() {
            guard let name = item["invokeAction"]?.stringValue, actions.contains(name) else {
                problem("\(place)[\(i)]", "unknown action '\(item["invokeAction"]?.stringValue ?? item.serialized())'")
                continue
            }
            names.append(name)
        }
        return names
    }

    /// A configured text: a string, or a localized object (`{"en-GB": "..."}`, first language wins).
    package static func message(_ value: JSON?) -> String? {
        if let text = value?.stringValue { return text }
        if case .object(let object)? = value { return object["en-GB"]?.stringValue ?? object.first(where: { $0.value.stringValue != nil })?.value.stringValue }
        return nil
    }

    package static func invalid(_ items: [DomainError.Item]) -> DomainError { DomainError(.unprocessable, items: items) }
}
