import Foundation
import HealthAnalytics
import HealthCore
import HealthIngest
import HealthRisk
import HTTPTypes
import HealthServices
import HealthStore
import Hummingbird
import NIOCore

/// The nurse's screening loop: coverage of the school's list, notices to parents, the clinics' results.
extension Pages {
    /// The school year asked for (`?year=`), else the current one (September starts it).
    func schoolYear(_ request: Request) throws -> Int {
        if let y = request.uri.queryParameters.get("year"), !y.isEmpty {
            guard let year = Int(y), (1990...2099).contains(year) else { throw WebError.badRequest("year") }
            return year
        }
        let today = CivilDate.today
        return today.schoolYear(startMonth: 9)
    }

    func yearPicker(_ path: String, _ year: Int, _ context: WebContext) -> HTML {
        let t = { (k: String) in app.t(k, [:], context) }
        return """
            <form method="get" action="\(path)" class="inline"><label for="year">\(t("upload.schoolYear"))</label>
            <input type="number" id="year" name="year" min="1990" max="2099" value="\(String(year))"><button type="submit">\(t("loop.show"))</button></form>
            """
    }

    func coveragePage(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let year = try schoolYear(request)
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let c = try await app.services.followUp.coverage(schoolYear: year, actor: session.actor)
        // One row per class of the list, a column pair per kind screened (listed is the same for every kind).
        let kinds = ScreeningLoop.kinds.filter { k in c.rows.contains { $0.kind == k } }
        var classes: [(key: String, label: String, listed: Int)] = []
        var cell: [String: CoverageRow] = [:]
        for r in c.rows {
            let key = r.classKey
            if !classes.contains(where: { $0.key == key }) { classes.append((key, r.classLabel, r.enrolled)) }
            cell[r.kind + "#" + key] = r
        }
        let rows: [HTML] = classes.map { cl in
            let cells: [HTML] = kinds.map { k in
                let r = cell[k + "#" + cl.key]
                return "<td class=\"num\">\(r?.screened ?? 0)</td><td class=\"num\(r?.notScreened ?? 0 > 0 ? " warn" : "")\">\(r?.notScreened ?? 0)</td>"
            }
            return "<tr><td>\(cl.label)</td><td class=\"num\">\(cl.listed)</td>\(cells)</tr>"
        }
        let totals: [HTML] = kinds.map { k in
            let total = c.total(k)
            return "<td class=\"num\">\(total.screened)</td><td class=\"num\">\(total.enrolled - total.screened)</td>"
        }
        let kindHeads: [HTML] = kinds.map { "<th colspan=\"2\">\(t("coverage.kind." + $0, [:]))</th>" }
        let subHeads: [HTML] = kinds.map { _ in "<th>\(t("coverage.screened", [:]))</th><th>\(t("coverage.notScreened", [:]))</th>" }
        let lists: [HTML] = kinds.compactMap { kind in
            guard let list = c.unscreened[kind], !list.isEmpty else { return nil }
            var byClass: [(String, [String])] = []
            for e in list {
                let label = ClassLabel.text(grade: e.grade, classCode: e.classCode, className: e.className)
                if let i = byClass.firstIndex(where: { $0.0 == label }) { byClass[i].1.append(e.studentID) } else { byClass.append((label, [e.studentID])) }
            }
            let items: [HTML] = byClass.map { "<li><strong>\($0.0)</strong>：\($0.1.joined(separator: "、"))</li>" }
            return "<details class=\"unscreened\" data-kind=\"\(kind)\"><summary>\(t("coverage.unscreened", ["kind": t("coverage.kind." + kind, [:]), "count": String(list.count)]))</summary><ul>\(items)</ul></details>"
        }
        let unmatched: [HTML] = c.unmatched.map { u in
            "<tr><td>\(t("coverage.kind." + u.kind, [:]))</td><td>\(u.classLabel)</td><td>\(u.studentID)</td><td>\(u.date)</td><td class=\"suggest\">\(u.suggestions.joined(separator: "、"))</td></tr>"
        }
        let body: HTML = c.rows.isEmpty ? "<p>\(t("coverage.none", [:]))</p>" : """
            <table id="coverage"><thead><tr><th rowspan="2">\(t("coverage.class", [:]))</th><th rowspan="2">\(t("coverage.listed", [:]))</th>\(kindHeads)</tr><tr>\(subHeads)</tr></thead>
            <tbody>\(rows)</tbody>
            <tfoot><tr><th>\(t("coverage.total", [:]))</th><th class="num">\(c.rows.filter { $0.kind == kinds.first }.reduce(0) { $0 + $1.enrolled })</th>\(totals)</tr></tfoot></table>
            \(lists)
            \(unmatched.isEmpty ? .empty : """
            <h2>\(t("coverage.unmatched", [:]))</h2><p class="hint">\(t("coverage.unmatchedHint", [:]))</p>
            <table id="unmatched"><thead><tr><th>\(t("coverage.kind", [:]))</th><th>\(t("coverage.class", [:]))</th><th>\(t("coverage.id", [:]))</th><th>\(t("coverage.date", [:]))</th><th>\(t("coverage.nearest", [:]))</th></tr></thead><tbody>\(unmatched)</tbody></table>
            """ as HTML)
            """
        return page(context, title: t("coverage.title", [:]), "\(yearPicker("/coverage", year, context))<div class=\"card\">\(body)</div>")
    }

