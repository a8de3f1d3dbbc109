import Logging
import HealthCore
import Foundation
import HealthAnalytics
import HealthRisk
import HealthServices
import HealthStore
import Hummingbird
import HTTPTypes
import NIOCore

extension Pages {
    /// The filters of the dashboard and the downloads, from the query.
    func trendRequest(_ request: Request, _ context: WebContext, actor: Actor) throws -> TrendRequest {
        let q = request.uri.queryParameters
        func year(_ name: String) throws -> Int? {
            guard let v = q[Substring(name)].map(String.init), !v.isEmpty else { return nil }
            guard let y = Int(v), (1990...2099).contains(y) else { throw WebError.badRequest("\(name)=\(v)") }
            return y
        }
        let by = q["by"].map(String.init) ?? ""
        guard by.isEmpty || Breakdown(rawValue: by) != nil else { throw WebError.badRequest("by=\(by)") }
        let schools: [String] = q.getAll("school").map { String($0) }.filter { !$0.isEmpty }
        return TrendRequest(from: try year("from"), to: try year("to"), schools: schools, breakdown: Breakdown(rawValue: by) ?? .none,
                            actor: actor, purpose: "web \(request.uri.description)", language: context.language)
    }

    func dashboard(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try app.requireSession(context)
        guard Access.canReadReports(session.actor) else { throw ServiceError(.forbidden, key: "error.forbidden") }
        let t: @Sendable (String, [String: String]) -> String = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let trend = try trendRequest(request, context, actor: session.actor)
        let result = await Result(catching: { () async throws(ServiceError) -> TrendReport in try await app.services.reports.trends(trend) })
        if case .failure(let e) = result, e.code == .notFound {
            return page(context, title: t("dashboard.title", [:]), "<p>\(t("dashboard.noData", [:]))</p>")
        }
        let report = try result.get()
        // The schools as the report read them (in the same read as its stamp), by code.
        let schoolList = report.schoolNames.sorted { $0.key < $1.key }.map { (code: $0.key, name: $0.value) }
        let zh = context.language == .zh
        let years = report.years
        let last = years.last ?? 0
        let measures = Measure.all.filter { m in report.cells.contains { $0.measure == m.id } }
        let areas = report.areas
        @Sendable func label(_ area: String) -> String { area == countyArea ? t("county", [:]) : (report.schoolNames[area].map { "\(area) \($0)" } ?? area) }
        @Sendable func pct(_ v: Double?) -> String { v.map { String(format: "%.1f %%", $0 * 100) } ?? "—" }
        let targets: [HTML] = report.targets.filter { $0.year == last }.map { r in
            let status: HTML
            switch r.status {
            case .met: status = "<span class=\"met\">\(t("dashboard.met", [:]))</span>"
            case .notMet: status = "<span class=\"notmet\">\(t("dashboard.notMet", [:]))</span>"
            case .notMeasurable: status = "<span class=\"muted\">\(t("dashboard.unknown", [:]))</span>"
            }
            return "<tr><td>\(r.target)</td><td>\(label(r.area))</td><td class=\"num\">\(String(r.year))</td><td>\(status)</td><td class=\"muted\">\(report.targetSources[r.target] ?? "")</td></tr>"
        }
        var counts: HTML = .empty
        if session.actor.role == .healthOffice || session.actor.role == .centre {
            let c = try await app.services.referrals.counts(actor: session.actor)
            let tiers: [HTML] = Tier.allCases.map { tier in "<tr><td><span class=\"tier-\(tier.rawValue)\">\(t("tier." + tier.rawValue, [:]))</span></td><td class=\"num\">\(c.open[tier.rawValue] ?? 0)</td></tr>" }
            counts = "<h2>\(t("dashboard.queueCounts", [:]))</h2><table id=\"case-counts\"><tbody>\(tiers)</tbody></table>"
        }
        // The filters.
        let available = years
        let chosenSchools = Set(trend.schools)
        let schoolOptions: [HTML] = schoolList.map { s in "<option value=\"\(s.code)\"\(chosenSchools.contains(s.code) ? " selected" : "")>\(s.code) \(s.name)</option>" }
        let breakdowns: [HTML] = ["", "grade", "sex", "grade,sex"].map { b in
            "<option value=\"\(b)\"\(trend.breakdown.rawValue == b || (b.isEmpty && trend.breakdown == .none) ? " selected" : "")>\(t("dashboard.breakdown." + (b.isEmpty ? "none" : b), [:]))</option>"
        }
        // The part of the page that is the report (charts, ranking, tables: most of the page's time) is kept with
        // the built report, by language: a view asked again is not drawn again while the database is unchanged.
        let language = context.language
        let fragment = try await app.services.reports.encoded(trend, format: "dashboard-html-\(language.rawValue)") { report in
            var tables: [HTML] = []
            for m in measures {
                var rows: [HTML] = []
                for area in areas {
                    for cell in report.cells where cell.measure == m.id && cell.area == area && cell.year == last {
                        let group = [cell.grade.map { zh ? "\($0) 年级代码" : "grade \($0)" }, cell.sex.map { $0 == 1 ? (zh ? "男" : "boys") : (zh ? "女" : "girls") }]
                            .compactMap { $0 }.joined(separator: " ")
                        let change = report.changes.first { $0.measure == m.id && $0.area == area && $0.toYear == last && cell.grade == nil && cell.sex == nil }
                        rows.append("""
                            <tr><td>\(label(area))\(group.isEmpty ? .empty : " · \(group)" as HTML)</td>
                            <td class="num">\(cell.suppressed ? "*" : pct(cell.rate))</td>
                            <td class="num">\(cell.lower != nil && !cell.suppressed ? "\(pct(cell.lower)) – \(pct(cell.upper))" : "—")</td>
                            <td class="num">\(cell.numerator.map(String.init) ?? "*")</td><td class="num">\(cell.denominator.map(String.init) ?? "*")</td>
                            <td class="num">\(change?.differencePP.map { String(format: "%+.1f", $0) } ?? "—")</td></tr>
                            """)
                    }
                }
                tables.append("""
                    <h2>\(zh ? m.chinese : m.label) · \(String(last))</h2>
                    <table class="rates"><thead><tr><th>\(t("col.area", [:]))</th><th>\(t("col.rate", [:]))</th><th>\(t("col.interval", [:]))</th>
                    <th>\(t("col.numerator", [:]))</th><th>\(t("col.denominator", [:]))</th><th>\(t("col.change", [:]))</th></tr></thead><tbody>\(rows)</tbody></table>
                    """)
            }
            // The HTML report's charts (inline SVG, no script): the county and at most the first 12 areas chosen.
            let words = app.services.reports.words(context.language)
            let charts: [HTML] = areas.prefix(13).map { area in
                "<div class=\"card chart\"><h3>\(label(area))</h3>\(HTML(raw: report.trendChartSVG(area: area, words: words)))</div>"
            }
            let page: HTML = "<div class=\"charts\">\(charts)</div>\(HTML(raw: report.rankingSVG(words: words)))\(tables)"
            return Data(page.text.utf8)
        }
        let legend: HTML = "<p class=\"hint\">\(t("dashboard.chartLegend", [:]))</p>"
        let query = request.uri.query.map { "?" + $0 } ?? ""
        return page(context, title: t("dashboard.title", [:]), """
            <form class="card filters" method="get" action="/dashboard">
            <div><label for="from">\(t("dashboard.from", [:]))</label><input type="number" id="from" name="from" value="\(String(available.first ?? 0))"></div>
            <div><label for="to">\(t("dashboard.to", [:]))</label><input type="number" id="to" name="to" value="\(String(last))"></div>
            <div><label for="school">\(t("dashboard.schools", [:]))</label><select id="school" name="school" multiple size="4">\(schoolOptions)</select></div>
            <div><label for="by">\(t("dashboard.breakdown", [:]))</label><select id="by" name="by">\(breakdowns)</select></div>
            <div><button class="primary" type="submit">\(t("dashboard.apply", [:]))</button></div>
            </form>
            <p class="hint">\(t("dashboard.suppressed", ["threshold": String(report.suppressionThreshold)]))</p>
            <p><a href="/reports/trends.html\(query)">\(t("dashboard.openReport", [:]))</a> · \(t("dashboard.download", [:])):
            <a href="/reports/trends.csv\(query)">CSV</a> · <a href="/reports/trends.json\(query)">JSON</a> · <a href="/reports/trends.html\(query)">HTML</a></p>
            <div class="card"><h2>\(t("dashboard.targets", [:]))</h2><table id="targets"><tbody>\(targets)</tbody></table></div>
            \(counts)
            <h2>\(t("dashboard.charts", [:]))</h2>\(legend)
            \(HTML(raw: String(decoding: fragment, as: UTF8.self)))
            """)
    }

