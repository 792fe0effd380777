import Foundation
import HTTPServer
import Logging
import API

/// Entry point: parse the command line, then run it. Exit 2 on a bad command line.
let arguments = Array(CommandLine.arguments.dropFirst())
let command: Command
do {
    command = try CommandLineInterface.parse(arguments, environment: ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("error: \(error.message)\n\n\(error.usage)".utf8))
    exit(2)
}

switch command {
case .help(let text):
    print(text, terminator: "")
    exit(0)
case .version:
    print(CommandLineInterface.version)
    exit(0)
case .serve(let options):
    exit(Serve.run(options))
case .createUser(let name, let roles, let passwordFromStdin, let configuration):
    let logger = Logger(level: .warning)
    do {
        let password = passwordFromStdin ? readLine(strippingNewline: true) : nil
        let application = try Application(configuration: configuration, logger: logger)
        try application.createUser(name: name, roles: roles, password: password)
        application.shutdown()
        print("created user \(name) with roles \(roles.joined(separator: ", "))")
        exit(0)
    } catch {
        logger.error("user create failed: \(error)")
        logger.flush()
        exit(1)
    }
case .createToken(let user, let role, let expires, let configuration):
    let logger = Logger(level: .warning)
    do {
        let application = try Application(configuration: configuration, logger: logger)
        let token = try application.createToken(user: user, role: role, expires: expires)
        application.shutdown()
        print(token)
        exit(0)
    } catch {
        logger.error("token create failed: \(error)")
        logger.flush()
        exit(1)
    }
case .seed(let file, let configuration):
    let logger = Logger(level: .info)
    do {
        let application = try Application(configuration: configuration, logger: logger)
        let summary = try application.applySeedFile(file)
        application.shutdown()
        print("seeded \(file): \(summary.collections) collections, \(summary.created) records created, \(summary.updated) updated")
        exit(0)
    } catch {
        logger.error("seed failed: \(error)")
        logger.flush()
        exit(1)
    }
}
