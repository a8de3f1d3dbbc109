import Foundation
public import HealthCore

/// How a rendered report says its words: the text in the code is English (`ReasonText`, so its values stay apart),
/// and a catalogue may say it in another language (the service layer passes `MessageCatalogue`'s).
///
///     let words = ReportWords(language: "zh-CN") { catalogue.reason($0, in: .zh) }
///     report.render(.html, words: words)
public struct ReportWords: Sendable {
    /// The HTML `lang` of the page.
    public var language: String
    let say: @Sendable (ReasonText) -> String

    public init(language: String, say: @escaping @Sendable (ReasonText) -> String) {
        self.language = language
        self.say = say
    }

    public static let english = ReportWords(language: "en") { $0.text }

    func callAsFunction(_ text: ReasonText) -> String { say(text) }

    /// A measure's name: the Chinese one on a Chinese page, else the English one.
    func name(_ measure: Measure) -> String { language.hasPrefix("zh") ? measure.chinese : measure.label }
    func name(_ id: String) -> String { Measure.named(id).map(name) ?? id }
}

/// The self-contained HTML report: no external files, scripts or fonts; charts are inline SVG.
extension TrendReport {
    static func escape(_ s: String) -> String { HTMLText.escape(s) }

    func html(_ w: ReportWords) -> String {
        let yearList = years.map(String.init).joined(separator: ", ")
        var body = "<h1>\(Self.escape(title))</h1>\n<p class=\"meta\">\(Self.escape(w("School years \(yearList) · generated \(generated) · \(areas.count - 1) schools")))</p>\n"
        body += "<p class=\"\(suppressionOn ? "notice" : "danger")\">\(Self.escape(w(explainedNotice)))</p>\n"
        body += countySummary(w)
        body += ranking(w)
        body += "<h2>\(w("Schools"))</h2>\n<div class=\"grid\">\n"
        for area in areas { body += areaCard(area, w) }
        body += "</div>\n"
        body += tables(w)
        let versions = ruleVersions.keys.sorted().map { "\($0) \(ruleVersions[$0]!)" }.joined(separator: ", ")
        return """
            <!DOCTYPE html>
            <html lang="\(w.language)"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body{font-family:system-ui,-apple-system,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222;max-width:1200px}
            h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
            h3{font-size:15px;margin:4px 0} .meta{color:#666;margin:0 0 12px}
            .notice{background:#f3f6fa;border-left:4px solid #4a78b5;padding:8px 12px;font-size:13px}
            .danger{background:#fdecea;border-left:4px solid #c0392b;padding:8px 12px;font-weight:bold}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px}
            .card{border:1px solid #ddd;border-radius:6px;padding:10px;break-inside:avoid}
            table{border-collapse:collapse;font-size:12px;margin:6px 0 14px} td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
            th:first-child,td:first-child{text-align:left} th{background:#f5f5f5}
            .met{color:#1e7b34;font-weight:bold} .notmet{color:#b03a2e;font-weight:bold} .na{color:#888}
            .kpi{display:flex;gap:12px;flex-wrap:wrap} .kpi div{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
            .kpi b{display:block;font-size:20px} small{color:#666}
            @media print{body{margin:0;max-width:none}.grid{grid-template-columns:1fr 1fr}h2{break-after:avoid}.card,table{break-inside:avoid}}
            </style></head><body>
            \(body)
            <p class="meta">\(Self.escape(w("Rule versions: \(versions)")))</p>
            </body></html>

            """
    }

