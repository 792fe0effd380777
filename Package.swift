// swift-tools-version:6.1
import PackageDescription

// TriggerBase has no package dependencies (DEVELOPERS.md): only the toolchain and system C
// libraries reached through system-library targets.

// One target per layer means most calls on a request's path cross a module boundary; without
// cross-module optimization they cannot be inlined or specialised, which cost ~15% of create
// throughput when the layers were split (issue 15). Release builds only.
let layerSettings: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
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
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Leaf libraries.
        .target(name: "Logging", swiftSettings: layerSettings),
        .target(name: "JSON", swiftSettings: layerSettings),

        // HTTP/1.1 server: sockets, epoll loops, parser. Knows nothing of TriggerBase.
        .target(name: "HTTPServer", dependencies: ["CLinux", "Logging"], swiftSettings: layerSettings),
        // What TriggerBase stores and accepts, as plain values: names, collection definitions and
        // the catalogue, execution statuses, timestamps, and the domain error every layer throws.
        .target(name: "Model", dependencies: ["JSON"], swiftSettings: layerSettings),
        // The storage interface and its SQLite implementation: the single writer with group commit,
        // the read pool, migrations, and the stores that own every SQL statement. Knows nothing of HTTP.
        .target(name: "Storage", dependencies: ["CSQLite", "CPostgres", "Logging", "JSON", "Model"], swiftSettings: layerSettings),
        // Domain targets: none of them knows HTTP.
        .target(name: "Records", dependencies: ["Storage", "Model", "JSON"], swiftSettings: layerSettings),
        .target(name: "Auth", dependencies: ["Records", "Storage", "Model", "JSON", "CCrypto", "CLinux"], swiftSettings: layerSettings),
        .target(name: "Workflows", dependencies: ["Records", "Auth", "Storage", "Model", "JSON", "Logging"], swiftSettings: layerSettings),
        .target(name: "RecordWorkflows", dependencies: ["Workflows", "Records", "Auth", "Storage", "Model", "JSON"], swiftSettings: layerSettings),
        // The read-only web page at /ui: HTML, CSS and JavaScript compiled into the binary
        // (SwiftPM embeds the files of Assets/ as byte arrays; no build step, no CDN).
        .target(name: "WebUI", resources: [.embedInCode("Assets")], swiftSettings: layerSettings),
        // HTTP to domain calls and domain errors to statuses: routes, services, the application.
        .target(name: "API", dependencies: ["HTTPServer", "WebUI", "RecordWorkflows", "Workflows", "Auth", "Records", "Storage",
                                            "Model", "JSON", "Logging"], swiftSettings: layerSettings),
        // The command line: parsing, configuration, wiring, signals.
        .executableTarget(name: "triggerbase", dependencies: ["API", "HTTPServer", "Logging"], swiftSettings: layerSettings),

        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "CLinux"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "LoggingTests", dependencies: ["Logging"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Model"]),
        .testTarget(name: "TriggerBaseTests", dependencies: ["API", "RecordWorkflows", "Workflows", "Auth", "Records", "Storage", "Model",
                                                             "HTTPServer", "JSON", "CLinux", "WebUI"]),
    ],
    swiftLanguageModes: [.v6]
)
