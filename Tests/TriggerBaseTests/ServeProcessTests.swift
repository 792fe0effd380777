import Foundation
import Glibc
import Testing

/// The `triggerbase` binary as a user runs it.
@Suite(.serialized) struct ServeProcessTests {
    @Test func healthAnswersAndTheAccessLogIsJSONLines() throws {
        let server = try ServerProcess()
        let client = try HTTPTestClient(port: server.port)
        let response = try client.request("GET", "/health?token=secret-value")
        #expect(response.status == 200)
        #expect(response.json["data"]?["status"]?.stringValue == "ok")
        server.signal(SIGTERM)
        #expect(server.waitForExit() == 0)
        let lines = server.logText.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.hasPrefix("{\"ts\":\""), "not a JSON log line: \(line)")
        }
        let access = try #require(lines.first { $0.contains("\"msg\":\"request\"") })
        #expect(access.contains("\"status\":200"))
        #expect(access.contains("token=***"))
        #expect(!server.logText.contains("secret-value"))
    }

    @Test func sigtermDuringASlowRequestLetsItFinishThenExitsZero() throws {
        let server = try ServerProcess()
        let client = try HTTPTestClient(port: server.port)
        // The head has arrived, the body trickles: the request counts as received (spec 01).
        client.send("POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
        usleep(200_000)
        server.signal(SIGTERM)
        usleep(300_000)
        #expect(server.process.isRunning, "must wait for the received request")
        client.send("67890")
        let response = try client.readResponse()
        #expect(response.status == 404)
        #expect(response.headers["connection"] == "close")
        #expect(server.waitForExit() == 0)
    }

    @Test func sigintExitsZeroAndRefusesNewConnections() throws {
        let server = try ServerProcess()
        let port = server.port
        server.signal(SIGINT)
        #expect(server.waitForExit() == 0)
        #expect((try? HTTPTestClient(port: port)) == nil)
    }

    @Test func unknownFlagPrintsUsageAndExitsTwo() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = ["serve", "--no-such-flag"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(text.contains("unknown option '--no-such-flag'"))
        #expect(text.contains("USAGE: triggerbase serve"))
    }

    @Test func environmentVariablesConfigureTheServer() throws {
        let server = try ServerProcess(environment: ["TRIGGERBASE_MAX_BODY": "8"])
        let client = try HTTPTestClient(port: server.port)
        let response = try client.request("POST", "/health", body: "123456789")
        #expect(response.status == 413)
    }
}

extension ServeProcessTests {
    /// Runs the binary with `arguments`, feeding `input`; returns (status, stdout, stderr).
    func run(_ arguments: [String], input: String? = nil) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = arguments
        if let data = arguments.firstIndex(of: "--data").map({ arguments[$0 + 1] }),
           let url = try TestBackend.databaseURL(forDataDirectory: data) {
            process.environment = ProcessInfo.processInfo.environment.merging(["TRIGGERBASE_DATABASE": url]) { $1 }
        }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func firstStartWritesARootTokenOnceAndCLIMadeTokensWork() throws {
        let data = ServerProcess.temporaryDirectory()
        let (userStatus, _, firstLog) = try run(["user", "create", "dan", "--role", "member", "--password-stdin", "--data", data], input: "pw-dan\n")
        #expect(userStatus == 0)
        #expect(firstLog.contains("root.token"), "first start says where the root token is")
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/root.token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let rootToken = try String(contentsOfFile: data + "/root.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let (tokenStatus, token, _) = try run(["token", "create", "--user", "dan", "--role", "member", "--expires", "1d", "--data", data])
        #expect(tokenStatus == 0)
        let server = try ServerProcess(dataDirectory: data)
        #expect(!server.logText.contains("root.token"), "later starts say nothing of secrets")
        #expect(!server.logText.contains(rootToken))
        let client = try HTTPTestClient(port: server.port)
        let asDan = try client.request("GET", "/api/collections:list", headers: ["Authorization": "Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))"])
        #expect(asDan.status == 403, "dan is a member")
        let asRoot = try client.request("GET", "/api/collections:list", headers: ["Authorization": "Bearer \(rootToken)"])
        #expect(asRoot.status == 200)
        let signIn = try client.request("POST", "/api/auth:signIn", body: #"{"account":"dan","password":"pw-dan"}"#)
        #expect(signIn.status == 200)
        #expect(try run(["token", "create", "--user", "dan", "--role", "admin", "--data", data]).0 == 1)
    }
}
