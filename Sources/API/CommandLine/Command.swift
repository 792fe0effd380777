import HTTPServer
import Logging
import Storage

/// What one invocation of `triggerbase` asks for (spec 07: Command line).
public enum Command: Sendable {
    case serve(ServeOptions)
    /// `triggerbase seed FILE [--data DIR]`.
    case seed(file: String, application: ApplicationConfiguration)
    /// `triggerbase user create NAME [--role R]... [--password-stdin] [--data DIR]`.
    case createUser(name: String, roles: [String], passwordFromStdin: Bool, application: ApplicationConfiguration)
    /// `triggerbase token create --user NAME [--role R] [--expires 30d] [--data DIR]`.
    case createToken(user: String, role: String?, expires: String?, application: ApplicationConfiguration)
    case help(String)
    case version
}

/// Options of `triggerbase serve`. Each flag also reads `TRIGGERBASE_<FLAG>` (flags win).
public struct ServeOptions: Sendable {
    public var server = HTTPServerConfiguration()
    public var application = ApplicationConfiguration()
    public var logLevel: LogLevel = .info
    public var seedFile: String?

    public init() {}
}

/// A command line that cannot be run; printed with the usage, exit status 2.
public struct CommandLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let usage: String
    public var description: String { message }
}

/// Parses `triggerbase` arguments into a `Command`; pure, so it is tested in process.
public enum CommandLineInterface {
    public static let version = "triggerbase 0.1.0"

    public static let usage = """
        USAGE: triggerbase <command> [options]

        Commands:
          serve        run the server
          seed FILE    apply a seed file to the database (--data DIR) and exit
          user create NAME [--role R]... [--password-stdin]   add a user
          token create --user NAME [--role R] [--expires 30d] print a new token once
          --help       show this help (also: <command> --help)
          --version    print the version

        Run 'triggerbase serve --help' for the server's options.

        """

    public static let serveUsage = """
        USAGE: triggerbase serve [options]

        Every option also reads the environment variable TRIGGERBASE_<OPTION>, e.g. TRIGGERBASE_PORT;
        an option on the command line wins.

        Options:
          --host ADDRESS           address to listen on (default 127.0.0.1)
          --port N                 TCP port (default 13000; 0 picks a free one)
          --data DIR               data folder with the SQLite database (default ./data)
          --database URL           postgres://user:password@host:port/db: use PostgreSQL instead
                                   of SQLite; several processes may share one database
          --seed FILE              apply a seed file before serving
          --synchronous MODE       full (default: a 2xx means on disk) or normal
          --log-level LEVEL        debug, info, warning or error (default info)
          --event-loops N          event-loop threads (default: number of cores)
          --max-head BYTES         request line + headers (default 16384)
          --max-headers N          header fields per request (default 100)
          --max-body BYTES         request body (default 1048576)
          --head-timeout S         seconds to receive a whole head (default 10)
          --body-timeout S         longest idle gap inside a body (default 30)
          --idle-timeout S         idle keep-alive connection (default 60)
          --max-connections N      open connections (default 10000)
          --max-pipeline N         pipelined requests queued per connection (default 16)
          --max-write-backlog N    writes waiting for the writer before new writes get 503 (default 2000)
          --max-requests-in-flight N  API requests handled at once before new ones get 503 (default 4096)
          --lease-seconds N        how long a claim on an execution outlives its process; with
                                   --database, another process resumes it after that (default 60)
          -h, --help               show this help

        """

    /// Parses `arguments` (without the program name), reading defaults from `environment`.
    public static func parse(_ arguments: [String], environment: [String: String] = [:]) throws(CommandLineError) -> Command {
        guard let first = arguments.first else { throw CommandLineError(message: "missing command", usage: usage) }
        switch first {
        case "-h", "--help", "help": return .help(usage)
        case "--version", "-V", "version": return .version
        case "serve": return try parseServe(Array(arguments.dropFirst()), environment: environment)
        case "seed": return try parseSeed(Array(arguments.dropFirst()), environment: environment)
        case "user", "token": return try parseIdentity(arguments, environment: environment)
        default: throw CommandLineError(message: "unknown command '\(first)'", usage: usage)
        }
    }

    private static let serveFlags: [String] = [
        "host", "port", "data", "database", "seed", "synchronous", "log-level", "event-loops", "max-head", "max-headers", "max-body",
        "head-timeout", "body-timeout", "idle-timeout", "max-connections", "max-pipeline", "max-write-backlog", "max-requests-in-flight",
        "lease-seconds",
    ]

