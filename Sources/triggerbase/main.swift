import Foundation
import HTTPServer
import Logging
import TriggerBase

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
}