    func countySummary(_ w: ReportWords) -> String {
        guard let last = years.last else { return "" }
        var out = "<h2>\(Self.escape(w("County summary, \(last)")))</h2>\n<div class=\"kpi\">\n"
        for id in ["myopia", "poor_vision", "spine_abnormal", "fitness_excellent_good", "overweight", "obesity"] {
            guard let c = total(id, countyArea, last), let m = Measure.named(id) else { continue }
            out += "<div><small>\(Self.escape(w.name(m)))</small><b>\(c.suppressed ? "—" : Self.pct(c.rate) + " %")</b><small>\(Self.escape(c.suppressed ? w("suppressed") : "\(Self.pct(c.lower))–\(Self.pct(c.upper)) %, n = \(c.denominator ?? 0)"))</small></div>\n"
        }
        let heads = ["target", "area", "year", "status", "value", "gap"].map { "<th>\(Self.escape(w(ReasonText(value: $0))))</th>" }.joined()
        out += "</div>\n<h3>\(w("Targets"))</h3>\n<table><tr>\(heads)</tr>\n"
        for t in targets where t.area == countyArea || t.year == last {
            let css = t.status == .met ? "met" : (t.status == .notMet ? "notmet" : "na")
            let isChange = t.target.contains("down")
            out += "<tr><td>\(Self.escape(t.target))</td><td>\(Self.escape(areaLabel(t.area)))</td><td>\(t.year)</td><td class=\"\(css)\">\(Self.escape(w(ReasonText(value: t.status.rawValue))))</td>"
                + "<td>\(t.value.map { isChange ? Self.num($0) + " pp" : Self.pct($0) + " %" } ?? "")</td><td>\(t.gap.map { isChange ? Self.num($0) + " pp" : Self.pct($0) + " pp" } ?? "")</td></tr>\n"
        }
        return out + "</table>\n<p class=\"meta\">" + targetSources.keys.sorted().map { Self.escape("\($0): \(targetSources[$0]!)") }.joined(separator: "<br>") + "</p>\n"
    }

    /// Schools ranked by their standardised myopia rate in the last year, with intervals.
    func ranking(_ w: ReportWords) -> String {
        guard let last = years.last else { return "" }
        let rows = standardised.filter { $0.measure == "myopia" && $0.year == last && $0.area != countyArea && !$0.suppressed && $0.rate != nil }
            .sorted { $0.rate! < $1.rate! }
        guard !rows.isEmpty else { return "" }
        let width = 640.0, rowHeight = 22.0, left = 90.0, right = 20.0
        let height = Double(rows.count) * rowHeight + 30
        let maxValue = min(1, (rows.compactMap(\.upper).max() ?? 1) * 1.1)
        func x(_ v: Double) -> Double { left + (width - left - right) * v / maxValue }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"ranking\">\n"
        for tick in stride(from: 0.0, through: maxValue, by: maxValue > 0.5 ? 0.2 : 0.1) {
            svg += "<line x1=\"\(x(tick))\" y1=\"0\" x2=\"\(x(tick))\" y2=\"\(height - 20)\" stroke=\"#eee\"/><text x=\"\(x(tick))\" y=\"\(height - 5)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#666\">\(Int((tick * 100).rounded())) %</text>\n"
        }
        for (i, r) in rows.enumerated() {
            let y = Double(i) * rowHeight + 14
            svg += "<text x=\"4\" y=\"\(y + 4)\" font-size=\"11\">\(Self.escape(areaLabel(r.area)))</text>"
            svg += "<line x1=\"\(x(r.lower ?? 0))\" y1=\"\(y)\" x2=\"\(x(r.upper ?? 0))\" y2=\"\(y)\" stroke=\"#4a78b5\" stroke-width=\"2\"/>"
            svg += "<circle cx=\"\(x(r.rate!))\" cy=\"\(y)\" r=\"4\" fill=\"#1f4e8c\"><title>\(Self.escape(r.area)): \(Self.pct(r.rate)) % (\(Self.pct(r.lower))–\(Self.pct(r.upper)))</title></circle>\n"
        }
        svg += "</svg>"
        let reference = referenceYear.map(String.init) ?? ""
        return "<h2>\(Self.escape(w("Schools ranked by standardised myopia rate, \(last)")))</h2>\n<p class=\"meta\">"
            + Self.escape(w("Directly standardised by grade × sex to the county \(reference) (within the grades each school has), 95 % Fay–Feuer intervals."))
            + "</p>\n\(svg)\n"
    }

