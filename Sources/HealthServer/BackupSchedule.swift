import Foundation
import HealthCore
import HealthRisk
import HealthServices
import HealthStore
import Logging
import ServiceLifecycle
import Synchronization

/// The server's daily backup (`serve --backup-dir`): at `Config/backup.yaml`'s `dailyAt`, county time, a backup
/// is taken, verified and retention applied; what happened last is kept for the administrator's page.
final class BackupSchedule: Service, Sendable {
    let services: SchoolHealthServices
    let directory: String
    /// The last scheduled or requested run: when, and the failure if it failed.
    let last = Mutex<(at: Int, failure: String?)?>(nil)
    let next = Mutex<Int?>(nil)

    init(services: SchoolHealthServices, directory: String) {
        self.services = services
        self.directory = directory
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let settings = try services.backups.settings
            let now = Int(services.now().timeIntervalSince1970)
            guard let due = settings.nextRun(after: now) else { return }
            next.withLock { $0 = due }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(due - now)) }
            } catch { return }
            await take()
        }
    }

    /// Takes a backup now (the schedule, or the administrator's button); never throws: the outcome is kept.
    @discardableResult
    func take(actor: Actor = .system("scheduled backup")) async -> BackupRun? {
        let at = Int(services.now().timeIntervalSince1970)
        do {
            let run = try await services.backups.backup(to: directory, actor: actor)
            services.logger.info("backup", metadata: ["folder": "\(run.folder)", "verified": "\(run.verification.ok)", "removed": "\(run.removed.count)"])
            last.withLock { $0 = (at, run.verification.ok ? nil : run.verification.problems.joined(separator: "; ")) }
            return run
        } catch {
            let e = ServiceError(error)
            services.logger.error("backup failed", metadata: ["detail": "\(e.detail)"])
            last.withLock { $0 = (at, e.detail) }
            return nil
        }
    }
}
