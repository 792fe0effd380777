/// An error the caller is told about, in domain words: what kind of failure it is, with a stable
/// code, a message and (for validation) the field. Domain targets throw it and never pick an HTTP
/// status; the API target maps `kind` to a status in one place (`DomainError+HTTP.swift`).
public struct DomainError: Error, Sendable, Equatable {
    /// What went wrong, from the caller's side.
    public enum Kind: Sendable, Equatable {
        /// The input is malformed or breaks a rule of the schema.
        case invalid
        /// No credentials, or credentials that do not identify anyone.
        case unauthenticated
        /// The caller is known but may not do this.
        case forbidden
        /// The thing named does not exist.
        case notFound
        /// The method is not one the action takes; `allow` lists those it does.
        case methodNotAllowed(allow: String)
        /// The request clashes with the current state (a duplicate, a finished execution).
        case conflict
        /// Well-formed input that the record workflow's rules refuse.
        case unprocessable
        /// The caller must slow down.
        case rateLimited
        /// Something we depend on cannot serve now (the database, a full queue).
        case unavailable
        /// A fault of ours; details go to the log only.
        case internalFailure
    }

    public struct Item: Sendable, Equatable {
        public var message: String
        public var code: String
        public var field: String?

        public init(message: String, code: String, field: String? = nil) {
            self.message = message
            self.code = code
            self.field = field
        }
    }

    public var kind: Kind
    public var items: [Item]
    /// Seconds after which trying again makes sense (throttling, load shedding).
    public var retryAfterSeconds: Int?

    public init(_ kind: Kind, code: String, message: String, field: String? = nil) {
        self.kind = kind
        self.items = [Item(message: message, code: code, field: field)]
    }

    public init(_ kind: Kind, items: [Item]) {
        self.kind = kind
        self.items = items
    }

    public static func == (a: DomainError, b: DomainError) -> Bool { a.kind == b.kind && a.items == b.items }

    public var code: String { items.first?.code ?? "" }

    package static func badRequest(_ message: String) -> DomainError { DomainError(.invalid, code: "BAD_REQUEST", message: message) }
    package static func invalidName(_ name: String) -> DomainError {
        DomainError(.invalid, code: "INVALID_NAME", message: "'\(name)' is not a valid name")
    }
    package static func invalidParameter(_ name: String, _ why: String) -> DomainError {
        DomainError(.invalid, code: "INVALID_PARAMETER", message: "invalid parameter '\(name)': \(why)", field: name)
    }
    package static func collectionNotFound(_ name: String) -> DomainError {
        DomainError(.notFound, code: "COLLECTION_NOT_FOUND", message: "collection '\(name)' does not exist")
    }
    package static let notFound = DomainError(.notFound, code: "NOT_FOUND", message: "record not found")
    package static func validation(_ field: String, _ message: String) -> DomainError {
        DomainError(.invalid, code: "VALIDATION_ERROR", message: message, field: field)
    }
    /// `OVERLOADED`, retry after a second: work refused at the door so queues stay bounded (load
    /// shedding, a full password-hashing queue).
    package static func overloaded(_ message: String) -> DomainError {
        var error = DomainError(.unavailable, code: "OVERLOADED", message: message)
        error.retryAfterSeconds = 1
        return error
    }
    package static func internalError(_ requestID: String) -> DomainError {
        DomainError(.internalFailure, code: "INTERNAL_ERROR", message: "internal error (request \(requestID))")
    }
}

extension DomainError: CustomStringConvertible {
    public var description: String { items.map { ($0.field.map { "\($0): " } ?? "") + $0.message }.joined(separator: "; ") }
}

/// Names of collections, fields and roles (spec README: `^[A-Za-z_][A-Za-z0-9_]{0,62}$`).
public enum Name {
    public static func isValid(_ name: some StringProtocol) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63 else { return false }
        guard first == 95 || (first | 0x20 >= 97 && first | 0x20 <= 122) else { return false }
        return bytes.allSatisfy { $0 == 95 || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) }
    }

    /// Keys of workflows and ids of record-workflow definitions (`^[A-Za-z0-9_-]{1,64}$`).
    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 64 && key.utf8.allSatisfy(isKeyByte)
    }

    public static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte | 0x20 >= 97 && byte | 0x20 <= 122) || byte == 95 || byte == 45
    }

    /// A checked name quoted for SQL. Only names that passed `isValid` and the catalogue get here.
    public static func quoted(_ name: String) -> String { "\"" + name + "\"" }
}
