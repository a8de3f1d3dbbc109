internal import HealthStorage
internal import GRDB
public import Foundation
import Crypto
public import HealthRisk

/// What a backup folder holds besides the copy, and what `verify` checks it against.
///
/// A backup is a folder `schoolhealth-YYYYMMDDTHHMMSSZ/` (mode 0700) with `database.sqlite` (a consistent
/// copy: SQLite's `VACUUM INTO` reads one snapshot, so an import under way is in it entirely or not at all),
/// `audit.key`, `config/` and this manifest, as `manifest.json`; every file mode 0600.
public struct BackupManifest: Codable, Sendable, Equatable {
    public static let currentFormat = 1
    public var format = BackupManifest.currentFormat
    /// When the copy was taken (UTC, ISO 8601).
    public var createdAt: String
    /// The database it was taken from.
    public var source: String
    /// The schema steps the copy has applied, oldest first.
    public var schema: [String]
    public var drill: Bool
    public var databaseBytes: Int
    public var databaseSHA256: String
    public var auditKeySHA256: String
    /// A signed count and head of the copy's audit log (`audit verify --expect` takes it too).
    public var auditCheckpoint: String
    public var auditEvents: Int
    /// Rows per table of the copy.
    public var counts: [String: Int]
    /// SHA-256 of each configuration file, by its path under `config/`.
    public var config: [String: String]

    public static let fileName = "manifest.json"
    public static let databaseName = "database.sqlite"
    public static let keyName = "audit.key"
    public static let configName = "config"
}

/// What `backup verify` found: every check's problem, or none.
public struct BackupVerification: Sendable, Codable, Equatable {
    public var folder: String
    public var ok: Bool { problems.isEmpty }
    public var problems: [String] = []
    public var manifest: BackupManifest?
    public var auditEvents: Int?
}

/// Copies, checks and restores SchoolHealth databases. Nothing here changes the live database but the audit
/// event that records a backup or a restore.
public enum Backups {
    /// `schoolhealth-20261204T023000Z`: the folder's name for a time.
    public static func folderName(at date: Date) -> String {
        "schoolhealth-" + stamp(date)
    }

