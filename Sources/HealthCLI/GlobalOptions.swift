import ArgumentParser
import Foundation
import HealthIngest
import HealthStore
import HealthServices
import Logging

/// Options every command shares: where the database and the configuration are.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The database: a SQLite file, or a PostgreSQL address postgresql://USER@HOST:PORT/DATABASE (which keeps screenings and reports in this version). Default: $SCHOOLHEALTH_DB, or schoolhealth.sqlite.", valueName: "path|address"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("With a PostgreSQL --db: a streaming replica (hot standby) of it, where reports read while the primary takes imports. Default: $SCHOOLHEALTH_READ_REPLICA.", valueName: "address"))
    var readReplica: String?

    @Option(name: .long, help: ArgumentHelp("The configuration folder (rules and column profiles). Default: $SCHOOLHEALTH_CONFIG, ./Config, or the one beside the program.", valueName: "dir"))
    var config: String?

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["SCHOOLHEALTH_DB"] ?? "schoolhealth.sqlite"
    }

    var replicaAddress: String? {
        readReplica ?? ProcessInfo.processInfo.environment["SCHOOLHEALTH_READ_REPLICA"]
    }

    /// The services over the database (a SQLite file must exist already; a PostgreSQL database gets its schema).
    func services(logger: Logger = Logger(label: "schoolhealth")) throws -> SchoolHealthServices {
        try SchoolHealthServices.open(databasePath: databasePath, configDirectory: try ConfigLocator.locate(explicit: config),
                                      readReplica: replicaAddress, logger: logger)
    }

    /// The database, which must exist already (commands that read: referrals, reports, audit).
    func existingStore() throws -> Store {
        if SchoolHealthServices.isPostgres(databasePath) {
            // Only screenings and reports are kept on PostgreSQL in this version: say so, not "no database there".
            throw ServiceError(StoreError.notOnThisBackend(path: SchoolHealthServices.shown(database: databasePath),
                                                           what: "this command (accounts, the audit log, referrals and the screening loop)"))
        }
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw CLIError("\(databasePath): no database there (import some screenings first, run schoolhealth demo, or give --db PATH)")
        }
        return try Store.open(path: databasePath)
    }

    func loadConfig(extraProfiles: [String] = []) throws -> SchoolHealthConfig {
        try SchoolHealthConfig.load(directory: try ConfigLocator.locate(explicit: config), extraProfiles: extraProfiles)
    }
}

/// Finds the `Config/` folder.
enum ConfigLocator {
    static let marker = "rules/vision.yaml"

    static func locate(explicit: String?) throws -> String {
        let fm = FileManager.default
        if let explicit {
            guard fm.fileExists(atPath: explicit + "/" + marker) else {
                throw CLIError("--config \(explicit): no \(marker) there; point --config at a SchoolHealth Config folder")
            }
            return explicit
        }
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["SCHOOLHEALTH_CONFIG"] { candidates.append(env) }
        candidates.append(fm.currentDirectoryPath + "/Config")
        // Beside the program, walking up (a build in .build/debug of a checkout finds the checkout's Config/).
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("Config").path)
            dir.deleteLastPathComponent()
        }
        // The checkout this program was built from.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config").path)
        for c in candidates where fm.fileExists(atPath: c + "/" + marker) { return c }
        throw CLIError("cannot find the Config folder (looked for \(marker) in \(candidates.prefix(3).joined(separator: ", ")), …); pass --config DIR or set SCHOOLHEALTH_CONFIG")
    }
}

/// A one-line failure for stderr.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error.
enum Console {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// One JSON object, keys sorted, on one line.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
