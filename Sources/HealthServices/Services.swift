import HealthCore
public import Foundation
public import HealthAnalytics
public import HealthIngest
public import HealthStore
public import HealthStorage
public import HealthStorePostgres
public import Logging
import Yams
import Synchronization

/// What every front end calls: the CLI's commands and the web server's routes are a few lines over these.
/// One instance holds the database, the configuration (rules, profiles, report settings, messages), the logger
/// and the clock.
///
///     let services = try SchoolHealthServices.open(databasePath: "schoolhealth.sqlite", configDirectory: "Config")
///     let report = try await services.reports.trends(TrendRequest())
public final class SchoolHealthServices: Sendable {
    /// Where screenings are kept and the trend report is counted: the SQLite file, or PostgreSQL.
    public let screenings: any ScreeningStorage
    /// The SQLite store, which also keeps the accounts, the audit log, referrals and the screening loop; nil on
    /// PostgreSQL, which keeps screenings and reports only in this version.
    let sqlite: Store?
    /// The SQLite store, for what only it keeps; on PostgreSQL an error that says so.
    public var store: Store {
        get throws(ServiceError) {
            guard let sqlite else {
                throw ServiceError(StoreError.notOnThisBackend(path: screenings.location, what: "this (accounts, the audit log, referrals, notices and clinic results)"))
            }
            return sqlite
        }
    }
    public let config: SchoolHealthConfig
    public let reportSettings: ReportSettings
    public let messages: MessageCatalogue
    public let configDirectory: String
    public let logger: Logger
    /// The clock (tests and the server inject theirs; the audit log's times come from the store's own clock).
    public let now: @Sendable () -> Date
    /// The counts the last trend report read, kept while the database is unchanged (`Store.changeStamp`): the
    /// dashboard's filters and downloads build on them without reading every screening again.
    let reportCounts = Mutex<[CountsKey: ReportCounts]>([:])
    /// Every year's counts, by whether the latest screening counts (each span above is cut from them).
    let everyYearCounts = Mutex<[Bool: ReportCounts]>([:])
    /// Reports built from those counts, by what was asked (at most `builtReportLimit`, all of the counts' stamp):
    /// a dashboard view asked again is not built again (the build — suppression, intervals, trends — is most of a
    /// view's time once the counts are kept).
    let builtReports = Mutex<[BuiltReportKey: TrendReport]>([:])
    static let builtReportLimit = 32
    /// Those reports as the API sent them (by report, format and the schools' names).
    let renderedReports = Mutex<[RenderedReportKey: Data]>([:])
    /// The connection screening imports write through (see `importStore`).
    let importConnection = Mutex<Store?>(nil)
    /// Held while the counts are read again (see `reportCounts(first:last:latest:)`).
    let countingLock = Mutex<Int>(0)
    /// Whether a request is reading the counts again (the others meanwhile serve the counts being replaced).
    let countingNow = Atomic<Bool>(false)

    public convenience init(store: Store, configDirectory: String, logger: Logger = Logger(label: "schoolhealth"),
                            now: @escaping @Sendable () -> Date = { Date() }) throws(ServiceError) {
        try self.init(sqlite: store, screenings: store, configDirectory: configDirectory, logger: logger, now: now)
    }

    /// Services over PostgreSQL: screening imports and trend reports (see `PostgresStore`).
    public convenience init(postgres: PostgresStore, configDirectory: String, logger: Logger = Logger(label: "schoolhealth"),
                            now: @escaping @Sendable () -> Date = { Date() }) throws(ServiceError) {
        try self.init(sqlite: nil, screenings: postgres, configDirectory: configDirectory, logger: logger, now: now)
    }

    private init(sqlite: Store?, screenings: any ScreeningStorage, configDirectory: String, logger: Logger,
                 now: @escaping @Sendable () -> Date) throws(ServiceError) {
        self.sqlite = sqlite
        self.screenings = screenings
        self.configDirectory = configDirectory
        self.logger = logger
        self.now = now
        self.config = try Self.loadConfig(configDirectory)
        self.reportSettings = try Self.loadReportSettings(configDirectory)
        self.messages = try MessageCatalogue.load(configDirectory: configDirectory)
    }

    /// Whether `--db` names a PostgreSQL database (`postgresql://…`) rather than a SQLite file.
    public static func isPostgres(_ database: String) -> Bool { PostgresAddress.isAddress(database) }

    /// `--db` as it may be shown: a PostgreSQL address without its password.
    public static func shown(database: String) -> String { PostgresAddress.masking(database) }

