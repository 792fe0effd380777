// swift-tools-version:6.1
import PackageDescription

// TriggerBase has no package dependencies (DEVELOPERS.md): only the toolchain and system C
// libraries reached through system-library targets.
let package = Package(
    name: "triggerbase",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "triggerbase", targets: ["triggerbase"]),
    ],
    targets: [
        // C shims and system libraries.
        .target(name: "CLinux", cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Leaf libraries.
        .target(name: "Logging"),
        .target(name: "JSON"),

        // HTTP/1.1 server: sockets, epoll loops, parser. Knows nothing of TriggerBase.
        .target(name: "HTTPServer", dependencies: ["CLinux", "Logging"]),
        // What TriggerBase stores and accepts, as plain values: names, collection definitions and
        // the catalogue, execution statuses, timestamps, and the domain error every layer throws.
        .target(name: "Model", dependencies: ["JSON"]),
        // The storage interface and its SQLite implementation: the single writer with group commit,
        // the read pool, migrations, and the stores that own every SQL statement. Knows nothing of HTTP.
        .target(name: "Storage", dependencies: ["CSQLite", "Logging", "JSON", "Model"]),
        // Domain targets: none of them knows HTTP.
        .target(name: "Records", dependencies: ["Storage", "Model", "JSON"]),
        .target(name: "Auth", dependencies: ["Records", "Storage", "Model", "JSON", "CCrypto", "CLinux"]),
        .target(name: "Workflows", dependencies: ["Records", "Auth", "Storage", "Model", "JSON", "Logging"]),
        .target(name: "RecordWorkflows", dependencies: ["Workflows", "Records", "Auth", "Storage", "Model", "JSON"]),
        // HTTP to domain calls and domain errors to statuses: routes, services, the application.
        .target(name: "API", dependencies: ["HTTPServer", "RecordWorkflows", "Workflows", "Auth", "Records", "Storage",
                                            "Model", "JSON", "Logging"]),
        // The command line: parsing, configuration, wiring, signals.
        .executableTarget(name: "triggerbase", dependencies: ["API", "HTTPServer", "Logging"]),

        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "CLinux"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "LoggingTests", dependencies: ["Logging"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Model"]),
        .testTarget(name: "TriggerBaseTests", dependencies: ["API", "RecordWorkflows", "Workflows", "Auth", "Records", "Storage", "Model",
                                                             "HTTPServer", "JSON", "CLinux"]),
    ],
    swiftLanguageModes: [.v6]
)