    /// A school's (or the county's) trend chart: rate lines with interval bands, and the target line.
    func areaCard(_ area: Area, _ w: ReportWords) -> String {
        var out = "<div class=\"card\"><h3>\(Self.escape(areaLabel(area)))</h3>\n"
        out += trendChartSVG(area: area, words: w)
        var lines: [String] = []
        for (id, _) in [("myopia", ""), ("fitness_excellent_good", "")] {
            if let t = targets.last(where: { $0.area == area && targetSources[$0.target] != nil && (id == "myopia" ? $0.target.contains("myopia") : $0.target.contains("fitness")) }) {
                let css = t.status == .met ? "met" : (t.status == .notMet ? "notmet" : "na")
                lines.append("\(Self.escape(t.target)) \(t.year): <span class=\"\(css)\">\(Self.escape(w(ReasonText(value: t.status.rawValue))))</span>")
            }
        }
        if let s = standardised.last(where: { $0.area == area && $0.measure == "myopia" && !$0.suppressed }), let rate = s.rate {
            lines.append(Self.escape(w("standardised myopia \(s.year): \(Self.pct(rate)) % (\(Self.pct(s.lower))–\(Self.pct(s.upper)))")))
        }
        out += "<p class=\"meta\">" + lines.joined(separator: "<br>") + "</p></div>\n"
        return out
    }

    /// The report's trend chart of one area (myopia, poor vision, 优良率 with interval bands and targets), as inline SVG
    /// that needs no script: the web dashboard shows the same charts as the HTML report.
    public func trendChartSVG(area: Area, words: ReportWords = .english) -> String {
        chart(area: area, measures: [("myopia", "#c0392b"), ("poor_vision", "#e67e22"), ("fitness_excellent_good", "#1e7b34")], words)
    }

    /// The schools ranked by standardised myopia rate in the last year (inline SVG with its heading), or "" without data.
    public func rankingSVG(words: ReportWords = .english) -> String { ranking(words) }

    func chart(area: Area, measures: [(String, String)], _ w: ReportWords) -> String {
        let width = 340.0, height = 170.0, left = 34.0, right = 18.0, top = 14.0, bottom = 22.0
        guard years.count >= 1 else { return "" }
        func x(_ i: Int) -> Double { years.count == 1 ? (left + width - right) / 2 : left + (width - left - right) * Double(i) / Double(years.count - 1) }
        func y(_ v: Double) -> Double { top + (height - top - bottom) * (1 - v) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"trend\">\n"
        for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            svg += "<line x1=\"\(left)\" y1=\"\(y(tick))\" x2=\"\(width - right)\" y2=\"\(y(tick))\" stroke=\"#eee\"/><text x=\"\(left - 4)\" y=\"\(y(tick) + 3)\" font-size=\"9\" text-anchor=\"end\" fill=\"#666\">\(Int(tick * 100))%</text>\n"
        }
        for (i, year) in years.enumerated() {
            svg += "<text x=\"\(x(i))\" y=\"\(height - 6)\" font-size=\"9\" text-anchor=\"middle\" fill=\"#666\">\(year)</text>\n"
        }
        // The 优良率 target line.
        if let level = targets.first(where: { $0.target.contains("fitness") }).flatMap({ _ in 0.70 }) {
            svg += "<line x1=\"\(left)\" y1=\"\(y(level))\" x2=\"\(width - right)\" y2=\"\(y(level))\" stroke=\"#1e7b34\" stroke-dasharray=\"4 3\"/><text x=\"\(width - right)\" y=\"\(y(level) - 3)\" font-size=\"9\" text-anchor=\"end\" fill=\"#1e7b34\">\(Self.escape(w("优良率 target 70%")))</text>\n"
        }
        for (measure, colour) in measures {
            let points = years.enumerated().compactMap { i, year -> (Int, RateCell)? in
                guard let c = total(measure, area, year), !c.suppressed, c.rate != nil else { return nil }
                return (i, c)
            }
            guard !points.isEmpty else { continue }
            if points.count > 1 {
                let upper = points.map { "\(x($0.0)),\(y($0.1.upper ?? 0))" }
                let lower = points.reversed().map { "\(x($0.0)),\(y($0.1.lower ?? 0))" }
                svg += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.15\"/>\n"
                svg += "<polyline points=\"\(points.map { "\(x($0.0)),\(y($0.1.rate!))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            }
            for (i, c) in points {
                svg += "<circle cx=\"\(x(i))\" cy=\"\(y(c.rate!))\" r=\"2.5\" fill=\"\(colour)\"><title>\(Self.escape(w.name(measure))) \(years[i]): \(Self.escape(describe(c, w)))</title></circle>\n"
            }
            // The myopia target: last year's rate minus 1 pp, drawn at each following year.
            if measure == "myopia" {
                for (i, c) in points where i + 1 < years.count {
                    let goal = (c.rate ?? 0) - 0.01
                    svg += "<line x1=\"\(x(i + 1) - 8)\" y1=\"\(y(goal))\" x2=\"\(x(i + 1) + 8)\" y2=\"\(y(goal))\" stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-dasharray=\"2 2\"><title>\(Self.escape(w("target: \(Self.pct(goal)) %")))</title></line>\n"
                }
            }
        }
        let legend = measures.enumerated().map { i, m in
            "<rect x=\"\(left + Double(i) * 100)\" y=\"0\" width=\"8\" height=\"8\" fill=\"\(m.1)\"/><text x=\"\(left + Double(i) * 100 + 11)\" y=\"8\" font-size=\"9\">\(Self.escape(w.name(m.0)))</text>"
        }.joined()
        return svg + legend + "</svg>\n"
    }