    /// Opens the database (`mustExist`: refuse to create one) and the configuration. `databasePath` is a SQLite file,
    /// or a `postgresql://` address (whose reports read from `readReplica` when one is given).
    public static func open(databasePath: String, configDirectory: String, mustExist: Bool = true, readReplica: String? = nil,
                            logger: Logger = Logger(label: "schoolhealth"), now: @escaping @Sendable () -> Date = { Date() }) throws(ServiceError) -> SchoolHealthServices {
        if PostgresAddress.isAddress(databasePath) {
            do {
                let primary = try PostgresAddress(parsing: databasePath)
                let replica = try readReplica.map { text throws(AddressError) in try PostgresAddress(parsing: text) }
                let store = try PostgresStore.open(primary, readingFrom: replica, logger: logger)
                return try SchoolHealthServices(postgres: store, configDirectory: configDirectory, logger: logger, now: now)
            } catch let error as AddressError {
                throw ServiceError(.invalid, key: "error.badDatabaseAddress", ["detail": error.description], message: error.description)
            } catch let error as ServiceError { throw error } catch { throw ServiceError(error) }
        }
        if readReplica != nil {
            throw ServiceError(.invalid, key: "error.replicaNeedsPostgres", message: "--read-replica is for a PostgreSQL database (a SQLite file has no replica)")
        }
        if mustExist && !FileManager.default.fileExists(atPath: databasePath) {
            throw ServiceError(.notFound, key: "error.noDatabase", ["path": databasePath],
                               message: "\(databasePath): no database there (import some screenings first, or run the demo)")
        }
        do {
            return try SchoolHealthServices(store: try Store.open(path: databasePath), configDirectory: configDirectory, logger: logger, now: now)
        } catch let error as ServiceError { throw error } catch { throw ServiceError(error) }
    }

    /// Where screening imports write: a second connection to a database file, so that an import's long write
    /// transaction does not hold up the pages' reads on `store` (SQLite's WAL lets them read the last commit
    /// meanwhile; `Store.changeStamp` sees the import's commit). An in-memory database has one connection.
    func importStore() throws(ServiceError) -> any ScreeningStorage {
        guard let store = sqlite else { return screenings }
        if store.path == ":memory:" { return store }
        if let open = importConnection.withLock({ $0 }) { return open }
        do {
            let opened = try Store.open(path: store.path, auditKeyPath: store.auditKeyPath)
            return importConnection.withLock { kept in
                if kept == nil { kept = opened }
                return kept!
            }
        } catch {
            throw ServiceError(error)
        }
    }

    public var reports: ReportService { ReportService(services: self) }
    public var imports: ImportService { ImportService(services: self) }
    public var referrals: ReferralService { ReferralService(services: self) }
    public var accounts: AccountService { AccountService(services: self) }
    public var followUp: FollowUpService { FollowUpService(services: self) }

    static func loadConfig(_ directory: String, extraProfiles: [String] = []) throws(ServiceError) -> SchoolHealthConfig {
        do { return try SchoolHealthConfig.load(directory: directory, extraProfiles: extraProfiles) } catch {
            throw ServiceError(.configuration, key: "error.config", message: error.description)
        }
    }

    static func loadReportSettings(_ directory: String) throws(ServiceError) -> ReportSettings {
        let path = directory + "/report.yaml"
        do {
            return try YAMLDecoder().decode(ReportSettings.self, from: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw ServiceError(.configuration, key: "error.config", message: "\(path): \(error)")
        }
    }
}

/// A value the compiler cannot prove Sendable, handed to one blocking job while its caller awaits the result:
/// only that job touches it until the job ends.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
}

/// What a trend report reads from the store for a span of years, and the database state it was read at.
/// What a built report depends on: the counts' stamp and what was asked.
struct BuiltReportKey: Hashable, Sendable {
    var stamp: [Int64]
    var first: Int, last: Int
    var schools: [String]
    var breakdown: String
    var suppress: Bool
    var language: String
}

struct RenderedReportKey: Hashable, Sendable {
    var built: BuiltReportKey
    var format: String
    var names: [String]
}

/// Which counts: the span of years and which screening of a year counts.
struct CountsKey: Hashable, Sendable {
    var first: Int, last: Int, latest: Bool
}

struct ReportCounts: Sendable {
    var stamp: [Int64]
    var first: Int, last: Int, latest: Bool
    var strata: [StratumCount]
    var followUps: [FollowUpCount]
    var days: [FollowUpDays]
}