    func noticesPage(_ request: Request, _ context: WebContext, message: String? = nil) async throws -> Response {
        let session = try role(context, .nurse)
        let year = try schoolYear(request)
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let board = try await app.services.followUp.board(schoolYear: year, actor: session.actor)
        let open = try await app.services.followUp.openNotices(actor: session.actor)
        let rows: [HTML] = board.map { c in
            let key = c.classKey.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics) ?? ""
            let issue: HTML = c.positive > c.issued ? """
                <form method="post" action="/notices/issue" class="inline">\(csrfField(session))<input type="hidden" name="year" value="\(String(year))"><input type="hidden" name="class" value="\(c.classKey)"><button type="submit">\(t("notices.issue", ["count": String(c.positive - c.issued)]))</button></form>
                """ : .empty
            let links: HTML = c.issued > 0 || c.reissues > 0 ? """
                <a href="/notices/print?year=\(String(year))&amp;class=\(key)" target="_blank">\(t("notices.print", [:]))</a> · <a href="/notices/class?year=\(String(year))&amp;class=\(key)">\(t("notices.details", [:]))</a>
                """ : .empty
            return "<tr><td>\(c.classLabel)</td><td class=\"num\">\(c.positive)</td><td class=\"num\">\(c.issued)</td><td class=\"num\">\(c.returned)</td><td class=\"num\">\(c.awaiting)</td><td class=\"num\">\(c.reissues)</td><td>\(issue) \(links)</td></tr>"
        }
        let overdue: [HTML] = open.map { n in
            "<tr><td class=\"num\">\(n.id)</td><td>\(Pages.time(n.issuedAt))</td><td>\(n.findings.classLabel)</td><td>\(n.findings.studentID)</td><td>\(n.findingIDs.map { t("finding." + $0, [:]) }.joined(separator: "、"))</td></tr>"
        }
        return page(context, title: t("notices.title", [:]), """
            \(message.map { "<p class=\"ok\" id=\"notices-message\">\($0)</p>" as HTML } ?? .empty)
            \(yearPicker("/notices", year, context))
            <div class="card"><p class="hint">\(t("notices.hint", [:]))</p>
            \(board.isEmpty ? "<p>\(t("notices.none", [:]))</p>" as HTML : """
            <table id="notice-board"><thead><tr><th>\(t("coverage.class", [:]))</th><th>\(t("notices.positive", [:]))</th><th>\(t("notices.issued", [:]))</th><th>\(t("notices.returned", [:]))</th><th>\(t("notices.awaiting", [:]))</th><th>\(t("notices.reissues", [:]))</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """ as HTML)</div>
            <div class="card"><h2>\(t("notices.open", ["days": String(app.services.config.followUp.openNoticeDays)]))</h2>
            \(overdue.isEmpty ? "<p>\(t("notices.noneOpen", [:]))</p>" as HTML : "<table id=\"open-notices\"><thead><tr><th>#</th><th>\(t("notices.issuedAt", [:]))</th><th>\(t("coverage.class", [:]))</th><th>\(t("coverage.id", [:]))</th><th>\(t("notices.findings", [:]))</th></tr></thead><tbody>\(overdue)</tbody></table>" as HTML)
            </div>
            """)
    }

    /// "12 notices issued; 3 already had one" after the issue button (from the redirect's query).
    func issuedMessage(_ request: Request, _ context: WebContext) -> String? {
        guard let issued = request.uri.queryParameters.get("issued").flatMap({ Int($0) }) else { return nil }
        let already = request.uri.queryParameters.get("already").flatMap { Int($0) } ?? 0
        return app.t("notices.issuedMessage", ["issued": String(issued), "already": String(already)], context)
    }

    func issueNotices(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        guard let y = form["year"], let year = Int(y), (1990...2099).contains(year) else { throw WebError.badRequest("year") }
        let classKey = form["class"].flatMap { $0.isEmpty ? nil : $0 }
        let r = try await app.services.followUp.issueNotices(schoolYear: year, classKey: classKey, actor: session.actor)
        return Web.redirect("/notices?year=\(year)&issued=\(r.issued.count)&already=\(r.already)")
    }

    /// One class's notices: each with its result (or a form to record it) and a re-issue button.
    func noticeClass(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let year = try schoolYear(request)
        guard let classKey = request.uri.queryParameters.get("class").map { String($0) }, !classKey.isEmpty else { throw WebError.badRequest("class") }
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let notices = try await app.services.followUp.notices(schoolYear: year, classKey: classKey, actor: session.actor)
        let back = "/notices/class?year=\(year)&class=\(classKey.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics) ?? "")"
        let rows: [HTML] = notices.map { n in
            let result: HTML
            if n.reissueOf != nil {
                result = "<span class=\"muted\">\(t("notices.reissueOf", ["id": String(n.reissueOf!), "reason": n.reissueReason ?? ""]))</span>"
            } else if let r = n.result {
                let values = [r.seRightMdpt.map { String(format: "R %+.2f D", Double($0) / 1000) }, r.seLeftMdpt.map { String(format: "L %+.2f D", Double($0) / 1000) },
                              r.cobbX10.map { String(format: "Cobb %.1f°", Double($0) / 10) }]
                    .compactMap { $0 }.joined(separator: " ")
                result = "<span class=\"ok\">\(t("outcome." + r.outcome.rawValue, [:]))</span> \(r.resultDate) · \(r.provider) \(values)"
            } else if n.expectsResult {
                let outcomes: [HTML] = (n.findings.kind == "vision" ? ["myopia", "not_myopic"] : ["scoliosis", "postural", "normal"]).map {
                    "<option value=\"\($0)\">\(t("outcome." + $0, [:]))</option>"
                }
                let values: HTML = n.findings.kind == "vision"
                    ? "<input name=\"seRight\" size=\"5\" placeholder=\"\(t("results.seRight", [:]))\" aria-label=\"\(t("results.seRight", [:]))\"><input name=\"seLeft\" size=\"5\" placeholder=\"\(t("results.seLeft", [:]))\" aria-label=\"\(t("results.seLeft", [:]))\">"
                    : "<input name=\"cobb\" size=\"5\" placeholder=\"Cobb°\" aria-label=\"Cobb\">"
                result = """
                    <form method="post" action="/notices/\(String(n.id))/result" class="inline result-form">\(csrfField(session))<input type="hidden" name="back" value="\(back)">
                    <input type="date" name="date" required class="short" aria-label="\(t("results.date", [:]))"><input name="provider" required size="10" placeholder="\(t("results.provider", [:]))" aria-label="\(t("results.provider", [:]))">
                    <select name="outcome" aria-label="\(t("results.outcome", [:]))">\(outcomes)</select>\(values)<button type="submit">\(t("results.save", [:]))</button></form>
                    """
            } else {
                result = "<span class=\"muted\">\(t("notices.noResultAsked", [:]))</span>"
            }
            let reissue: HTML = n.reissueOf == nil ? """
                <form method="post" action="/notices/\(String(n.id))/reissue" class="inline">\(csrfField(session))<input type="hidden" name="back" value="\(back)"><input name="reason" required size="6" class="short" placeholder="\(t("notices.reason", [:]))" aria-label="\(t("notices.reason", [:]))"><button type="submit">\(t("notices.reissue", [:]))</button></form>
                """ : .empty
            return "<tr data-notice=\"\(String(n.id))\"><td class=\"num\">\(n.id)</td><td>\(n.findings.studentID)</td><td class=\"nowrap\">\(t("coverage.kind." + n.findings.kind, [:]))</td><td>\(n.findingIDs.map { t("finding." + $0, [:]) }.joined(separator: "、"))</td><td class=\"nowrap\">\(Pages.time(n.issuedAt))<br><span class=\"muted\">\(n.issuedBy)</span></td><td>\(result)</td><td>\(reissue)</td></tr>"
        }
        let error = request.uri.queryParameters.get("error").map { "<p class=\"error\" id=\"result-error\">\(String($0))</p>" as HTML } ?? .empty
        return page(context, title: t("notices.classTitle", ["class": notices.first?.findings.classLabel ?? classKey]), """
            \(error)<div class="card"><table id="class-notices"><thead><tr><th>#</th><th>\(t("coverage.id", [:]))</th><th>\(t("coverage.kind", [:]))</th><th>\(t("notices.findings", [:]))</th><th>\(t("notices.issuedAt", [:]))</th><th>\(t("results.title", [:]))</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            <p><a href="/notices?year=\(String(year))">\(t("notices.title", [:]))</a></p>
            """)
    }

    func printNotices(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let year = try schoolYear(request)
        guard let classKey = request.uri.queryParameters.get("class").map { String($0) }, !classKey.isEmpty else { throw WebError.badRequest("class") }
        let html = try await app.services.followUp.printNotices(schoolYear: year, classKey: classKey, actor: session.actor)
        var response = Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        response.headers[HTTPField.Name.contentSecurityPolicy] = SecurityHeadersMiddleware<WebContext>.policy(inlineStyle: true)
        return response
    }

    func reissueNotice(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw WebError.notFound }
        _ = try await app.services.followUp.reissue(id, reason: form["reason"] ?? "", actor: session.actor)
        return Web.redirect(Self.localPath(form["back"]) ?? "/notices")
    }

    func recordResult(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw WebError.notFound }
        let back = Self.localPath(form["back"]) ?? "/notices"
        do {
            _ = try await app.services.followUp.recordResult(noticeID: id, date: form["date"] ?? "", provider: form["provider"] ?? "", outcome: form["outcome"] ?? "",
                                                             seRight: form["seRight"], seLeft: form["seLeft"], cobb: form["cobb"], actor: session.actor)
        } catch {
            guard error.code == .invalid else { throw error }
            let text = error.message(app.services.messages, context.language)
            return Web.redirect(back + "&error=" + (text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics) ?? ""))
        }
        return Web.redirect(back)
    }

    /// A redirect target from a form: a path of this site only.
    static func localPath(_ s: String?) -> String? {
        guard let s, s.hasPrefix("/"), !s.hasPrefix("//"), !s.contains("\\") else { return nil }
        return s
    }
}
