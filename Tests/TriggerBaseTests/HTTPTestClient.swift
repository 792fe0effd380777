import Foundation
import Glibc
import JSON

/// A small blocking HTTP/1.1 client over one keep-alive loopback connection, for tests.
final class HTTPTestClient {
    let fd: Int32

    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Response {
        let status: Int
        /// Header names lower-cased.
        let headers: [String: String]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as JSON (`.null` when it is not JSON).
        var json: JSON { (try? JSON.parse(body)) ?? .null }
    }

    /// Headers sent with every `request` (e.g. the root token).
    var defaultHeaders: [String: String] = [:]

    init(port: Int, timeout: Double = 30, defaultHeaders: [String: String] = [:]) throws {
        self.defaultHeaders = defaultHeaders
        // Connected before `self.fd` is set: a throwing init of a whole instance still runs
        // deinit, whose second close would hit whatever descriptor reused the number meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "connect failed: errno \(error)")
        }
        self.fd = fd
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Sends one request and reads its response.
    func request(_ method: String, _ target: String, body: String? = nil, headers: [String: String] = [:]) throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in defaultHeaders.merging(headers, uniquingKeysWith: { _, new in new }) where !value.isEmpty {
            head += "\(name): \(value)\r\n"
        }
        if let body { head += "Content-Length: \(body.utf8.count)\r\n" }
        head += "\r\n"
        send(head + (body ?? ""))
        return try readResponse(head: method == "HEAD")
    }

    private var pending: [UInt8] = []

    func readResponse(head: Bool = false) throws -> Response {
        while true {
            if let end = headEnd() {
                let text = String(decoding: pending[0..<end], as: UTF8.self)
                var lines = text.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line") }
                var headers: [String: String] = [:]
                for line in lines {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                }
                let length = head ? 0 : Int(headers["content-length"] ?? "0") ?? 0
                while pending.count < end + 4 + length { try fill() }
                let body = Array(pending[(end + 4)..<(end + 4 + length)])
                pending.removeFirst(end + 4 + length)
                if status == 100 { continue }
                return Response(status: status, headers: headers, body: body)
            }
            try fill()
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv failed: errno \(errno)") }
        pending.append(contentsOf: chunk[0..<n])
    }

    private func headEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for i in 0...(pending.count - 4) where pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13 && pending[i + 3] == 10 {
            return i
        }
        return nil
    }
}
