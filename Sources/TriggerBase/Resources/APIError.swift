import HTTPServer
import JSON

/// An error answered to the client: status, code, message and (for validation) the field.
/// Written once here, mapped to HTTP in `response` (STYLE habit 5).
struct APIError: Error, Sendable, Equatable {
    struct Item: Sendable, Equatable {
        var message: String
        var code: String
        var field: String?
    }

    var status: Int
    var items: [Item]
    var headers: [(String, String)] = []

    init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.items = [Item(message: message, code: code, field: field)]
    }

    init(status: Int, items: [Item]) {
        self.status = status
        self.items = items
    }

    static func == (a: APIError, b: APIError) -> Bool { a.status == b.status && a.items == b.items }

    var code: String { items.first?.code ?? "" }

    static func badRequest(_ message: String) -> APIError { APIError(status: 400, code: "BAD_REQUEST", message: message) }
    static func invalidName(_ name: String) -> APIError {
        APIError(status: 400, code: "INVALID_NAME", message: "'\(name)' is not a valid name")
    }
    static func invalidParameter(_ name: String, _ why: String) -> APIError {
        APIError(status: 400, code: "INVALID_PARAMETER", message: "invalid parameter '\(name)': \(why)", field: name)
    }
    static func collectionNotFound(_ name: String) -> APIError {
        APIError(status: 404, code: "COLLECTION_NOT_FOUND", message: "collection '\(name)' does not exist")
    }
    static let notFound = APIError(status: 404, code: "NOT_FOUND", message: "record not found")
    static func validation(_ field: String, _ message: String) -> APIError {
        APIError(status: 400, code: "VALIDATION_ERROR", message: message, field: field)
    }
    /// 503 `OVERLOADED` with `Retry-After: 1`: work refused at the door so queues stay bounded
    /// (load shedding, a full password-hashing queue).
    static func overloaded(_ message: String) -> APIError {
        var error = APIError(status: 503, code: "OVERLOADED", message: message)
        error.headers = [("Retry-After", "1")]
        return error
    }
    static func internalError(_ requestID: String) -> APIError {
        APIError(status: 500, code: "INTERNAL_ERROR", message: "internal error (request \(requestID))")
    }

    var response: HTTPResponse {
        var errors: [JSON] = []
        for item in items {
            var object: JSONObject = ["message": .string(item.message), "code": .string(item.code)]
            if let field = item.field { object["field"] = .string(field) }
            errors.append(.object(object))
        }
        return .json(status: status, JSON.object(["errors": .array(errors)]).serializedBytes(), headers: headers)
    }
}

/// Names of collections, fields and roles (spec README: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`).
enum Name {
    static func isValid(_ name: some StringProtocol) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63 else { return false }
        guard first == 95 || (first | 0x20 >= 97 && first | 0x20 <= 122) else { return false }
        return bytes.allSatisfy { $0 == 95 || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) }
    }

    /// A checked name quoted for SQL. Only names that passed `isValid` and the catalogue get here.
    static func quoted(_ name: String) -> String { "\"" + name + "\"" }
}
