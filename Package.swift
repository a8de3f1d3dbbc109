// swift-tools-version:6.2
//
// The package is the architecture diagram. Dependencies point one way only:
//
//   CLibCSV, CSQLite        C libraries from Debian packages, each wrapped in exactly one module
//   HealthCore              domain values and the rules of the standards (pure, no I/O)
//   HealthStorage           the storage seam: what a backend stores and how it counts (protocols, values; no SQL)
//   HealthStore             the SQLite backend (the embedded default): schema, migrations, batches, revisions
//   HealthStorePostgres     the PostgreSQL backend (city and province deployments): partitions by year, COPY
//   HealthIngest            CSV decoding, header profiles, value parsing, import orchestration
//   HealthAnalytics         rates, intervals, trends, standardisation, targets, suppression (pure, no I/O)
//   HealthSynthetic         reproducible synthetic county exports (no real student data, ever)
//   HealthServices          what every front end calls: imports, reports, referrals, accounts, config, messages
//   HealthServer            the web application (Hummingbird): pages and JSON API over HealthServices
//   HealthCLI               the `schoolhealth` commands (over HealthServices; `serve` starts HealthServer)
//   schoolhealth            one-file executable
import PackageDescription

let package = Package(
    name: "SchoolHealth",
    products: [
        .executable(name: "schoolhealth", targets: ["schoolhealth"]),
        .executable(name: "schoolhealth-bench", targets: ["HealthBenchmarks"]),
    ],
    dependencies: [
        // Command-line parsing, help text and validation: saves a hand-written parser for ~15 options.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // SQLite access: migrations, typed errors, transactions; the hot insert loop binds raw handles.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // YAML for Config/ (column profiles, rule sets) so they can carry comments and sources.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // SHA-256 of every imported file (batch identity), HMAC for the keyed audit chain and tokens, scrypt for
        // passwords (CryptoExtras): Foundation on Linux has none of them.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The web server: HTTP/1.1 on SwiftNIO, routing, streamed request bodies, in-process route tests.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // HTTP field names the server sets (CSP, nosniff, referrer policy): Hummingbird does not re-export them.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // A streaming multipart/form-data parser: a 100 MB upload goes to disk chunk by chunk.
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        // Structured logs for the server (request ids, no student data); the service layer takes a Logger.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The PostgreSQL wire protocol (COPY FROM, streamed rows, a connection pool): the second storage backend.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Graceful shutdown with a time cap (a stalled upload must not keep the server alive).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibCSV", providers: [.apt(["libcsv-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),

        .target(name: "HealthCore"),
        .target(name: "HealthStorage", dependencies: ["HealthCore", "HealthRisk"]),
        .target(name: "HealthStore", dependencies: [
            "HealthCore", "HealthStorage", "HealthRisk", "CSQLite",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),   // the audit log's hash chain
        ]),
        .target(name: "HealthStorePostgres", dependencies: [
            "HealthCore", "HealthStorage",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "HealthIngest", dependencies: [
            "HealthCore", "HealthStorage", "HealthStore", "HealthRisk", "CLibCSV",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "HealthSynthetic", dependencies: ["HealthCore"]),
        .target(name: "HealthAnalytics", dependencies: ["HealthCore"]),
        // Pure decisions of the referral workflow, and its credentials and audit chain (scrypt, HMAC: swift-crypto).
        .target(name: "HealthRisk", dependencies: [
            "HealthCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),   // scrypt for passwords
        ]),
        .target(name: "HealthServices", dependencies: [
            "HealthCore", "HealthStorage", "HealthStore", "HealthStorePostgres", "HealthIngest", "HealthAnalytics", "HealthRisk",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),   // SHA-256 of an upload while it is spooled
        ]),
        .target(name: "HealthServer", dependencies: [
            "HealthServices", "HealthCore", "HealthRisk", "HealthAnalytics",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "HealthCLI", dependencies: [
            "HealthServices", "HealthServer",
            "HealthCore", "HealthStore", "HealthIngest", "HealthAnalytics", "HealthRisk", "HealthSynthetic",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "schoolhealth", dependencies: [
            "HealthCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // The referral-queue benchmark (timed in-process).
        .executableTarget(name: "HealthBenchmarks", dependencies: ["HealthStore", "HealthRisk"]),

        .target(name: "HealthTestSupport", dependencies: ["HealthCore"]),
        .testTarget(name: "HealthCoreTests", dependencies: [
            "HealthCore", "HealthTestSupport", .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "HealthStoreTests", dependencies: [
            "HealthStore", "HealthCore", "HealthTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "HealthIngestTests", dependencies: [
            "HealthIngest", "HealthStore", "HealthCore", "HealthRisk", "HealthSynthetic", "HealthTestSupport",
        ]),
        .testTarget(name: "HealthAnalyticsTests", dependencies: ["HealthAnalytics", "HealthCore", "HealthTestSupport"],
                    exclude: ["reference"]),   // the Python script that computes the statsmodels/scipy reference values
        .testTarget(name: "HealthRiskTests", dependencies: ["HealthRisk", "HealthTestSupport"]),
        .testTarget(name: "HealthSyntheticTests", dependencies: ["HealthSynthetic", "HealthTestSupport"]),
        .testTarget(name: "HealthServerTests", dependencies: [
            "HealthServer", "HealthServices", "HealthStore", "HealthCore", "HealthRisk", "HealthSynthetic", "HealthTestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        // The storage contract: the same files, the same answers on SQLite and PostgreSQL.
        .testTarget(name: "HealthStorageContractTests", dependencies: [
            "HealthStorage", "HealthStore", "HealthStorePostgres", "HealthIngest", "HealthServices", "HealthSynthetic",
            "HealthAnalytics", "HealthCore", "HealthTestSupport",
        ]),
        .testTarget(name: "HealthCLITests", dependencies: [
            "HealthCLI", "HealthStore", "HealthCore", "HealthSynthetic", "HealthTestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
