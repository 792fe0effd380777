import Model

/// Where a request under `/api/` goes (spec 02: URL grammar).
package enum Route: Equatable {
    /// `/api/<collection>:<action>` and the REST aliases.
    case resource(collection: String, action: String, id: Int64?)
    /// `/api/<collection>/<id>/<relation>:<action>`.
    case association(collection: String, id: Int64, relation: String, action: String)
    /// `/api/collections/<name>/fields:<action>`.
    case fields(collection: String, action: String)

    /// Parses the path after `/api/` together with the method; REST forms map to actions.
    package static func parse(_ rest: Substring, method: String) throws(DomainError) -> Route {
        let segments = rest.split(separator: "/", omittingEmptySubsequences: false).map { QueryParameters.decode($0) }
        guard !segments.isEmpty, !segments.contains(where: \.isEmpty) else { throw notFound(rest) }
        func split(_ segment: String) -> (String, String?) {
            guard let colon = segment.firstIndex(of: ":") else { return (segment, nil) }
            return (String(segment[..<colon]), String(segment[segment.index(after: colon)...]))
        }
        func id(_ text: String) throws(DomainError) -> Int64 {
            guard let value = PositiveID.parse(text) else { throw .notFound }
            return value
        }
        switch segments.count {
        case 1:
            let (name, action) = split(segments[0])
            try checkName(name)
            if let action { return .resource(collection: name, action: action, id: nil) }
            switch method {
            case "GET", "HEAD": return .resource(collection: name, action: "list", id: nil)
            case "POST": return .resource(collection: name, action: "create", id: nil)
            default: throw methodNotAllowed("GET, HEAD, POST")
            }
        case 2:
            try checkName(segments[0])
            let recordID = try id(segments[1])
            switch method {
            case "GET", "HEAD": return .resource(collection: segments[0], action: "get", id: recordID)
            case "PUT", "PATCH": return .resource(collection: segments[0], action: "update", id: recordID)
            case "DELETE": return .resource(collection: segments[0], action: "destroy", id: recordID)
            default: throw methodNotAllowed("GET, HEAD, PUT, PATCH, DELETE")
            }
        case 3:
            try checkName(segments[0])
            let (relation, action) = split(segments[2])
            try checkName(relation)
            if segments[0] == "collections" {
                guard relation == "fields", let action else { throw notFound(rest) }
                return .fields(collection: segments[1], action: action)
            }
            let recordID = try id(segments[1])
            if let action { return .association(collection: segments[0], id: recordID, relation: relation, action: action) }
            switch method {
            case "GET", "HEAD": return .association(collection: segments[0], id: recordID, relation: relation, action: "list")
            case "POST": return .association(collection: segments[0], id: recordID, relation: relation, action: "create")
            default: throw methodNotAllowed("GET, HEAD, POST")
            }
        default:
            throw notFound(rest)
        }
    }

    package static func methodNotAllowed(_ allow: String) -> DomainError {
        DomainError(.methodNotAllowed(allow: allow), code: "METHOD_NOT_ALLOWED", message: "method not allowed; allowed: \(allow)")
    }

    private static func checkName(_ name: String) throws(DomainError) {
        guard Name.isValid(name) else { throw .invalidName(name) }
    }

    private static func notFound(_ path: Substring) -> DomainError {
        DomainError(.notFound, code: "NOT_FOUND", message: "no route for /api/\(path)")
    }
}
