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
