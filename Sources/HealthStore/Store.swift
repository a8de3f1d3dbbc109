public import HealthCore
internal import GRDB
internal import CSQLite
import Foundation

/// The SchoolHealth database: one SQLite file, owned by this module alone.
///
///     let store = try Store.open(path: "schoolhealth.sqlite")
///     let summary = try store.visionSummary()
public final class Store: Sendable {
    /// Where the database lives (":memory:" for an in-memory one).
    public let path: String
    let queue: DatabaseQueue

    init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// Refuses a database written by a newer SchoolHealth rather than guessing at its schema.
    public static func open(path: String, busyTimeoutSeconds: Double = 30) throws(StoreError) -> Store {
        _ = disableMemoryStatistics
        var config = Configuration()
        config.busyMode = .timeout(busyTimeoutSeconds)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // Opening a new file sets WAL mode and migrates it. When several processes do that at once, SQLite can
        // answer "busy" to one of them without waiting (a change of journal mode does not always call the busy
        // handler): opening is retried until the busy timeout.
        let deadline = Date().addingTimeInterval(busyTimeoutSeconds)
        while true {
            do {
                let queue = try DatabaseQueue(path: path, configuration: config)
                let store = Store(path: path, queue: queue)
                try store.migrate()
                return store
            } catch {
                let failure = StoreError(error, path: path)
                if case .busy = failure, Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                throw failure
            }
        }
    }

    /// SQLite keeps global allocation statistics behind a mutex unless told not to, once, before first use.
    private static let disableMemoryStatistics: Void = { _ = schoolhealth_sqlite3_disable_memstatus() }()

    /// A private in-memory database with the current schema: for tests and dry runs.
    public static func inMemory() throws(StoreError) -> Store {
        do {
            let store = Store(path: ":memory:", queue: try DatabaseQueue())
            try store.migrate()
            return store
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(error, path: ":memory:")
        }
    }

    private func migrate() throws {
        try queue.inDatabase { db in try Migrations.migrate(db, path: path) }
    }

    /// The schema steps this database has applied, oldest first.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try run { db in try Migrations.applied(db) }
    }

    /// Runs `body` in one read, mapping errors to `StoreError`.
    func run<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try queue.read(body) } catch { throw StoreError(error, path: path) }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws(StoreError) -> String {
        try run { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}

extension StoreError {
    init(_ error: any Error, path: String) {
        if let e = error as? StoreError { self = e; return }
        guard let e = error as? DatabaseError else {
            self = .sqlite(path: path, code: -1, message: String(describing: error))
            return
        }
        switch e.resultCode {
        case .SQLITE_FULL: self = .diskFull(path: path)
        case .SQLITE_READONLY: self = .readOnly(path: path)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: self = .notADatabase(path: path, detail: e.message ?? "\(e.resultCode)")
        case .SQLITE_BUSY, .SQLITE_LOCKED: self = .busy(path: path)
        case .SQLITE_CANTOPEN: self = .sqlite(path: path, code: e.resultCode.rawValue, message: "cannot open the database file (does the folder exist and can it be written?)")
        default: self = .sqlite(path: path, code: e.extendedResultCode.rawValue, message: e.message ?? "\(e)")
        }
    }
}
