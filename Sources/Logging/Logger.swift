import Foundation
import Synchronization

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
/// Lines are buffered and written by a background flusher at most every 50 ms (or sooner when the
/// buffer passes 64 KiB), so event-loop threads never block on the terminal. `flush()` writes
/// everything out at once; call it before exit.
public final class Logger: Sendable {
    public let level: LogLevel
    private let sink: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let flushQueue = DispatchQueue(label: "triggerbase.log")

    private struct State {
        var buffer = ""
        var flushScheduled = false
        /// `YYYY-MM-DDTHH:MM:SS` of `cachedSecond`, so most lines skip calendar formatting.
        var cachedSecond: Int64 = -1
        var cachedPrefix = ""
    }

    /// Creates a logger writing to `sink`, which receives whole lines (each ending in `\n`).
    public init(level: LogLevel = .info, sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.level = level
        self.sink = sink
    }

    /// Writes text to file descriptor 2 without going through C `FILE*` streams.
    public static let standardError: @Sendable (String) -> Void = { text in
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    /// Whether a line at `level` would be written.
    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: KeyValuePairs<String, LogValue> = [:]) { log(.error, message, fields) }

    /// Formats and queues one line.
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
        enqueue(line, millis: millis)
    }

    /// Writes every buffered line now.
    public func flush() {
        let text = state.withLock { state -> String in
            let text = state.buffer
            state.buffer = ""
            return text
        }
        if !text.isEmpty { sink(text) }
    }

    private func enqueue(_ line: String, millis: Int64) {
        let (scheduleFlush, flushNow) = state.withLock { state -> (Bool, Bool) in
            if millis / 1000 != state.cachedSecond {
                state.cachedSecond = millis / 1000
                state.cachedPrefix = String(Self.timestamp(Date(timeIntervalSince1970: Double(state.cachedSecond))).prefix(19))
            }
            let ms = millis % 1000
            state.buffer += "{\"ts\":\""
            state.buffer += state.cachedPrefix
            state.buffer += ms < 10 ? ".00" : (ms < 100 ? ".0" : ".")
            state.buffer += String(ms)
            state.buffer += "Z"
            state.buffer += line
            if state.buffer.utf8.count > 65_536 { return (false, true) }
            if state.flushScheduled { return (false, false) }
            state.flushScheduled = true
            return (true, false)
        }
        if flushNow { flush() }
        if scheduleFlush {
            flushQueue.asyncAfter(deadline: .now() + .milliseconds(50)) { [self] in
                state.withLock { $0.flushScheduled = false }
                flush()
            }
        }
    }

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

    /// Appends `text` as a JSON string literal.
    public static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