    func reportDownload(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try app.requireSession(context)
        guard Access.canReadReports(session.actor) else { throw ServiceError(.forbidden, key: "error.forbidden") }
        guard let file = context.parameters.get("file"), file.hasPrefix("trends."),
              let format = ReportFormat(rawValue: String(file.dropFirst("trends.".count))), format != .md else { throw WebError.notFound }
        let report = try await app.services.reports.trends(try trendRequest(request, context, actor: session.actor))
        let (text, type) = try app.services.reports.render(report, format, language: context.language)
        var response = Web.text(text, mediaType: type, filename: format == .html ? nil : "schoolhealth-trends.\(format.rawValue)")
        // The report file is self-contained (it opens offline too): its own inline style, still no script.
        if format == .html { response.headers[.contentSecurityPolicy] = SecurityHeadersMiddleware<WebContext>.policy(inlineStyle: true) }
        return response
    }

    func schools(_ context: WebContext) async throws -> Response {
        _ = try role(context, .admin, .healthOffice)
        let t = { (k: String) in app.t(k, [:], context) }
        let rows: [HTML] = try await app.services.accounts.schools().map { "<tr><td>\($0.code)</td><td>\($0.name)</td><td>\($0.stage?.rawValue ?? "")</td></tr>" }
        return page(context, title: t("schools.title"), """
            <table><thead><tr><th>\(t("schools.code"))</th><th>\(t("schools.name"))</th><th>\(t("schools.stage"))</th></tr></thead><tbody>\(rows)</tbody></table>
            """)
    }
}
