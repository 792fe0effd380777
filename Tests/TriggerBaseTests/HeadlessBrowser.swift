import Foundation
import Glibc
import JSON

/// Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: the
/// browser reads commands on its fd 3 and writes answers and events on its fd 4, each message
/// JSON ended by a NUL byte). One page; synchronous calls with deadlines; JavaScript dialogs are
/// accepted; console errors, uncaught exceptions and error log entries are kept for the test.
final class HeadlessBrowser {
    /// Chromium's path: `TRIGGERBASE_TEST_CHROMIUM`, else `chromium`, `chromium-browser` or
    /// `google-chrome` on `PATH`; nil when there is none (the browser tests are then skipped).
    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["TRIGGERBASE_TEST_CHROMIUM"], !path.isEmpty { return path }
        for directory in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let path = "\(directory)/\(name)"
                if access(path, X_OK) == 0 { return path }
            }
        }
        return nil
    }()

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A console message, exception or log entry of level error.
    struct ConsoleError: CustomStringConvertible {
        let source: String
        let text: String
        var description: String { "\(source): \(text)" }
    }

    private let pid: pid_t
    private let commands: Int32
    private let events: Int32
    private let profile: String
    private var buffer: [UInt8] = []
    private var nextID = 1
    private var session = ""
    private(set) var errors: [ConsoleError] = []

    init(width: Int = 1400, height: Int = 1000) throws {
        guard let executable = Self.executable else { throw Failure(description: "no Chromium found") }
        profile = ServerProcess.temporaryDirectory()
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                         "--remote-debugging-pipe", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)", "about:blank"]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, &argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard spawned == 0 else {
            close(toBrowser[1]); close(fromBrowser[0])
            throw Failure(description: "cannot start \(executable): \(spawned)")
        }
        pid = child
        commands = toBrowser[1]
        events = fromBrowser[0]
        let target = try call("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"]?.stringValue else { throw Failure(description: "no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": .string(targetID), "flatten": true])
        guard let session = attached["sessionId"]?.stringValue else { throw Failure(description: "no session: \(attached)") }
        self.session = session
        for domain in ["Runtime", "Log", "Page"] { _ = try call("\(domain).enable", [:], inPage: true) }
        _ = try call("Emulation.setDeviceMetricsOverride", ["width": .int(Int64(width)), "height": .int(Int64(height)),
                                                             "deviceScaleFactor": 1, "mobile": false], inPage: true)
    }

    deinit {
        if let message = try? message(id: 0, method: "Browser.close", [:], inPage: false) { _ = write(message) }
        close(commands)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, WNOHANG)
        close(events)
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Loads `url` and waits until its document has loaded.
    func open(_ url: String) throws {
        _ = try call("Page.navigate", ["url": .string(url)], inPage: true)
        try wait(for: "document.readyState === 'complete'", what: "\(url) to load")
    }

    /// The value of `expression` (promises awaited), as JSON.
    @discardableResult
    func evaluate(_ expression: String) throws -> JSON {
        let answer = try call("Runtime.evaluate", ["expression": .string(expression), "returnByValue": true, "awaitPromise": true],
                              inPage: true)
        if let exception = answer["exceptionDetails"] {
            throw Failure(description: "\(expression) threw: \(exception["exception"]?["description"]?.stringValue ?? exception.serialized())")
        }
        return answer["result"]?["value"] ?? .null
    }

    /// Polls `expression` until it is true (every 50 ms, up to `timeout` seconds).
    func wait(for expression: String, what: String, timeout: Double = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try evaluate("!!(\(expression))").boolValue == true { return }
            guard Date() < deadline else { throw Failure(description: "timed out waiting for \(what): \(expression)") }
            usleep(50_000)
        }
    }

    /// Clicks the element `selector` finds (a real click event, as a user's).
    func click(_ selector: String) throws {
        try wait(for: "document.querySelector(\(Self.quoted(selector)))", what: selector)
        try evaluate("document.querySelector(\(Self.quoted(selector))).click()")
    }

    /// Types `text` into the input `selector` finds.
    func type(_ text: String, into selector: String) throws {
        try wait(for: "document.querySelector(\(Self.quoted(selector)))", what: selector)
        try evaluate("(e => { e.focus(); e.value = \(Self.quoted(text)); e.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector(\(Self.quoted(selector))))")
    }

    /// A PNG of the page as it is drawn now.
    func screenshot() throws -> Data {
        let answer = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], inPage: true)
        guard let base64 = answer["data"]?.stringValue, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    /// `text` as a JavaScript string literal.
    static func quoted(_ text: String) -> String { JSON.string(text).serialized() }

    // MARK: Protocol

    private func message(id: Int, method: String, _ parameters: JSONObject, inPage: Bool) throws -> [UInt8] {
        var message: JSONObject = ["id": .int(Int64(id)), "method": .string(method), "params": .object(parameters)]
        if inPage { message["sessionId"] = .string(session) }
        return JSON.object(message).serializedBytes() + [0]
    }

    private func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.write(commands, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// Sends one command and waits for its answer (handling the events that come before it).
    private func call(_ method: String, _ parameters: JSONObject, inPage: Bool = false, timeout: Double = 30) throws -> JSON {
        let id = nextID
        nextID += 1
        guard write(try message(id: id, method: method, parameters, inPage: inPage)) else { throw Failure(description: "the browser is gone") }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let message = try next(before: deadline, waitingFor: method)
            if message["id"]?.intValue == Int64(id) {
                if let error = message["error"] { throw Failure(description: "\(method): \(error.serialized())") }
                return message["result"] ?? .object([:])
            }
            if let event = message["method"]?.stringValue { try handle(event, message["params"] ?? .null) }
        }
    }

    private func handle(_ event: String, _ parameters: JSON) throws {
        switch event {
        case "Runtime.consoleAPICalled" where parameters["type"]?.stringValue == "error":
            let text = (parameters["args"]?.arrayValue ?? []).map { $0["value"]?.stringValue ?? $0["description"]?.stringValue ?? "" }
            errors.append(ConsoleError(source: "console", text: text.joined(separator: " ")))
        case "Runtime.exceptionThrown":
            let details = parameters["exceptionDetails"]
            errors.append(ConsoleError(source: "exception",
                                       text: details?["exception"]?["description"]?.stringValue ?? details?["text"]?.stringValue ?? "?"))
        case "Log.entryAdded" where parameters["entry"]?["level"]?.stringValue == "error":
            let entry = parameters["entry"]
            errors.append(ConsoleError(source: "log/" + (entry?["source"]?.stringValue ?? "?"),
                                       text: (entry?["text"]?.stringValue ?? "") + " " + (entry?["url"]?.stringValue ?? "")))
        case "Page.javascriptDialogOpening":
            guard write(try message(id: nextID, method: "Page.handleJavaScriptDialog", ["accept": true], inPage: true)) else { return }
            nextID += 1
        default:
            break
        }
    }

    /// The next NUL-ended message from the browser.
    private func next(before deadline: Date, waitingFor method: String) throws -> JSON {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let bytes = buffer[..<end]
                buffer.removeSubrange(...end)
                return try JSON.parse(bytes)
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "no answer to \(method)") }
            var descriptor = pollfd(fd: events, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(events, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "the browser closed its pipe while waiting for \(method)") }
            buffer += chunk[..<n]
        }
    }
}
