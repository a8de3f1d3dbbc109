import Logging
import HealthCore
import Foundation
import HealthRisk
import HealthServices
import HealthStore
import Hummingbird
import HTTPTypes

extension Pages {
    func tierBadge(_ tier: Tier, _ context: WebContext) -> HTML {
        "<span class=\"tier-\(tier.rawValue)\">\(app.t("tier." + tier.rawValue, [:], context))</span>"
    }

    func queue(_ context: WebContext) async throws -> Response {
        let session = try role(context, .counsellor, .mentor, .centre, .hospital)
        let t = { (k: String) in app.t(k, [:], context) }
        let items = try await app.services.referrals.queue(actor: session.actor, limit: 100)
        let rows: [HTML] = items.map { i in
            let overdue: HTML = i.overdueSeconds > 0 ? " <span class=\"error\">\(app.t("queue.overdue", ["hours": String(format: "%.1f", Double(i.overdueSeconds) / 3600)], context))</span>" : .empty
            return "<tr><td><a href=\"/cases/\(i.caseId)\">\(i.caseId)</a></td><td>\(tierBadge(i.effectiveTier, context))</td><td>\(t("state." + i.state.rawValue))</td><td>\(Pages.time(i.dueAt))\(overdue)</td><td>\(i.studentId)</td><td>\(i.school)</td></tr>"
        }
        return page(context, title: t("queue.title"), items.isEmpty ? "<p>\(t("queue.empty"))</p>" : """
            <table id="queue"><thead><tr><th>\(t("queue.case"))</th><th>\(t("queue.tier"))</th><th>\(t("queue.state"))</th><th>\(t("queue.due"))</th>
            <th>\(t("queue.student"))</th><th>\(t("queue.school"))</th></tr></thead><tbody>\(rows)</tbody></table>
            """)
    }

    func caseID(_ context: WebContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else { throw WebError.notFound }
        return id
    }

    func casePage(_ context: WebContext, notice: HTML?, error: HTML? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let session = try role(context, .counsellor, .mentor, .centre, .hospital)
        let id = try caseID(context)
        let t = { (k: String) in app.t(k, [:], context) }
        let view = try await app.services.referrals.show(actor: session.actor, caseID: id, purpose: "web case page")
        let flags: [HTML] = view.flags.map { f in
            "<li>\(tierBadge(f.tier, context)) \(f.kind) · \(Pages.time(f.raisedAt))\(f.ruleID.map { " · \($0)" as HTML } ?? .empty)\(f.reason.map { " — \($0)" as HTML } ?? .empty)</li>"
        }
        let history: [HTML] = view.transitions.map { s in
            var extra: HTML = .empty
            if let o = s.emergencyOverride { extra = "\(extra) <strong class=\"error\">[\(o)]</strong>" }
            if let f = s.feedback { extra = "\(extra) — \(t("case.attendance")): \(f.attendance); \(t("case.safety")): \(f.safetyAdvice)\(f.nextVisit.map { "; \(t("case.nextVisit")): \($0)" } ?? "")" }
            return "<tr><td>\(Pages.time(s.at))</td><td>\(t("state." + s.from.rawValue)) → \(t("state." + s.to.rawValue))</td><td>\(t("role." + s.actorRole))\(s.actorUser.map { " \($0)" } ?? "")</td><td>\(s.note ?? "")\(extra)</td></tr>"
        }
        let actions = view.allowedNext.filter { $0.actingRole == session.actor.role }
        var form: HTML = .empty
        if !actions.isEmpty {
            let options: [HTML] = actions.map { "<option value=\"\($0.rawValue)\">\(t("state." + $0.rawValue))</option>" }
            let consents: [HTML] = ["not-asked", "given", "refused"].map { "<option value=\"\($0)\">\(t("consent." + $0))</option>" }
            let hospitalFields: HTML = session.actor.role == .hospital ? """
                <label for="attendance">\(t("case.attendance"))</label><input type="text" id="attendance" name="attendance">
                <label for="safetyAdvice">\(t("case.safety"))</label><input type="text" id="safetyAdvice" name="safetyAdvice">
                <label for="nextVisit">\(t("case.nextVisit"))</label><input type="date" id="nextVisit" name="nextVisit">
                """ : .empty
            let referral: HTML = actions.contains(.referredToHospital) ? """
                <label for="hospital">\(t("case.hospital"))</label><input type="text" id="hospital" name="hospital">
                """ : .empty
            let override: HTML = view.tier == .red && (actions.contains(.referredToCentre) || actions.contains(.referredToHospital)) ? """
                <label for="emergencyOverride">\(t("case.override"))</label><input type="text" id="emergencyOverride" name="emergencyOverride">
                """ : .empty
            form = """
                <div class="card"><h2>\(t("case.next"))</h2>
                <form method="post" action="/cases/\(view.caseId)" id="advance-form">\(csrfField(session))
                <label for="to">\(t("case.next"))</label><select id="to" name="to">\(options)</select>
                <label for="note">\(t("case.note"))</label><textarea id="note" name="note" maxlength="2000"></textarea>
                <label><input type="checkbox" name="guardianInformed" value="yes"> \(t("case.guardianInformed"))</label>
                <label for="consent">\(t("case.consent"))</label><select id="consent" name="consent">\(consents)</select>
                \(referral)\(override)\(hospitalFields)
                <div><button class="primary" type="submit">\(t("case.submit"))</button></div></form></div>
                """
        }
        var audit: HTML = .empty
        if Access.canReadAudit(session.actor) {
            let events = try await app.services.referrals.auditTrail(actor: session.actor, caseID: id)
            let rows: [HTML] = events.suffix(50).map { "<tr><td>\(Pages.time($0.at))</td><td>\($0.actorUser)</td><td>\(t("role." + $0.actorRole))</td><td>\($0.action)</td><td>\($0.detail)</td></tr>" }
            audit = "<div class=\"card\"><h2>\(t("case.audit"))</h2><table id=\"audit\"><tbody>\(rows)</tbody></table></div>"
        }
        return page(context, title: app.t("case.title", ["id": String(view.caseId)], context), """
            \(notice.map { "<p class=\"ok\" role=\"status\">\($0)</p>" as HTML } ?? .empty)
            \(error ?? .empty)
            <div class="card"><dl class="summary">
            <dt>\(t("queue.student"))</dt><dd>\(view.studentId)</dd>
            \(view.school.map { "<dt>\(t("queue.school"))</dt><dd>\($0)</dd>" as HTML } ?? .empty)
            <dt>\(t("queue.tier"))</dt><dd>\(tierBadge(view.effectiveTier, context))</dd>
            <dt>\(t("queue.state"))</dt><dd id="case-state">\(t("state." + view.state.rawValue))</dd>
            <dt>\(t("queue.due"))</dt><dd>\(Pages.time(view.dueAt))</dd></dl></div>
            \(flags.isEmpty ? .empty : "<div class=\"card\"><h2>\(t("case.flags"))</h2><ul>\(flags)</ul></div>" as HTML)
            <div class="card"><h2>\(t("case.history"))</h2><table><tbody>\(history)</tbody></table></div>
            \(form)\(audit)
            """, status: status)
    }

