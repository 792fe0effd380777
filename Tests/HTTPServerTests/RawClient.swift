import Foundation
import Glibc

/// A blocking loopback TCP client for tests: sends raw bytes, reads raw responses.
final class RawClient {
    let fd: Int32

    /// `receiveBuffer`: a fixed SO_RCVBUF (no autotuning), so a client that does not read backs
    /// the server's output up after a few kilobytes.
    init(port: Int, receiveTimeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        // Connected before `self.fd` is set: a throwing init of a whole instance still runs
        // deinit, whose second close would hit whatever descriptor reused the number meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
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
            throw ClientError.connectFailed(error)
        }
        self.fd = fd
        setTimeout(receiveTimeout)
    }

    enum ClientError: Error { case connectFailed(Int32) }

    func setTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
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

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    private var pending: [UInt8] = []
    /// Set once the server closed the connection (recv returned 0 or reset).
    private(set) var sawClose = false

    /// Reads one more chunk; false on timeout or close.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { pending.append(contentsOf: chunk[0..<n]); return true }
        if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { sawClose = true }
        return false
    }

    struct Response {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// Reads one response framed by Content-Length (no body for HEAD when `head` is true).
    func readResponse(head: Bool = false) -> Response? {
        while true {
            if let range = find([13, 10, 13, 10]) {
                let headText = String(decoding: pending[0..<range], as: UTF8.self)
                var lines = headText.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
                let headers = lines.map { line -> (String, String) in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
                }
                let length = head || status == 100 || status == 204 ? 0
                    : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
                while pending.count < range + 4 + length { if !fill() { return nil } }
                let body = Array(pending[(range + 4)..<(range + 4 + length)])
                pending.removeFirst(range + 4 + length)
                return Response(status: status, headers: headers, body: body)
            }
            if !fill() { return nil }
        }
    }

    /// True when the server closes the connection (with no further bytes) within the timeout.
    func waitForClose() -> Bool {
        while !sawClose {
            if !fill() { return sawClose }
        }
        return true
    }

    /// Everything until the server closes or the timeout passes.
    func readUntilClose() -> [UInt8] {
        while fill() {}
        defer { pending = [] }
        return pending
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard pending.count >= needle.count else { return nil }
        for i in 0...(pending.count - needle.count) where pending[i] == needle[0] {
            if Array(pending[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
