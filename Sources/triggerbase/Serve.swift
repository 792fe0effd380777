import Dispatch
import Foundation
import HTTPServer
import Logging
import API

/// `triggerbase serve`: wires the application to the HTTP server and handles SIGTERM / SIGINT.
enum Serve {
    static func run(_ options: ServeOptions) -> Int32 {
        let logger = Logger(level: options.logLevel)
        let application: Application
        let server: HTTPServer
        do {
            application = try Application(configuration: options.application, logger: logger)
            if let seed = options.seedFile {
                let summary = try application.applySeedFile(seed)
                logger.info("seeded", ["file": .string(seed), "collections": .int(summary.collections),
                                       "created": .int(summary.created), "updated": .int(summary.updated)])
            }
            server = try HTTPServer(configuration: options.server, logger: logger, handler: application.handler)
            application.startWorkflows()
        } catch {
            logger.error("cannot start: \(error)")
            logger.flush()
            return 1
        }
        // Signals arrive on a dispatch source instead of an async handler (spec 01: Shutdown).
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let signalQueue = DispatchQueue(label: "triggerbase.signals")
        let sources = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: signalQueue)
            source.setEventHandler {
                logger.info("shutting down", ["signal": .int(Int(number))])
                server.shutdown()
            }
            source.resume()
            return source
        }
        server.start()
        let url = "http://\(options.server.host):\(server.port)"
        logger.info("listening", ["url": .string(url), "page": .string(url + "/ui")])
        server.wait()
        sources.forEach { $0.cancel() }
        application.shutdown()
        logger.info("stopped")
        logger.flush()
        return 0
    }
}
