import Foundation
public import HealthCore
public import HealthRisk
public import HealthStore
import Yams

/// One backup taken: where, what it holds, whether it verified, and what retention removed after it.
public struct BackupRun: Sendable, Codable {
    public var folder: String
    public var manifest: BackupManifest
    public var verification: BackupVerification
    public var removed: [String]
}

/// A backup folder as the administrator's page lists it.
public struct BackupListing: Sendable, Codable, Equatable {
    public var folder: String
    public var name: String
    /// Unix seconds, from the folder's name.
    public var takenAt: Int
    public var bytes: Int?
    public var auditEvents: Int?
    /// What the last `verify` of it found (nil: never verified).
    public var verified: Bool?
    public var problems: [String]
}

/// Backups of the database: take (and verify, and apply retention), verify, list, restore.
public struct BackupService: Sendable {
    let services: SchoolHealthServices
    static let verifiedName = "verified.json"

    /// Takes a backup into `directory`, verifies it, records the verification beside it, and removes what the
    /// retention of `Config/backup.yaml` no longer keeps. Administrators (or the system: the CLI, the schedule).
    public func backup(to directory: String, actor: Actor) async throws(ServiceError) -> BackupRun {
        guard actor.role == .admin || actor.accountID == nil else {   // nil: the system (the CLI, the schedule)
            throw ServiceError(.forbidden, key: "error.forbidden", message: "backups are taken by an administrator")
        }
        let services = self.services
        let settings = try BackupService.settings(services.configDirectory)
        return try await offload {
            let (folder, manifest) = try services.store.backup(to: directory, configDirectory: services.configDirectory, now: services.now(), actor: actor)
            let verification = BackupService.verifyAndRecord(folder: folder, auditKeyPath: nil)
            let removed = try BackupService.prune(directory, settings: settings, keeping: folder)
            return BackupRun(folder: folder, manifest: manifest, verification: verification, removed: removed)
        }
    }

    /// Checks a backup folder (read-only) and writes what was found beside it (`verified.json`).
    public static func verifyAndRecord(folder: String, auditKeyPath: String?) -> BackupVerification {
        let verification = Backups.verify(folder: folder, auditKeyPath: auditKeyPath)
        if verification.manifest != nil {
            let record = VerifiedRecord(ok: verification.ok, problems: verification.problems, at: Int(Date().timeIntervalSince1970))
            if let data = try? JSONEncoder().encode(record) {
                FileManager.default.createFile(atPath: folder + "/" + verifiedName, contents: data, attributes: [.posixPermissions: 0o600])
            }
        }
        return verification
    }

    struct VerifiedRecord: Codable { var ok: Bool; var problems: [String]; var at: Int }

    /// The backups in `directory`, newest first.
    public static func list(_ directory: String) -> [BackupListing] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> BackupListing? in
            guard let time = Backups.time(ofFolder: name) else { return nil }
            let folder = directory + "/" + name
            let manifest = FileManager.default.contents(atPath: folder + "/" + BackupManifest.fileName).flatMap { try? JSONDecoder().decode(BackupManifest.self, from: $0) }
            let record = FileManager.default.contents(atPath: folder + "/" + verifiedName).flatMap { try? JSONDecoder().decode(VerifiedRecord.self, from: $0) }
            return BackupListing(folder: folder, name: name, takenAt: Int(time.timeIntervalSince1970), bytes: manifest?.databaseBytes,
                                 auditEvents: manifest?.auditEvents, verified: record?.ok, problems: record?.problems ?? [])
        }.sorted { $0.takenAt > $1.takenAt }
    }

    /// The newest backup in `directory` that verified.
    public static func lastGood(_ directory: String) -> BackupListing? {
        list(directory).first { $0.verified == true }
    }

    /// Removes the backups retention no longer keeps: verified ones outside `keepDaily`/`keepWeekly`, and
    /// unverified ones older than the newest verified one. `keeping` is never removed. Returns the folders removed.
    static func prune(_ directory: String, settings: BackupSettings, keeping: String) throws -> [String] {
        let all = list(directory)
        let verified = all.filter { $0.verified == true }
        let kept = settings.kept(verified.map(\.takenAt))
        let newestGood = verified.first?.takenAt ?? Int.min
        var removed: [String] = []
        for (i, b) in verified.enumerated() where !kept.contains(i) && b.folder != keeping { removed.append(b.folder) }
        for b in all where b.verified != true && b.takenAt < newestGood && b.folder != keeping { removed.append(b.folder) }
        // A folder still `.partial` an hour after its time was left by a backup that did not finish (a crash).
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasSuffix(".partial") {
            if let time = Backups.time(ofFolder: String(name.dropLast(8))), time.timeIntervalSinceNow < -3600 { removed.append(directory + "/" + name) }
        }
        for folder in removed { try FileManager.default.removeItem(atPath: folder) }
        return removed
    }

    static func settings(_ configDirectory: String) throws(ServiceError) -> BackupSettings {
        let path = configDirectory + "/backup.yaml"
        do {
            let settings = try YAMLDecoder().decode(BackupSettings.self, from: try String(contentsOfFile: path, encoding: .utf8))
            guard settings.dailyMinute != nil, settings.keepDaily >= 0, settings.keepWeekly >= 0 else {
                throw ServiceError(.configuration, key: "error.config", message: "\(path): dailyAt must be HH:MM and the numbers 0 or more")
            }
            return settings
        } catch let error as ServiceError { throw error } catch {
            throw ServiceError(.configuration, key: "error.config", message: "\(path): \(error)")
        }
    }

    public var settings: BackupSettings {
        get throws(ServiceError) { try BackupService.settings(services.configDirectory) }
    }

    /// Puts a verified backup back at `databasePath` (see `Backups.restore`); the database need not exist or open.
    public static func restore(folder: String, databasePath: String, auditKeyPath: String?, force: Bool, actor: Actor) throws(ServiceError) -> BackupVerification {
        do {
            return try Backups.restore(folder: folder, to: databasePath, auditKeyPath: auditKeyPath ?? Store.defaultAuditKeyPath(for: databasePath),
                                       force: force, now: Date(), actor: actor)
        } catch {
            throw ServiceError(error)
        }
    }
}

extension SchoolHealthServices {
    public var backups: BackupService { BackupService(services: self) }
}
