import Foundation
import Testing
@testable import HealthIngest
@testable import HealthStore
import HealthCore
import HealthRisk
import HealthSynthetic
import HealthTestSupport

/// Backups are consistent copies (taken while an import is under way, they hold its file entirely or not at all),
/// and `Backups.verify` refuses a copy that was cut short or changed.
@Suite("Backups")
struct BackupTests {
    static func folder(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    static let system = Actor.system("backup test")

    /// A county with two years of vision screenings, the second not yet imported; the second year's file ends
    /// with a row the importer rejects (so that its rejection is reported while the file's transaction is open).
    static func county(_ directory: String) throws -> (Harness, second: String) {
        let county = SyntheticCounty(seed: 11, students: 300, firstYear: 2023, years: 2)
        let files = try county.writeVision(to: directory).sorted { $0.schoolYear < $1.schoolYear }
        var h = try Harness(path: directory + "/db.sqlite")
        _ = try h.run("", path: files[0].path)
        // Bytes, not text: the generated file may be GB18030. Commas and line ends are ASCII in either.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: files[1].path))
        let header = bytes.prefix { $0 != UInt8(ascii: "\n") }
        let columns = header.filter { $0 == UInt8(ascii: ",") }.count + 1
        if bytes.last != UInt8(ascii: "\n") { bytes.append(contentsOf: Array("\r\n".utf8)) }
        bytes.append(contentsOf: Array(((["NOT-A-STUDENT"] + Array(repeating: "??", count: columns - 1)).joined(separator: ",") + "\r\n").utf8))
        let second = directory + "/second.csv"
        try bytes.write(to: URL(fileURLWithPath: second))
        return (h, second)
    }

    @Test("a backup taken while an import is under way holds the file not at all; one taken after, entirely")
    func consistentDuringImport() throws {
        let directory = try Self.folder("backup-import")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var (h, second) = try Self.county(directory)
        let before = try h.count()
        let batchesBefore = try h.count("import_batch")
        var during: (folder: String, manifest: BackupManifest)?
        // The importer reports the last row's rejection from inside the file's open transaction: a second
        // connection takes the backup then (the live audit record waits for the import's lock, so it is skipped).
        var options = ImportOptions()
        options.today = CivilDate(year: 2026, month: 1, day: 1)!
        let report = try h.importer.importFile(path: second, kind: .vision, options: options) { _ in
            guard during == nil else { return }
            let other = try! Store.open(path: directory + "/db.sqlite")
            during = try! other.backup(to: directory + "/backups", configDirectory: TestSupport.configDirectory,
                                       now: Date(timeIntervalSince1970: 1_800_000_000), actor: Self.system, recordInAudit: false)
        }
        #expect(report.inserted > 0)
        let after = try h.store.backup(to: directory + "/backups", configDirectory: TestSupport.configDirectory,
                                       now: Date(timeIntervalSince1970: 1_800_000_100), actor: Self.system)
        let taken = try #require(during)
        // A second backup into the same folder in the same second is refused (the first is verified below, whole).
        #expect(throws: BackupError.self) {
            _ = try h.store.backup(to: directory + "/backups", configDirectory: TestSupport.configDirectory,
                                   now: Date(timeIntervalSince1970: 1_800_000_100), actor: Self.system)
        }
        for (name, backup, rows, batches) in [("during", taken, before, batchesBefore), ("after", after, try h.count(), batchesBefore + 1)] {
            let verification = Backups.verify(folder: backup.folder)
            #expect(verification.ok, "\(name): \(verification.problems)")
            let copy = try Store.open(path: backup.folder + "/" + BackupManifest.databaseName, auditKeyPath: backup.folder + "/" + BackupManifest.keyName)
            #expect(Int(try copy.debugRows("SELECT COUNT(*) FROM vision_screening")[0][0]!)! == rows, "\(name): screenings")
            #expect(Int(try copy.debugRows("SELECT COUNT(*) FROM import_batch")[0][0]!)! == batches, "\(name): batches")
        }
        #expect(try h.count() == before + report.inserted)
        // Only the backup after the import is recorded in the live log.
        #expect(try h.rows("SELECT COUNT(*) FROM audit_event WHERE action = 'backup'")[0][0] == "1")
    }

