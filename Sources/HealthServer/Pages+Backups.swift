import Foundation
import HealthCore
import HealthServices
import HealthStore
import Hummingbird
import HealthRisk
import Synchronization

extension Pages {
    /// The administrator's backups: the last good one first, then every backup in the folder with what its
    /// verification found, the next scheduled run, and a button to take one now.
    func backupsPage(_ context: WebContext, notice: HTML?) async throws -> Response {
        let session = try role(context, .admin)
        let t = { (k: String) in app.t(k, [:], context) }
        guard let schedule = app.backupSchedule else {
            return page(context, title: t("backups.title"), "<div class=\"card\"><p class=\"error\">\(t("backups.notConfigured"))</p><p><code>schoolhealth serve --backup-dir DIR</code></p></div>")
        }
        let listing = BackupService.list(schedule.directory)
        let settings = try app.services.backups.settings
        let lastGood: HTML
        if let good = listing.first(where: { $0.verified == true }) {
            let age = Int(app.services.now().timeIntervalSince1970) - good.takenAt
            let stale: HTML = age > 2 * 86400 ? "<p class=\"error\">\(app.t("backups.stale", ["days": String(age / 86400)], context))</p>" : .empty
            lastGood = """
                <p class="ok" id="last-good">\(app.t("backups.lastGood", ["time": Pages.time(good.takenAt), "name": good.name], context))</p>
                <p>\(app.t("backups.lastGoodDetail", ["size": String((good.bytes ?? 0) >> 10), "events": String(good.auditEvents ?? 0)], context))</p>\(stale)
                """
        } else {
            lastGood = "<p class=\"error\" id=\"last-good\">\(t("backups.none"))</p>"
        }
        let lastRun: HTML = schedule.last.withLock { $0 }.map { run in
            run.failure.map { "<p class=\"error\">\(app.t("backups.lastFailed", ["time": Pages.time(run.at), "detail": $0], context))</p>" as HTML } ?? .empty
        } ?? .empty
        let rows: [HTML] = listing.map { b in
            let state: HTML = b.verified == true ? "<td class=\"ok\">\(t("backups.state.ok"))</td>"
                : b.verified == false ? "<td class=\"warn\" title=\"\(b.problems.joined(separator: "; "))\">\(t("backups.state.bad"))</td>" : "<td>\(t("backups.state.unknown"))</td>"
            return "<tr><td>\(Pages.time(b.takenAt))</td><td>\(b.name)</td><td>\(b.bytes.map { String($0 >> 10) } ?? "?") KB</td><td>\(b.auditEvents ?? 0)</td>\(state)</tr>"
        }
        return page(context, title: t("backups.title"), """
            \(notice.map { "<p class=\"ok\" role=\"status\">\($0)</p>" as HTML } ?? .empty)
            <div class="card">\(lastGood)\(lastRun)
            <p class="muted">\(app.t("backups.schedule", ["time": settings.dailyAt, "next": Pages.time(schedule.next.withLock { $0 }), "daily": String(settings.keepDaily), "weekly": String(settings.keepWeekly), "dir": schedule.directory], context))</p>
            <form method="post" action="/backups">\(csrfField(session))<button class="primary" type="submit">\(t("backups.takeNow"))</button></form></div>
            <table id="backups"><thead><tr><th>\(t("backups.when"))</th><th>\(t("backups.folder"))</th><th>\(t("backups.size"))</th><th>\(t("backups.events"))</th><th>\(t("backups.state"))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """)
    }

    func takeBackup(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .admin)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        guard let schedule = app.backupSchedule else { return try await backupsPage(context, notice: nil) }
        let run = await schedule.take(actor: session.actor)
        let notice: HTML? = run.map { r in "\(app.t(r.verification.ok ? "backups.taken" : "backups.takenBad", ["name": (r.folder as NSString).lastPathComponent], context))" }
        return try await backupsPage(context, notice: notice)
    }
}
