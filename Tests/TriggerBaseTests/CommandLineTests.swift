import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

struct CommandLineTests {
    func serve(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServeOptions {
        guard case .serve(let options) = try CommandLineInterface.parse(["serve"] + arguments, environment: environment) else {
            throw CommandLineError(message: "not serve", usage: "")
        }
        return options
    }

    @Test func defaultsMatchTheSpec() throws {
        let options = try serve([])
        #expect(options.server.host == "127.0.0.1")
        #expect(options.server.port == 13000)
        #expect(options.application.dataDirectory == "./data")
        #expect(options.server.maxBodyBytes == 1_048_576)
        #expect(options.server.headTimeout == .seconds(10))
    }

    @Test func flagsTakeSpaceOrEqualsAndDecimalSeconds() throws {
        let options = try serve(["--port=8080", "--host", "0.0.0.0", "--head-timeout", "1.5", "--max-pipeline", "4"])
        #expect(options.server.port == 8080)
        #expect(options.server.host == "0.0.0.0")
        #expect(options.server.headTimeout == .milliseconds(1500))
        #expect(options.server.maxPipelineDepth == 4)
    }

    @Test func environmentIsReadAndFlagsWin() throws {
        let options = try serve(["--port", "1"], ["TRIGGERBASE_PORT": "2", "TRIGGERBASE_MAX_HEADERS": "7", "TRIGGERBASE_LOG_LEVEL": "debug"])
        #expect(options.server.port == 1)
        #expect(options.server.maxHeaderCount == 7)
        #expect(options.logLevel == .debug)
    }

    @Test func loadSheddingLimitsTakeAFlagOrTheEnvironment() throws {
        let defaults = try serve([])
        #expect(defaults.application.maxWriteBacklog == 2000 && defaults.application.maxRequestsInFlight == 4096)
        let options = try serve(["--max-write-backlog", "50"], ["TRIGGERBASE_MAX_WRITE_BACKLOG": "9", "TRIGGERBASE_MAX_REQUESTS_IN_FLIGHT": "64"])
        #expect(options.application.maxWriteBacklog == 50)
        #expect(options.application.maxRequestsInFlight == 64)
        #expect(throws: CommandLineError.self) { try serve(["--max-write-backlog", "0"]) }
    }

    @Test(arguments: [["--bogus"], ["--port"], ["--port", "x"], ["--port", "+1"], ["--head-timeout", "-1"], ["--log-level", "loud"], ["stray"]])
    func badArgumentsAreErrorsWithUsage(_ arguments: [String]) {
        #expect(throws: CommandLineError.self) { try serve(arguments) }
    }

    @Test func helpAndVersion() throws {
        guard case .help(let text) = try CommandLineInterface.parse(["--help"]) else { Issue.record("no help"); return }
        #expect(text.contains("serve"))
        guard case .version = try CommandLineInterface.parse(["--version"]) else { Issue.record("no version"); return }
        #expect(throws: CommandLineError.self) { try CommandLineInterface.parse(["frobnicate"]) }
    }
}

extension CommandLineTests {
    @Test func userAndTokenCommandsParse() throws {
        guard case .createUser(let name, let roles, let stdin, _) = try CommandLineInterface.parse(["user", "create", "ann", "--role", "member", "--role", "editor", "--password-stdin"]) else {
            Issue.record("not user create"); return
        }
        #expect(name == "ann" && roles == ["member", "editor"] && stdin)
        guard case .createToken(let user, let role, let expires, let app) = try CommandLineInterface.parse(["token", "create", "--user", "ann", "--role", "member", "--expires", "30d", "--data", "/d"]) else {
            Issue.record("not token create"); return
        }
        #expect(user == "ann" && role == "member" && expires == "30d" && app.dataDirectory == "/d")
        #expect(throws: CommandLineError.self) { try CommandLineInterface.parse(["token", "create"]) }
        #expect(throws: CommandLineError.self) { try CommandLineInterface.parse(["user", "remove", "x"]) }
    }
}