    static func stamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970), parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// The time a backup folder's name says, or nil for a folder that is not a backup.
    public static func time(ofFolder name: String) -> Date? {
        guard name.hasPrefix("schoolhealth-"), name.count == 29 else { return nil }
        let s = Array(name.dropFirst(13))
        guard s[8] == "T", s[15] == "Z", let y = Int(String(s[0..<4])), let mo = Int(String(s[4..<6])), let d = Int(String(s[6..<8])),
              let h = Int(String(s[9..<11])), let mi = Int(String(s[11..<13])), let se = Int(String(s[13..<15])) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900); parts.tm_mon = Int32(mo - 1); parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h); parts.tm_min = Int32(mi); parts.tm_sec = Int32(se)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// SHA-256 of a file, read in 1 MB chunks.
    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupError.unreadable(path: path) }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }

    /// Rows per table, the schema and the audit log's length and head, read from one database.
    static func census(_ db: Database) throws -> (counts: [String: Int], schema: [String], events: Int, head: String?, drill: Bool) {
        var counts: [String: Int] = [:]
        for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
            counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0
        }
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        return (counts, try Migrations.applied(db), last.map { Int($0["seq"] as Int64) } ?? 0, last?["hash"], try Settings.drill(db, markNew: false))
    }

    /// Copies a file in 1 MB chunks to a new file readable by its owner only, and syncs it.
    static func copyPrivately(_ from: String, to: String) throws {
        guard let input = FileHandle(forReadingAtPath: from) else { throw BackupError.unreadable(path: from) }
        defer { try? input.close() }
        let fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BackupError.cannotWrite(path: to, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == chunk.count else { throw BackupError.cannotWrite(path: to, reason: String(cString: strerror(errno))) }
        }
        guard fsync(fd) == 0 else { throw BackupError.cannotWrite(path: to, reason: String(cString: strerror(errno))) }
    }

    /// Every regular file under `root`, as paths relative to it, sorted.
    static func files(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let item = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + item, isDirectory: &isDir), !isDir.boolValue { out.append(item) }
        }
        return out.sorted()
    }

    static func fsyncFolder(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Checks a backup folder without changing it: the manifest, the files' sizes and digests, the copy's
    /// integrity, its schema (not newer than this version), its rows per table, and its audit chain (with the
    /// folder's key, or `auditKeyPath`: the live key, kept elsewhere) against the manifest's checkpoint.
    public static func verify(folder: String, auditKeyPath: String? = nil) -> BackupVerification {
        var result = BackupVerification(folder: folder)
        func problem(_ text: String) -> BackupVerification { result.problems.append(text); return result }
        let manifestPath = folder + "/" + BackupManifest.fileName
        guard let data = FileManager.default.contents(atPath: manifestPath) else { return problem("\(manifestPath): no manifest (not a backup folder, or it was removed)") }
        guard let manifest = try? JSONDecoder().decode(BackupManifest.self, from: data) else { return problem("\(manifestPath): the manifest cannot be read (edited or damaged)") }
        result.manifest = manifest
        guard manifest.format <= BackupManifest.currentFormat else { return problem("\(manifestPath): written by a newer SchoolHealth (format \(manifest.format)); use the newer version") }
        let database = folder + "/" + BackupManifest.databaseName
        let keyPath = auditKeyPath ?? folder + "/" + BackupManifest.keyName
        // The files first: a copy cut short or changed by one byte is refused before SQLite reads it.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: database), let size = attributes[.size] as? Int else {
            return problem("\(database): the database copy is missing")
        }
        if size != manifest.databaseBytes {
            return problem("\(database): \(size) bytes, the manifest says \(manifest.databaseBytes): the copy was cut short or changed")
        }
        guard let digest = try? sha256(ofFile: database), digest == manifest.databaseSHA256 else {
            return problem("\(database): its SHA-256 is not the manifest's: the copy was changed or damaged")
        }
        if auditKeyPath == nil, (try? sha256(ofFile: keyPath)) != manifest.auditKeySHA256 {
            result.problems.append("\(keyPath): the audit key is missing or is not the one the backup was taken with")
        }
        let configRoot = folder + "/" + BackupManifest.configName
        for (file, expected) in manifest.config.sorted(by: { $0.key < $1.key }) where (try? sha256(ofFile: configRoot + "/" + file)) != expected {
            result.problems.append("\(configRoot)/\(file): missing or changed since the backup")
        }
        for extra in files(under: configRoot) where manifest.config[extra] == nil {
            result.problems.append("\(configRoot)/\(extra): not in the manifest (added after the backup)")
        }
        do {
            let queue = try Store.readOnlyQueue(database)
            var kept: [(latest: Bool, counts: ReportTally.Counts)] = []
            var drill = false
            try queue.read { db in
                let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
                if integrity != "ok" { result.problems.append("\(database): SQLite's integrity check failed: \(integrity)"); return }
                let census = try census(db)
                let unknown = Migrations.unknown(in: census.schema)
                if !unknown.isEmpty { result.problems.append("\(database): written by a newer SchoolHealth (schema steps \(unknown.joined(separator: ", "))); use the newer version") }
                if census.schema != manifest.schema { result.problems.append("\(database): its schema steps are not the manifest's") }
                for (table, count) in manifest.counts.sorted(by: { $0.key < $1.key }) where census.counts[table] != count {
                    result.problems.append("\(database): table \(table) has \(census.counts[table].map(String.init) ?? "no") rows, the manifest says \(count)")
                }
                for table in census.counts.keys.sorted() where manifest.counts[table] == nil {
                    result.problems.append("\(database): table \(table) is not in the manifest")
                }
                guard let key = try AuditKeyFile.load(keyPath, createIfMissing: false) else {
                    result.problems.append("\(keyPath): no audit key: the audit log cannot be verified"); return
                }
                let audit = try Ledger.verify(db, key: key, expect: manifest.auditCheckpoint)
                result.auditEvents = audit.events
                if !audit.ok { result.problems.append("\(database): audit log: \(audit.problem ?? "does not verify")") }
                else if audit.events != manifest.auditEvents {
                    result.problems.append("\(database): the audit log has \(audit.events) events, the manifest says \(manifest.auditEvents)")
                }
                drill = census.drill
                for latest in [false, true] {
                    if let counts = try ReportTally.read(db, latest: latest, generation: ReportTally.generation(db)) { kept.append((latest, counts)) }
                }
            }
            // The report's kept counts are derived data outside the audit chain: they must equal a count of the
            // screenings (someone holding the database could have edited them alone).
            if result.problems.isEmpty, !kept.isEmpty {
                let copy = Store(path: database, queue: queue, auditKey: nil, auditKeyPath: keyPath, isDrill: drill)
                for (latest, counts) in kept {
                    let counted = try copy.countReport(latest: latest)
                    if counted.strata != counts.strata || counted.followUps != counts.followUps {
                        result.problems.append("\(database): the trend report's kept counts (report_tally) are not what the screenings count: they were changed outside SchoolHealth. The screenings are intact; a recount restores the counts (any import does one, or delete the row of report_tally_state)")
                    }
                }
            }
        } catch {
            result.problems.append("\(database): \(StoreError(error, path: database).description)")
        }
        return result
    }
}