    func tables(_ w: ReportWords) -> String {
        func heads(_ names: [String]) -> String { names.map { "<th>\(Self.escape(w(ReasonText(value: $0))))</th>" }.joined() }
        var out = "<h2>\(w("Tables"))</h2>\n"
        for measure in measures {
            out += "<h3>\(Self.escape(w.name(measure)))</h3>\n<table><tr>\(heads(["area"]))" + years.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
            for area in areas {
                out += "<tr><td>\(Self.escape(area))</td>" + years.map { "<td>\(Self.escape(describe(total(measure.id, area, $0), w)))</td>" }.joined() + "</tr>\n"
            }
            out += "</table>\n"
            let ch = changes.filter { $0.measure == measure.id && !$0.suppressed }
            if !ch.isEmpty {
                out += "<table><tr>\(heads(["area", "change", "pp", "95 % CI", "p"]))</tr>\n"
                for c in ch { out += "<tr><td>\(Self.escape(c.area))</td><td>\(c.fromYear)→\(c.toYear)</td><td>\(Self.num(c.differencePP))</td><td>\(Self.num(c.lowerPP))–\(Self.num(c.upperPP))</td><td>\(Self.pValue(c.p))</td></tr>\n" }
                out += "</table>\n"
            }
        }
        if !incidence.isEmpty {
            out += "<h3>\(w("Myopia incidence"))</h3>\n<table><tr>\(heads(["area", "years", "at risk", "followed", "incident", "rate", "lost"]))</tr>\n"
            for i in incidence {
                out += "<tr><td>\(Self.escape(i.area))</td><td>\(i.fromYear)→\(i.toYear)</td><td>\(i.atRisk.map(String.init) ?? "")</td><td>\(i.followed.map(String.init) ?? "")</td>"
                    + (i.suppressed ? "<td colspan=\"2\">\(w("suppressed"))</td>" : "<td>\(i.incident ?? 0)</td><td>\(Self.pct(i.rate)) % (\(Self.pct(i.lower))–\(Self.pct(i.upper)))</td>")
                    + "<td>\(Self.pct(i.lostToFollowUp)) %</td></tr>\n"
            }
            out += "</table>\n"
        }
        if !followUpTimes.isEmpty {
            out += "<h3>\(w("Days from notice to the clinic's result"))</h3>\n<table><tr>\(heads(["area", "year", "kind", "returned", "median days", "95 % CI"]))</tr>\n"
            for t in followUpTimes {
                out += "<tr><td>\(Self.escape(t.area))</td><td>\(t.year)</td><td>\(w(Self.followUpWords[t.kind] ?? ReasonText(value: t.kind)))</td>"
                    + (t.suppressed ? "<td colspan=\"3\">\(w("suppressed"))</td>" : "<td>\(t.returned ?? 0)</td><td>\(Self.num(t.medianDays))</td><td>\(Self.num(t.lower))–\(Self.num(t.upper))</td>")
                    + "</tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }
}
