/// An HTTP version as sent on the request line (`HTTP/1.1`).
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// Header fields in the order received. Names are lower-cased once at parse time.
public struct HTTPHeaders: Sendable, Sequence {
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    private(set) var fields: [Field] = []

    public init() {}

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0.lowercased(), value: $0.1) }
    }

    mutating func append(name: String, value: String) { fields.append(Field(name: name, value: value)) }

    /// The first value of `name` (case-insensitive).
    public subscript(_ name: String) -> String? {
        let lower = name.lowercased()
        return fields.first(where: { $0.name == lower })?.value
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name == lower }.map(\.value)
    }

    /// Comma-separated list tokens of `name` over all its lines, trimmed and lower-cased
    /// (RFC 9110 §5.6.1; used for `Connection`, `Transfer-Encoding`).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingOWS().lowercased() }
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

/// A complete request: head and whole body, as handed to the application.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent (`/api/posts:list?page=2`).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The client's `X-Request-Id` when sane (1–128 of `[A-Za-z0-9._:-]`), else a new one.
    public var requestID: String
    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// The IP address of the TCP peer, from accept(2) (empty when not from a socket). Headers such
    /// as `X-Forwarded-For` are the client's word and never change it.
    public var remoteAddress: String

    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], requestID: String = "test", keepAlive: Bool = true, remoteAddress: String = "") {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.requestID = requestID
        self.keepAlive = keepAlive
        self.remoteAddress = remoteAddress
    }

    /// The target up to `?` (found by byte: a `Character` search would run grapheme breaking).
    public var path: Substring {
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) { return target[..<q] }
        return target[...]
    }

    /// The target after `?` (empty when there is none).
    public var query: Substring {
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) { return target[target.utf8.index(after: q)...] }
        return ""
    }
}

extension StringProtocol {
    /// Drops leading and trailing spaces and tabs (RFC 9110 OWS).
    func trimmingOWS() -> String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
