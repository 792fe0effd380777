import Foundation
import Glibc
import Synchronization

/// The real `triggerbase` binary run as a child process on an ephemeral port with a temporary
/// data folder. Its stderr log is collected; the port is read from the "listening" line.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` and `dataDirectory` are set in init and only read afterwards; the log
    // is guarded by a Mutex.
    let process = Process()
    let dataDirectory: String
    private(set) var port = 0
    private let log = LogBuffer()

    /// The binary built next to the test bundle (`swift test` builds every product).
    static var binaryPath: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [bundle.appendingPathComponent("triggerbase").path]
        if let found = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            candidates.append(URL(fileURLWithPath: found.bundlePath).deletingLastPathComponent().appendingPathComponent("triggerbase").path)
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "triggerbase-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Starts `triggerbase serve --port 0 --data <temp>` plus `arguments`, and waits until it listens;
    /// on the PostgreSQL test backend, on the data folder's own schema (`TRIGGERBASE_DATABASE`).
    init(arguments: [String] = [], dataDirectory: String? = nil, environment: [String: String] = [:]) throws {
        self.dataDirectory = dataDirectory ?? Self.temporaryDirectory()
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        process.arguments = ["serve", "--port", "0", "--data", self.dataDirectory] + arguments
        var env = ProcessInfo.processInfo.environment
        if let url = try TestBackend.databaseURL(forDataDirectory: self.dataDirectory) {
            env["TRIGGERBASE_DATABASE"] = url
            // A shared database resumes a killed process's executions once its leases lapse.
            env["TRIGGERBASE_LEASE_SECONDS"] = "2"
        }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [log] handle in
            let data = handle.availableData
            if !data.isEmpty { log.append(String(decoding: data, as: UTF8.self)) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let url = logText.split(separator: "\n").first(where: { $0.contains("\"listening\"") }),
               let range = url.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(url[range].split(separator: ":").last!)!
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw StartError(log: logText)
    }

    struct StartError: Error, CustomStringConvertible {
        let log: String
        var description: String { "server did not start:\n\(log)" }
    }

    var logText: String { log.text }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit and returns the status (nil on timeout).
    func waitForExit(timeout: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// Text collected from another thread.
final class LogBuffer: Sendable {
    private let storage = Mutex<String>("")
    func append(_ text: String) { storage.withLock { $0 += text } }
    var text: String { storage.withLock { $0 } }
}