/// Why a backup or a restore could not be done.
public enum BackupError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String)
    case cannotWrite(path: String, reason: String)
    /// `backup verify` found problems: the copy is not restored.
    case notVerified(folder: String, problems: [String])
    /// The database there has more than the backup (later audit events): restoring would lose them.
    case targetIsNewer(path: String, targetEvents: Int, backupEvents: Int, lastEvent: String)
    /// The database there cannot be read: only `--force` replaces it.
    case targetUnreadable(path: String, detail: String)
    case inMemory
    /// Another process (the server) has the database open: restoring under it would lose what it writes next.
    case inUse(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path): return "\(path): cannot be read"
        case let .cannotWrite(path, reason): return "\(path): cannot be written (\(reason)); nothing was changed"
        case let .notVerified(folder, problems): return "\(folder): the backup does not verify, so it was not restored: \(problems.joined(separator: "; "))"
        case let .targetIsNewer(path, target, backup, last):
            return "\(path): this database is newer than the backup (\(target) audit events, the last on \(last); the backup has \(backup)); restoring would lose what was done since. Nothing was changed; give --force to replace it anyway (it is kept beside as .before-restore-…)"
        case let .targetUnreadable(path, detail):
            return "\(path): the database there cannot be read (\(detail)); give --force to replace it (it is kept beside as .before-restore-…)"
        case .inMemory: return "an in-memory database has no file to back up"
        case let .inUse(path): return "\(path): another program has this database open (the server?): stop it first, then restore; nothing was changed"
        }
    }
}