    @Test("a copy cut short, changed, with events cut off the end or with a manifest edited to match is refused")
    func tamperedRefused() throws {
        let directory = try Self.folder("backup-tamper")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (h, _) = try Self.county(directory)
        _ = try h.store.reportData(fromYear: 0, toYear: 9999)   // the report's counts are kept
        #expect(try h.store.reportCountsAreCurrent())
        let (folder, manifest) = try h.store.backup(to: directory + "/backups", configDirectory: TestSupport.configDirectory, now: Date(), actor: Self.system)
        #expect(Backups.verify(folder: folder).ok)
        let fm = FileManager.default
        func variant(_ name: String, _ change: (String) throws -> Void) throws -> BackupVerification {
            let copy = directory + "/" + name
            try fm.copyItem(atPath: folder, toPath: copy)
            try change(copy)
            return Backups.verify(folder: copy)
        }
        func rewriteManifest(_ copy: String, _ edit: (inout BackupManifest) -> Void) throws {
            let path = copy + "/" + BackupManifest.fileName
            var m = try JSONDecoder().decode(BackupManifest.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
            edit(&m)
            try JSONEncoder().encode(m).write(to: URL(fileURLWithPath: path))
        }
        let db = "/" + BackupManifest.databaseName
        let truncated = try variant("truncated") { copy in
            let handle = try #require(FileHandle(forWritingAtPath: copy + db))
            try handle.truncate(atOffset: UInt64(manifest.databaseBytes / 2))
            try handle.close()
        }
        #expect(truncated.problems.contains { $0.contains("cut short") })
        let flipped = try variant("flipped") { copy in
            let handle = try #require(FileHandle(forUpdatingAtPath: copy + db))
            try handle.seek(toOffset: UInt64(manifest.databaseBytes - 100))
            try handle.write(contentsOf: Data([0x5A]))
            try handle.close()
        }
        #expect(flipped.problems.contains { $0.contains("SHA-256") })
        // Someone holding the folder removes the last audit events (triggers dropped) and rewrites the manifest's
        // size, digest and counts to match: the signed checkpoint still says how long the log was.
        /// Runs `sql` on the copy as someone holding the file would, then makes the manifest's size and digest match.
        func forge(_ copy: String, _ sql: String, _ edit: (inout BackupManifest) -> Void = { _ in }) throws {
            let store = try Store.open(path: copy + db, auditKeyPath: copy + "/" + BackupManifest.keyName)
            try store.debugExecute(sql + "; PRAGMA wal_checkpoint(TRUNCATE)")
            try rewriteManifest(copy) { m in
                m.databaseBytes = (try? fm.attributesOfItem(atPath: copy + db)[.size] as? Int) ?? 0
                m.databaseSHA256 = (try? Backups.sha256(ofFile: copy + db)) ?? ""
                edit(&m)
            }
        }
        let cut = try variant("cut") { copy in
            try forge(copy, "DROP TRIGGER audit_event_no_delete; DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)") { m in
                m.auditEvents -= 1
                m.counts["audit_event"]! -= 1
            }
        }
        #expect(cut.problems.contains { $0.contains("cut off the end") }, "\(cut.problems)")
        // The report's kept counts edited alone (derived data outside the audit chain), the digests made to match.
        let tally = try variant("tally") { copy in
            try forge(copy, "UPDATE report_tally SET numerator = numerator + 5 WHERE rowid = (SELECT MIN(rowid) FROM report_tally WHERE numerator < denominator - 5)")
        }
        #expect(tally.problems.contains { $0.contains("report_tally") }, "\(tally.problems)")
        let configChanged = try variant("config") { copy in
            try "keepDaily: 0\nkeepWeekly: 0\ndailyAt: \"02:30\"\n".write(toFile: copy + "/config/backup.yaml", atomically: true, encoding: .utf8)
        }
        #expect(configChanged.problems.contains { $0.contains("backup.yaml") })
        let noKey = try variant("nokey") { copy in try fm.removeItem(atPath: copy + "/" + BackupManifest.keyName) }
        #expect(!noKey.ok)
        // Verified with the live key instead of the folder's: a key swapped into the folder does not help a forger.
        #expect(Backups.verify(folder: folder, auditKeyPath: h.store.auditKeyPath).ok)
    }

    @Test("a restore refuses a newer database without force, keeps what it replaces, and logs itself")
    func restoreRules() throws {
        let directory = try Self.folder("backup-restore")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var (h, second) = try Self.county(directory)
        let (folder, _) = try h.store.backup(to: directory + "/backups", configDirectory: TestSupport.configDirectory, now: Date(), actor: Self.system)
        let counted = try h.store.recountReport()
        let target = directory + "/db.sqlite", key = h.store.auditKeyPath
        // Only the backup's own record came after it: not newer. Then a file is imported: newer.
        h = try Harness(path: target)
        _ = try h.run("", path: second)
        h = try Harness()   // the file's connections closed (a restore is made with none open)
        do {
            _ = try Backups.restore(folder: folder, to: target, auditKeyPath: key, force: false, now: Date(), actor: Self.system)
            Issue.record("a newer database was replaced without --force")
        } catch let error as BackupError {
            guard case .targetIsNewer = error else { Issue.record("\(error)"); return }
        }
        _ = try Backups.restore(folder: folder, to: target, auditKeyPath: key, force: true, now: Date(), actor: Self.system)
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("db.sqlite.before-restore-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(kept.count == 1)
        let restored = try Store.open(path: target)
        #expect(try restored.recountReport().strata == counted.strata)
        let audit = try restored.verifyAudit()
        #expect(audit.ok, "\(audit.problem ?? "")")
        #expect(try restored.debugRows("SELECT COUNT(*) FROM audit_event WHERE action = 'restore'")[0][0] == "1")
        // A backup that does not verify is never restored.
        try "{}".write(toFile: folder + "/" + BackupManifest.fileName, atomically: true, encoding: .utf8)
        #expect(throws: BackupError.self) {
            _ = try Backups.restore(folder: folder, to: directory + "/other.sqlite", auditKeyPath: directory + "/other.key", force: true, now: Date(), actor: Self.system)
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/other.sqlite"))
    }

    @Test("retention keeps the newest of each of the last days and weeks, and the newest always")
    func retention() {
        let day = 86400
        let mondayNumber = 20_450 - (20_450 + 3) % 7   // days since 1970-01-01 (a Thursday) of a Monday
        let monday = mondayNumber * day - 8 * 3600      // 00:00 county time (UTC+8)
        // Two backups a day (01:00 and 13:00) for 30 days: days 0–29, weeks 0–4.
        let times = (0..<60).map { monday + ($0 / 2) * day + (1 + ($0 % 2) * 12) * 3600 }
        let settings = BackupSettings(keepDaily: 7, keepWeekly: 4, dailyAt: "02:30")
        let kept = Set(settings.kept(times).map { times[$0] })
        // The newest of days 23–29, and of weeks 4, 3, 2, 1 (days 29, 27, 20, 13): each day's 13:00 backup.
        let expected = Set(([13, 20] + Array(23...29)).map { monday + $0 * day + 13 * 3600 })
        #expect(kept == expected)
        #expect(BackupSettings(keepDaily: 0, keepWeekly: 0, dailyAt: "02:30").kept(times) == [times.indices.max()!])
        #expect(settings.nextRun(after: monday) == monday + 150 * 60)
        #expect(settings.nextRun(after: monday + 150 * 60) == monday + day + 150 * 60)
    }
}
