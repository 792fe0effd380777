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
        // SQLite wrapper, single writer with group commit, read pool, migrations. Knows nothing of HTTP.
        .target(name: "Storage", dependencies: ["CSQLite", "Logging"]),
        // The application: routes, resources, auth, workflows.
        .target(name: "TriggerBase", dependencies: ["HTTPServer", "Storage", "JSON", "Logging", "CCrypto"]),
        // The command line: parsing, configuration, wiring, signals.
        .executableTarget(name: "triggerbase", dependencies: ["TriggerBase", "HTTPServer", "Logging"]),

        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "CLinux"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "LoggingTests", dependencies: ["Logging"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "TriggerBaseTests", dependencies: ["TriggerBase", "HTTPServer", "Storage", "JSON", "CLinux"]),
    ],
    swiftLanguageModes: [.v6]
)