    private static func parseServe(_ arguments: [String], environment: [String: String]) throws(CommandLineError) -> Command {
        var values: [String: String] = [:]
        for flag in serveFlags {
            let variable = "TRIGGERBASE_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
            if let value = environment[variable] { values[flag] = value }
        }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-h" || argument == "--help" { return .help(serveUsage) }
            guard argument.hasPrefix("--") else {
                throw CommandLineError(message: "unexpected argument '\(argument)'", usage: serveUsage)
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard serveFlags.contains(name) else {
                throw CommandLineError(message: "unknown option '--\(name)'", usage: serveUsage)
            }
            if value == nil {
                guard index < arguments.count else {
                    throw CommandLineError(message: "option '--\(name)' needs a value", usage: serveUsage)
                }
                value = arguments[index]
                index += 1
            }
            values[name] = value
        }
        return .serve(try makeServeOptions(values))
    }

    package static let seedUsage = """
        USAGE: triggerbase seed FILE [--data DIR] [--database URL]

        Applies a seed file (collections and records; see schema/seed.schema.json) in one transaction.
        Applying the same file twice leaves the same state.

        """

    private static func parseSeed(_ arguments: [String], environment: [String: String]) throws(CommandLineError) -> Command {
        var file: String?
        var configuration = ApplicationConfiguration()
        if let data = environment["TRIGGERBASE_DATA"] { configuration.dataDirectory = data }
        configuration.database = try databaseURL(environment["TRIGGERBASE_DATABASE"], usage: seedUsage)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-h" || argument == "--help" { return .help(seedUsage) }
            if argument == "--data" || argument.hasPrefix("--data=") {
                if argument.hasPrefix("--data=") { configuration.dataDirectory = String(argument.dropFirst(7)); continue }
                guard index < arguments.count else { throw CommandLineError(message: "option '--data' needs a value", usage: seedUsage) }
                configuration.dataDirectory = arguments[index]
                index += 1
            } else if argument == "--database" {
                guard index < arguments.count else { throw CommandLineError(message: "option '--database' needs a value", usage: seedUsage) }
                configuration.database = try databaseURL(arguments[index], usage: seedUsage)
                index += 1
            } else if argument.hasPrefix("-") {
                throw CommandLineError(message: "unknown option '\(argument)'", usage: seedUsage)
            } else if file == nil {
                file = argument
            } else {
                throw CommandLineError(message: "unexpected argument '\(argument)'", usage: seedUsage)
            }
        }
        guard let file else { throw CommandLineError(message: "missing seed FILE", usage: seedUsage) }
        return .seed(file: file, application: configuration)
    }

    package static let identityUsage = """
        USAGE: triggerbase user create NAME [--role R]... [--password-stdin] [--data DIR] [--database URL]
               triggerbase token create --user NAME [--role R] [--expires <n>s|m|h|d] [--data DIR] [--database URL]

        A new user gets the role member unless --role is given (the first --role is the default).
        A token pinned with --role acts only as that role (an API key); it is printed once.

        """

    private static func parseIdentity(_ arguments: [String], environment: [String: String]) throws(CommandLineError) -> Command {
        guard arguments.count >= 2, arguments[1] == "create" else {
            if arguments.count >= 2, arguments[1] == "--help" || arguments[1] == "-h" { return .help(identityUsage) }
            throw CommandLineError(message: "expected '\(arguments[0]) create'", usage: identityUsage)
        }
        var configuration = ApplicationConfiguration()
        if let data = environment["TRIGGERBASE_DATA"] { configuration.dataDirectory = data }
        configuration.database = try databaseURL(environment["TRIGGERBASE_DATABASE"], usage: identityUsage)
        var roles: [String] = [], name: String?, user: String?, expires: String?, passwordFromStdin = false
        var index = 2
        func value(_ flag: String) throws(CommandLineError) -> String {
            guard index < arguments.count else { throw CommandLineError(message: "option '\(flag)' needs a value", usage: identityUsage) }
            defer { index += 1 }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "-h", "--help": return .help(identityUsage)
            case "--role": roles.append(try value(argument))
            case "--data": configuration.dataDirectory = try value(argument)
            case "--database": configuration.database = try databaseURL(try value(argument), usage: identityUsage)
            case "--user" where arguments[0] == "token": user = try value(argument)
            case "--expires" where arguments[0] == "token": expires = try value(argument)
            case "--password-stdin" where arguments[0] == "user": passwordFromStdin = true
            default:
                if argument.hasPrefix("-") || arguments[0] == "token" || name != nil {
                    throw CommandLineError(message: "unexpected argument '\(argument)'", usage: identityUsage)
                }
                name = argument
            }
        }
        if arguments[0] == "user" {
            guard let name else { throw CommandLineError(message: "missing user NAME", usage: identityUsage) }
            return .createUser(name: name, roles: roles.isEmpty ? ["member"] : roles, passwordFromStdin: passwordFromStdin, application: configuration)
        }
        guard let user else { throw CommandLineError(message: "missing --user NAME", usage: identityUsage) }
        guard roles.count <= 1 else { throw CommandLineError(message: "a token takes one --role", usage: identityUsage) }
        return .createToken(user: user, role: roles.first, expires: expires, application: configuration)
    }

    /// A `--database` value: nil (SQLite under the data folder) or a PostgreSQL URL.
    private static func databaseURL(_ value: String?, usage: String) throws(CommandLineError) -> String? {
        guard let value, !value.isEmpty else { return nil }
        guard PostgresConfiguration.isPostgresURL(value) else {
            throw CommandLineError(message: "option '--database' takes a postgres:// or postgresql:// URL, not '\(value)'", usage: usage)
        }
        return value
    }

    private static func makeServeOptions(_ values: [String: String]) throws(CommandLineError) -> ServeOptions {
        var options = ServeOptions()
        func int(_ flag: String, min: Int, max: Int = .max) throws(CommandLineError) -> Int? {
            guard let text = values[flag] else { return nil }
            guard let value = Int(text), text.allSatisfy({ $0.isASCII && $0.isNumber }), value >= min, value <= max else {
                throw CommandLineError(message: "option '--\(flag)' needs a whole number from \(min) to \(max), not '\(text)'", usage: serveUsage)
            }
            return value
        }
        func seconds(_ flag: String) throws(CommandLineError) -> Duration? {
            guard let text = values[flag] else { return nil }
            guard let value = Double(text), value.isFinite, value > 0, value <= 86_400,
                  text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else {
                throw CommandLineError(message: "option '--\(flag)' needs seconds, whole or decimal (e.g. 2 or 1.5), not '\(text)'", usage: serveUsage)
            }
            return .nanoseconds(Int64(value * 1_000_000_000))
        }
        options.application.database = try databaseURL(values["database"], usage: serveUsage)
        if let host = values["host"] { options.server.host = host }
        if let port = try int("port", min: 0, max: 65_535) { options.server.port = port }
        if let data = values["data"] {
            guard !data.isEmpty else { throw CommandLineError(message: "option '--data' needs a folder", usage: serveUsage) }
            options.application.dataDirectory = data
        }
        options.seedFile = values["seed"]
        if let mode = values["synchronous"] {
            switch mode.lowercased() {
            case "full": options.application.synchronous = .full
            case "normal": options.application.synchronous = .normal
            default: throw CommandLineError(message: "option '--synchronous' takes full or normal, not '\(mode)'", usage: serveUsage)
            }
        }
        if let level = values["log-level"] {
            guard let parsed = LogLevel(name: level) else {
                throw CommandLineError(message: "option '--log-level' takes debug, info, warning or error, not '\(level)'", usage: serveUsage)
            }
            options.logLevel = parsed
        }
        if let n = try int("event-loops", min: 1, max: 256) { options.server.eventLoopCount = n }
        if let n = try int("max-head", min: 64) { options.server.maxHeadBytes = n }
        if let n = try int("max-headers", min: 1) { options.server.maxHeaderCount = n }
        if let n = try int("max-body", min: 0) { options.server.maxBodyBytes = n }
        if let d = try seconds("head-timeout") { options.server.headTimeout = d }
        if let d = try seconds("body-timeout") { options.server.bodyTimeout = d }
        if let d = try seconds("idle-timeout") { options.server.idleTimeout = d }
        if let n = try int("max-connections", min: 1) { options.server.maxConnections = n }
        if let n = try int("max-pipeline", min: 1) { options.server.maxPipelineDepth = n }
        if let n = try int("max-write-backlog", min: 1) { options.application.maxWriteBacklog = n }
        if let n = try int("max-requests-in-flight", min: 1) { options.application.maxRequestsInFlight = n }
        if let n = try int("lease-seconds", min: 1, max: 86_400) { options.application.leaseSeconds = n }
        return options
    }
}
