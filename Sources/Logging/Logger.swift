import Foundation

/// Severity of a log line; lines below the logger's level are dropped.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug = 0, info, warning, error

    /// Parses `debug`, `info`, `warning` (or `warn`) and `error`.
    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A value in a log line's extra fields.
public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
}

/// Writes one JSON object per line (`ts`, `level`, `msg`, then the extra fields) to a sink,
/// stderr by default (spec 07: Observability).
///
/// Logging never blocks the caller on I/O (issue 13): `log` formats the line and appends it to a
/// buffer bounded at `maxBufferedBytes` (1 MiB by default); one dedicated thread per logger writes
/// the buffer out, whole lines only, so lines from different threads never tear or interleave.
/// When the buffer is full the line is dropped and counted in `droppedLineCount`
/// (`triggerbase_log_lines_dropped_total` in `/metrics`). Call `flush()` before exit.
public final class Logger: Sendable {
    public let level: LogLevel
    private let writer: LogWriter

    /// Creates a logger writing to `sink`, which receives whole lines (each ending in `\n`), one
    /// chunk of lines at a time and always from the same thread. At most `maxBufferedBytes` of
    /// lines wait for the sink; a line that does not fit is dropped, never waited for.
    public init(level: LogLevel = .info, maxBufferedBytes: Int = 1 << 20,
                sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.level = level
        self.writer = LogWriter(sink: sink, maxBufferedBytes: maxBufferedBytes)
    }

    /// Lets the writer thread end once it has written what is queued, without waiting for it.
    deinit { writer.close(wait: false) }

    /// Writes text to file descriptor 2 without going through C `FILE*` streams.
    public static let standardError: @Sendable (String) -> Void = writing(to: 2)

    /// A sink that writes all of its text to `fd`, resuming after partial writes and `EINTR`;
    /// on any other error the rest of the text is lost (there is nowhere left to report it).
    static func writing(to fd: Int32) -> @Sendable (String) -> Void {
        { text in
            var text = text
            text.withUTF8 { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }

    /// Lines dropped because the buffer was full (or the logger closed) since it was created.
    public var droppedLineCount: Int { writer.droppedLineCount }

    /// Whether a line at `level` would be written.
    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.error, message, fields) }

    /// Formats and queues one line; returns without waiting for I/O or for room in the buffer.
    public func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) {
        guard level >= self.level else { return }
        let millis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        var line = "\",\"level\":\""
        line += level.name
        line += "\",\"msg\":"
        Self.appendQuoted(message, to: &line)
        for (key, value) in fields {
            line += ","
            Self.appendQuoted(key, to: &line)
            line += ":"
            switch value {
            case .string(let s): Self.appendQuoted(s, to: &line)
            case .int(let i): line += String(i)
            case .double(let d): line += d.isFinite ? String(d) : "null"
            case .bool(let b): line += b ? "true" : "false"
            }
        }
        line += "}\n"
        writer.enqueue(line, millis: millis)
    }

    /// Blocks until every line queued before the call has been written: before exit, and in
    /// tests. Never call it from an event loop: it waits for the sink, which may be slow.
    public func flush() { writer.flush() }

    /// Writes what is queued, then ends the writer thread; lines logged afterwards are dropped.
    /// Blocks like `flush()`. Optional: releasing the logger ends the thread too.
    public func close() { writer.close(wait: true) }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T14:31:00.000Z` (spec README: Times).
    public static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis % 1000), 3))Z"
    }

    /// Appends `text` as a JSON string literal. The characters to escape are all ASCII, so the
    /// UTF-8 is scanned by bytes and copied in runs (every access-log line quotes several fields).
    public static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        defer { out += "\"" }
        let plain = text.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }
        }
        if plain == true { out += text; return }  // the usual case: nothing to escape
        let utf8 = text.utf8
        var run = utf8.startIndex
        var i = run
        while i != utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                if run != i { out += text[run..<i] }
                switch byte {
                case UInt8(ascii: "\""): out += "\\\""
                case UInt8(ascii: "\\"): out += "\\\\"
                case UInt8(ascii: "\n"): out += "\\n"
                case UInt8(ascii: "\r"): out += "\\r"
                case UInt8(ascii: "\t"): out += "\\t"
                default: out += byte < 0x10 ? "\\u000" + String(byte, radix: 16) : "\\u001" + String(byte - 0x10, radix: 16)
                }
                run = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if run != utf8.endIndex { out += text[run...] }
    }
}
