public import HealthCore
/// The seam's values (batches, outcomes, errors) are what this backend speaks in: its clients see them with it.
@_exported public import HealthStorage
internal import GRDB
internal import CSQLite
import Foundation
import Synchronization
import Crypto

/// The SchoolHealth database: one SQLite file, owned by this module alone.
///
///     let store = try Store.open(path: "schoolhealth.sqlite")
///     let summary = try store.visionSummary()
public final class Store: Sendable {
    /// Where the database lives (":memory:" for an in-memory one).
    public let path: String
    let queue: DatabaseQueue
    /// The audit chain's key (`AuditKeyFile`), or nil when its file is missing: then nothing that must be
    /// audited can be done.
    let auditKey: SymmetricKey?
    /// Where the key is (or should be).
    public let auditKeyPath: String
    /// A drill database: times may be set by hand (`at:`), and every row and event says "drill".
    public let isDrill: Bool
    /// Bumped by every write of what a report counts (screenings, lists, notices, results, erasure) through this
    /// store; with `PRAGMA data_version` (other connections' commits) it makes `changeStamp`.
    let reportGeneration = Atomic<Int>(0)
    /// A read-only connection of its own for long reads (a full count of the report): `queue` is serial, and a
    /// count of a county's screenings on it had every page behind it wait (0.9 s after an upload).
    let longReader = Mutex<DatabaseQueue?>(nil)

    init(path: String, queue: DatabaseQueue, auditKey: SymmetricKey?, auditKeyPath: String, isDrill: Bool) {
        self.path = path
        self.queue = queue
        self.auditKey = auditKey
        self.auditKeyPath = auditKeyPath
        self.isDrill = isDrill
    }

    /// Where a database's audit key is kept unless told otherwise: `$SCHOOLHEALTH_AUDIT_KEY`, or beside it.
    public static func defaultAuditKeyPath(for path: String) -> String {
        ProcessInfo.processInfo.environment["SCHOOLHEALTH_AUDIT_KEY"] ?? path + ".auditkey"
    }

    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// A new database file is created readable by its owner only (SQLite gives its `-wal` and `-shm` the same
    /// mode), with a new audit key at `auditKeyPath` (owner-only too); `drill` marks a new database as a drill
    /// database for good. An existing file readable by others is narrowed to its owner.
    /// Refuses a database written by a newer SchoolHealth rather than guessing at its schema.
    public static func open(path: String, auditKeyPath: String? = nil, drill: Bool = false,
                            busyTimeoutSeconds: Double = 30) throws(StoreError) -> Store {
        _ = disableMemoryStatistics
        let keyPath = auditKeyPath ?? defaultAuditKeyPath(for: path)
        let isNew = try PrivateFiles.createDatabaseFile(path)
        var key = try AuditKeyFile.load(keyPath, createIfMissing: false)
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
                try queue.inDatabase { db in try Migrations.migrate(db, path: path) }
                // A new key starts a new keyed chain: for a new database, or one from before keyed audit (v5).
                // An existing key never starts one, so a log emptied by someone holding the file stays broken.
                var newKey = false
                if key == nil {
                    // Another process opening the new database at the same time may have created the key meanwhile.
                    // The events are counted before the key is looked for again: whoever writes the first keyed
                    // event linked its key into place before, so a log with events and no key file is a lost key,
                    // never a race.
                    let events = try queue.read { db in try Ledger.keyedEvents(db) }
                    key = try AuditKeyFile.load(keyPath, createIfMissing: false)
                    if key == nil, events == 0 {
                        key = try AuditKeyFile.load(keyPath, createIfMissing: true)
                        newKey = true
                    }
                }
                let store = Store(path: path, queue: queue, auditKey: key, auditKeyPath: keyPath,
                                  isDrill: isNew && drill ? try queue.write { db in try Settings.drill(db, markNew: true) }
                                                          : try queue.read { db in try Settings.drill(db, markNew: false) })
                if newKey { try store.startChain() }
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

    /// A private in-memory database with the current schema and a fresh audit key: for tests and dry runs.
    public static func inMemory(drill: Bool = false) throws(StoreError) -> Store {
        do {
            let queue = try DatabaseQueue()
            try queue.inDatabase { db in try Migrations.migrate(db, path: ":memory:") }
            let store = Store(path: ":memory:", queue: queue, auditKey: SymmetricKey(size: .bits256), auditKeyPath: ":memory:",
                              isDrill: try queue.write { db in try Settings.drill(db, markNew: drill) })
            try store.startChain()
            return store
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(error, path: ":memory:")
        }
    }

    /// The schema steps this database has applied, oldest first.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try run { db in try Migrations.applied(db) }
    }

    /// Runs `body` in one read, mapping errors to `StoreError`.
    func run<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try queue.read(body) } catch { throw StoreError(error, path: path) }
    }

    /// The connection for long reads: `longReader` (opened on first use), or `queue` for an in-memory database.
    func longReadQueue() throws -> DatabaseQueue {
        guard path != ":memory:" else { return queue }
        return try longReader.withLock { kept in
            if let kept { return kept }
            let opened = try Store.readOnlyQueue(path)
            kept = opened
            return opened
        }
    }

    /// A read-only connection to the database file at `path` (no migration, nothing written): for long reads,
    /// for a backup's copy, and for checking a backup or the database a restore would replace.
    static func readOnlyQueue(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        return try DatabaseQueue(path: path, configuration: config)
    }

    /// Runs `body` in one read on the long-read connection, mapping errors to `StoreError`.
    func runLong<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try longReadQueue().read(body) } catch { throw StoreError(error, path: path) }
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

extension Store {
    /// What a report counts, as this store has seen it: `PRAGMA data_version` (changes when another connection or
    /// process commits anything) and `reportGeneration` (this store's writes of screenings, lists, notices, results
    /// and erasures; not the queue's escalations or the audit log). Equal stamps, same counts: a cache of what was
    /// read may be reused. Read it before the data it stands for.
    public func changeStamp() throws -> [Int64] {
        do {
            let version = try queue.read { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
            return [version, Int64(reportGeneration.load(ordering: .acquiring))]
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Marks a write of what a report counts (after its commit, or after a rollback: a spare miss is harmless).
    func reportInputsChanged() { reportGeneration.add(1, ordering: .releasing) }
}

extension Store: ScreeningStorage {
    public var location: String { path }
}
