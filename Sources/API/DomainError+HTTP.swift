import HTTPServer
import JSON
import Model

/// The one place where a domain error becomes an HTTP status, headers and the `errors` body.
extension DomainError {
    package var status: Int {
        switch kind {
        case .invalid: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .unprocessable: 422
        case .rateLimited: 429
        case .unavailable: 503
        case .internalFailure: 500
        }
    }

    package var headers: [(String, String)] {
        var headers: [(String, String)] = []
        if case .methodNotAllowed(let allow) = kind { headers.append(("Allow", allow)) }
        if let seconds = retryAfterSeconds { headers.append(("Retry-After", String(seconds))) }
        return headers
    }

    package var response: HTTPResponse {
        var errors: [JSON] = []
        for item in items {
            var object: JSONObject = ["message": .string(item.message), "code": .string(item.code)]
            if let field = item.field { object["field"] = .string(field) }
            errors.append(.object(object))
        }
        return .json(status: status, JSON.object(["errors": .array(errors)]).serializedBytes(), headers: headers)
    }
}