extension Store {
    /// Takes a backup into a new folder under `directory` and returns its path and manifest.
    ///
    ///     let (folder, manifest) = try store.backup(to: "/srv/backups", configDirectory: "Config", now: Date())
    ///
    /// The copy comes from a connection of its own, reading one snapshot (`VACUUM INTO`): imports and queue work
    /// go on meanwhile, and an import not yet committed is not in the copy at all. The copy's journal is set
    /// to a single file, its counts and audit head are read from the copy itself, and the backup is recorded
    /// in the live audit log (who, which folder, the copy's SHA-256).
    /// (`recordInAudit: false` only for a test that takes a copy from inside another connection's write.)
    public func backup(to directory: String, configDirectory: String, now: Date, actor: Actor,
                       recordInAudit: Bool = true) throws -> (folder: String, manifest: BackupManifest) {
        guard path != ":memory:" else { throw BackupError.inMemory }
        guard let key = auditKey else { throw StoreError.auditKeyMissing(path: auditKeyPath) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let folder = directory + "/" + Backups.folderName(at: now)
        let partial = folder + ".partial"
        guard !FileManager.default.fileExists(atPath: folder) else {
            throw BackupError.cannotWrite(path: folder, reason: "a backup of this second is already there")
        }
        // Made, never reused: another backup taken into the same folder in the same second is refused, not clobbered
        // (a `.partial` left by a crash is removed by retention after an hour).
        guard mkdir(partial, 0o700) == 0 else {
            throw BackupError.cannotWrite(path: partial, reason: errno == EEXIST ? "another backup is being taken into it" : String(cString: strerror(errno)))
        }
        do {
            let database = partial + "/" + BackupManifest.databaseName
            do {
                let source = try Store.readOnlyQueue(path)
                try source.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [database]) }
                try source.close()
            } catch { throw StoreError(error, path: path) }
            _ = chmod(database, 0o600)
            var census: (counts: [String: Int], schema: [String], events: Int, head: String?, drill: Bool)
            do {
                let copy = try DatabaseQueue(path: database)
                try copy.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE") }
                census = try copy.read { db in try Backups.census(db) }
                try copy.close()
            } catch { throw StoreError(error, path: database) }
            try Backups.copyPrivately(auditKeyPath, to: partial + "/" + BackupManifest.keyName)
            let configRoot = partial + "/" + BackupManifest.configName
            var config: [String: String] = [:]
            for file in Backups.files(under: configDirectory) {
                let target = configRoot + "/" + file
                // Each folder on the way owner-only (the configuration folder itself the first time).
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                try Backups.copyPrivately(configDirectory + "/" + file, to: target)
                config[file] = try Backups.sha256(ofFile: target)
            }
            let size = (try FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) ?? 0
            let manifest = BackupManifest(
                createdAt: Backups.iso(now), source: path, schema: census.schema, drill: census.drill,
                databaseBytes: size, databaseSHA256: try Backups.sha256(ofFile: database),
                auditKeySHA256: try Backups.sha256(ofFile: partial + "/" + BackupManifest.keyName),
                auditCheckpoint: AuditChain.checkpoint(count: census.events, head: census.head ?? AuditChain.zeroHash, key: key),
                auditEvents: census.events, counts: census.counts, config: config)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let manifestPath = partial + "/" + BackupManifest.fileName
            guard FileManager.default.createFile(atPath: manifestPath, contents: try encoder.encode(manifest), attributes: [.posixPermissions: 0o600]) else {
                throw BackupError.cannotWrite(path: manifestPath, reason: "cannot create the file")
            }
            Backups.fsyncFolder(partial)
            // Named by time only once whole: a folder without `.partial` is a finished backup.
            guard rename(partial, folder) == 0 else { throw BackupError.cannotWrite(path: folder, reason: String(cString: strerror(errno))) }
            Backups.fsyncFolder(directory)
            if recordInAudit {
                try recordEvent(actor: actor, action: "backup",
                                detail: "\(folder): \(census.events) audit events, database sha256 \(manifest.databaseSHA256.prefix(16))")
            }
            return (folder, manifest)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}

extension Backups {
    /// Whether another process has the database at `path` open: SQLite's WAL connections each hold a shared lock
    /// on the `-shm` file's DMS byte (os_unix.c: offset 120 + 8) for as long as they are open. Asked with F_GETLK,
    /// which changes no lock; POSIX locks do not conflict within one process, so this process's own connections are
    /// not seen (and closing the descriptor drops this process's locks on the file: call it with none open).
    static func isOpenElsewhere(_ path: String) -> Bool {
        let fd = open(path + "-shm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 128
        lock.l_len = 1
        guard fcntl(fd, F_GETLK, &lock) == 0 else { return false }
        return lock.l_type != Int16(F_UNLCK)
    }

    /// Puts a verified backup back at `path` (with its audit key at `auditKeyPath`).
    ///
    /// Refuses a backup that does not verify, and a database at `path` that is newer than the backup (more audit
    /// events, or ones the backup does not have) unless `force`. What was at `path` (and its key, when it
    /// differs) is kept beside it as `….before-restore-STAMP`, never deleted. The restored database records the
    /// restore in its audit log. Refused while another process has the database open (`isOpenElsewhere`).
    public static func restore(folder: String, to path: String, auditKeyPath: String, force: Bool, now: Date, actor: Actor) throws -> BackupVerification {
        let verification = verify(folder: folder)
        guard verification.ok, let manifest = verification.manifest else {
            throw BackupError.notVerified(folder: folder, problems: verification.problems)
        }
        let fm = FileManager.default
        // A server (or any process) with the database open would go on writing to the file this renames away.
        if isOpenElsewhere(path) { throw BackupError.inUse(path: path) }
        if fm.fileExists(atPath: path) && !force {
            do {
                let queue = try Store.readOnlyQueue(path)
                // Newer: something was done after the backup's last event (a backup's own record does not count).
                let (events, later, last) = try queue.read { db -> (Int, Int, Int?) in
                    let row = try Row.fetchOne(db, sql: "SELECT seq, at FROM audit_event ORDER BY seq DESC LIMIT 1")
                    let later = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE seq > ? AND action <> 'backup'",
                                                 arguments: [manifest.auditEvents]) ?? 0
                    return (row.map { Int($0["seq"] as Int64) } ?? 0, later, row?["at"])
                }
                try queue.close()
                if later > 0 {
                    throw BackupError.targetIsNewer(path: path, targetEvents: events, backupEvents: manifest.auditEvents,
                                                    lastEvent: last.map { iso(Date(timeIntervalSince1970: TimeInterval($0))) } ?? "?")
                }
            } catch let error as BackupError { throw error } catch {
                throw BackupError.targetUnreadable(path: path, detail: StoreError(error, path: path).description)
            }
        }
        let stamp = stamp(now)
        let incoming = path + ".restoring-\(getpid())"
        try copyPrivately(folder + "/" + BackupManifest.databaseName, to: incoming)
        for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: path + suffix) {
            guard rename(path + suffix, path + ".before-restore-\(stamp)" + suffix) == 0 else {
                try? fm.removeItem(atPath: incoming)
                throw BackupError.cannotWrite(path: path + suffix, reason: String(cString: strerror(errno)))
            }
        }
        let backupKey = folder + "/" + BackupManifest.keyName
        if fm.fileExists(atPath: auditKeyPath), (try? sha256(ofFile: auditKeyPath)) != manifest.auditKeySHA256 {
            _ = rename(auditKeyPath, auditKeyPath + ".before-restore-\(stamp)")
        }
        if !fm.fileExists(atPath: auditKeyPath) { try copyPrivately(backupKey, to: auditKeyPath) }
        guard rename(incoming, path) == 0 else { throw BackupError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        fsyncFolder((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        let store = try Store.open(path: path, auditKeyPath: auditKeyPath)
        try store.recordEvent(actor: actor, action: "restore",
                              detail: "from \(folder) (taken \(manifest.createdAt), \(manifest.auditEvents) audit events, sha256 \(manifest.databaseSHA256.prefix(16)))")
        return verification
    }
}