    func advance(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .counsellor, .mentor, .centre, .hospital)
        let id = try caseID(context)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        guard let to = form["to"].flatMap(CaseState.init(rawValue:)), let consent = Consent(rawValue: form["consent"] ?? "not-asked") else {
            throw WebError.badRequest(app.t("case.next", [:], context))
        }
        func field(_ name: String) -> String? { form[name].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } }
        let feedback = field("attendance").map { HospitalFeedback(attendance: $0, safetyAdvice: field("safetyAdvice") ?? "", nextVisit: field("nextVisit")) }
        let request = TransitionRequest(to: to, note: form["note"] ?? "", guardianInformed: form["guardianInformed"] == "yes", consent: consent,
                                        emergencyOverride: form["emergencyOverride"].flatMap { $0.isEmpty ? nil : $0 }, feedback: feedback, hospital: field("hospital"))
        let result = await Result(catching: { () async throws(ServiceError) -> CaseView in
            try await app.services.referrals.advance(actor: session.actor, caseID: id, request: request)
        })
        switch result {
        case .success(let view):
            return try await casePage(context, notice: "\(app.t("case.advanced", ["state": app.t("state." + view.state.rawValue, [:], context)], context))")
        case .failure(let e) where e.code == .conflict || e.code == .invalid:
            // The refusal on the case page, beside the form, with what to change.
            let remedy = remedyText(e.remedy, context)
            return try await casePage(context, notice: nil, error: "<p class=\"error\" role=\"alert\">\(e.message(app.services.messages, context.language))\(remedy.map { " — \($0)" } ?? "")</p>",
                                      status: Web.status(e.code))
        case .failure(let e):
            throw e
        }
    }

    func flagPage(_ context: WebContext, notice: HTML? = nil) throws -> Response {
        let session = try role(context, .counsellor, .mentor)
        let t = { (k: String) in app.t(k, [:], context) }
        let tiers: [HTML] = Tier.allCases.map { "<option value=\"\($0.rawValue)\">\(t("tier." + $0.rawValue))</option>" }
        let kinds: [HTML] = ["observation", "disclosure", "incident"].map { "<option value=\"\($0)\">\(t("flag.kind." + $0))</option>" }
        return page(context, title: t("flag.title"), """
            \(notice ?? .empty)
            <div class="card"><form method="post" action="/flag">\(csrfField(session))
            <label for="student">\(t("flag.student"))</label><input type="text" id="student" name="student" required>
            <label for="className">\(t("flag.class"))</label><input type="text" id="className" name="className">
            <label for="tier">\(t("flag.tier"))</label><select id="tier" name="tier">\(tiers)</select>
            <label for="kind">\(t("flag.kind"))</label><select id="kind" name="kind">\(kinds)</select>
            <label for="reason">\(t("flag.reason"))</label><textarea id="reason" name="reason" maxlength="500" required></textarea>
            <div><button class="primary" type="submit">\(t("flag.submit"))</button></div></form></div>
            """)
    }

    func raiseFlag(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .counsellor, .mentor)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        guard let tier = form["tier"].flatMap(Tier.init(rawValue:)), let student = form["student"], !student.isEmpty else {
            throw WebError.badRequest(app.t("flag.student", [:], context))
        }
        let id = try await app.services.referrals.raiseFlag(actor: session.actor, student: student, className: form["className"].flatMap { $0.isEmpty ? nil : $0 },
                                                             tier: tier, kind: form["kind"] ?? "observation", reason: form["reason"] ?? "")
        return Web.redirect("/cases/\(id)")
    }
}
