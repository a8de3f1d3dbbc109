import Foundation
import HealthCore

/// Text forms of a trend report. Every format carries the same numbers.
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, csv, json, md
}

extension TrendReport {
    /// `words`: how the HTML and Markdown reports say their words (English by default); CSV and JSON keep theirs
    /// (their column names are for programs).
    public func render(_ format: ReportFormat, words: ReportWords = .english) throws -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
        case .csv: return csv()
        case .md: return markdown(words)
        case .html: return html(words)
        }
    }

    // MARK: helpers

    static func pct(_ v: Double?, digits: Int = 1) -> String { v.map { String(format: "%.\(digits)f", $0 * 100) } ?? "" }
    static func num(_ v: Double?, digits: Int = 2) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "" }
    static func pValue(_ p: Double?) -> String {
        guard let p else { return "" }
        return p < 0.001 ? "<0.001" : String(format: "%.3f", p)
    }

    func label(_ measure: String) -> String { Measure.named(measure).map { "\($0.chinese) \($0.label)" } ?? measure }

    func total(_ measure: String, _ area: Area, _ year: Int) -> RateCell? {
        cells.first { $0.measure == measure && $0.area == area && $0.year == year && $0.grade == nil && $0.sex == nil }
    }

    /// "53.5 % (50.6–56.4) 641/1199", "suppressed" or "".
    func describe(_ c: RateCell?, _ w: ReportWords = .english) -> String {
        guard let c else { return "" }
        if c.suppressed { return w("suppressed") + (c.denominator.map { " (n = \($0))" } ?? "") }
        var s = "\(Self.pct(c.rate)) % (\(Self.pct(c.lower))–\(Self.pct(c.upper))) \(c.numerator ?? 0)/\(c.denominator ?? 0)"
        if c.unstable { s += " †" }
        return s
    }

    var notice: String { explainedNotice.text }

    var explainedNotice: ReasonText {
        suppressionOn
            ? "Cells whose numerator, denominator, or denominator less numerator is below \(suppressionThreshold) are suppressed, with enough other cells that none can be recovered from any table SchoolHealth publishes (the same cells are hidden in every report). † marks a rate on fewer than \(unstableDenominator) students (unstable). Intervals are 95 % Wilson intervals; changes are in percentage points with Newcombe intervals."
            : "SUPPRESSION OFF — THIS OUTPUT CONTAINS IDENTIFIABLE DATA ABOUT STUDENTS. Do not publish or share it."
    }

    static func stratumLabel(_ c: RateCell) -> ReasonText {
        switch (c.grade, c.sex) {
        case let (g?, s?): return s == 1 ? "grade \(g), boys" : "grade \(g), girls"
        case let (g?, nil): return "grade \(g)"
        case let (nil, s?): return s == 1 ? "boys" : "girls"
        case (nil, nil): return ""
        }
    }

    /// The follow-up kinds as the report says them.
    static let followUpWords: [String: ReasonText] = ["vision": "vision follow-up", "spine": "spine follow-up"]

    // MARK: CSV

    func csv() -> String {
        var lines = ["section,measure,area,year,grade,sex,numerator,denominator,rate,lower,upper,suppressed,unstable,from_year,to_year,difference_pp,lower_pp,upper_pp,p,z,status,gap,area_name"]
        func row(_ f: [String]) {
            let name = f[0] == "notice" ? "" : (f[2] == countyArea ? "全县" : schoolNames[f[2]] ?? "")
            lines.append((f + [name]).map(CSVCell.escape).joined(separator: ","))
        }
        func o(_ v: Int?) -> String { v.map(String.init) ?? "" }
        func d(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        if !suppressionOn { row(["notice", notice] + Array(repeating: "", count: 20)) }
        for c in cells {
            row(["rate", c.measure, c.area, String(c.year), o(c.grade), o(c.sex), o(c.numerator), o(c.denominator), d(c.rate), d(c.lower), d(c.upper),
                 String(c.suppressed), String(c.unstable), "", "", "", "", "", "", "", "", ""])
        }
        for c in changes {
            row(["change", c.measure, c.area, "", "", "", "", "", "", "", "", String(c.suppressed), "", String(c.fromYear), String(c.toYear),
                 d(c.differencePP), d(c.lowerPP), d(c.upperPP), d(c.p), "", "", ""])
        }
        for t in trends {
            row(["trend", t.measure, t.area, "", "", "", "", "", "", "", "", String(t.suppressed), "", String(t.fromYear), String(t.toYear),
                 "", "", "", d(t.p), d(t.z), "", ""])
        }
        for s in standardised {
            row(["standardised", s.measure, s.area, String(s.year), "", "", "", "", d(s.rate), d(s.lower), d(s.upper), String(s.suppressed), "", "", "", "", "", "", "", "", "", ""])
        }
        for i in incidence {
            row(["incidence", "myopia_incidence", i.area, "", "", "", o(i.incident), o(i.followed), d(i.rate), d(i.lower), d(i.upper), String(i.suppressed), "",
                 String(i.fromYear), String(i.toYear), "", "", "", "", "", "", ""])
        }
        for t in followUpTimes {
            // The median days as "rate", its interval as lower/upper, the results returned as the denominator.
            row(["follow_up_days", "days_to_result_" + t.kind, t.area, String(t.year), "", "", "", o(t.returned), d(t.medianDays), d(t.lower), d(t.upper),
                 String(t.suppressed), "", "", "", "", "", "", "", "", "", ""])
        }
        for t in targets {
            row(["target", t.target, t.area, String(t.year), "", "", "", "", d(t.value), "", "", "", "", "", "", "", "", "", "", "", t.status.rawValue, d(t.gap)])
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: Markdown

    func markdown(_ w: ReportWords = .english) -> String {
        /// A table's heading row and its rule, each heading said as a value (`area` → 学校或地区).
        func head(_ names: [String], plain: [String] = []) -> String {
            let cells = names.map { w(ReasonText(value: $0)) } + plain
            return "| " + cells.joined(separator: " | ") + " |\n|" + cells.map { _ in "---|" }.joined() + "\n"
        }
        let suppressed = w("suppressed")
        let yearList = years.map(String.init).joined(separator: ", ")
        var out = "# \(title)\n\n\(w("School years \(yearList) · generated \(generated)"))\n\n> \(w(explainedNotice))\n\n"
        out += "## \(w("Targets"))\n\n" + head(["target", "area", "year", "status", "value", "gap"])
        for t in targets {
            let isChange = t.target.contains("down")
            let value = isChange ? Self.num(t.value) + " pp" : Self.pct(t.value) + " %"
            let gap = isChange ? Self.num(t.gap) + " pp" : Self.pct(t.gap) + " pp"
            out += "| \(t.target) | \(areaLabel(t.area)) | \(t.year) | \(w(ReasonText(value: t.status.rawValue))) | \(t.value == nil ? "" : value) | \(t.gap == nil ? "" : gap) |\n"
        }
        for measure in measures {
            out += "\n## \(w.language.hasPrefix("zh") ? measure.chinese : label(measure.id))\n\n" + head(["area"], plain: years.map(String.init))
            for area in areas {
                out += "| \(areaLabel(area)) | " + years.map { describe(total(measure.id, area, $0), w) }.joined(separator: " | ") + " |\n"
            }
            let breakdownCells = cells.filter { $0.measure == measure.id && ($0.grade != nil || $0.sex != nil) }
            if !breakdownCells.isEmpty {
                out += "\n" + head(["area", "year", "stratum", "rate"])
                for c in breakdownCells { out += "| \(areaLabel(c.area)) | \(c.year) | \(w(Self.stratumLabel(c))) | \(describe(c, w)) |\n" }
            }
            let ch = changes.filter { $0.measure == measure.id }
            if !ch.isEmpty {
                out += "\n" + head(["area", "change", "difference (pp)", "95 % CI", "p"])
                for c in ch {
                    out += "| \(areaLabel(c.area)) | \(c.fromYear)→\(c.toYear) | " + (c.suppressed ? "\(suppressed) | | |" : "\(Self.num(c.differencePP)) | \(Self.num(c.lowerPP))–\(Self.num(c.upperPP)) | \(Self.pValue(c.p)) |") + "\n"
                }
            }
            let tr = trends.filter { $0.measure == measure.id }
            if !tr.isEmpty {
                out += "\n" + head(["area", "trend (Cochran–Armitage)", "z", "p"])
                for t in tr { out += "| \(areaLabel(t.area)) | \(t.fromYear)–\(t.toYear) | " + (t.suppressed ? "\(suppressed) | |" : "\(Self.num(t.z)) | \(Self.pValue(t.p)) |") + "\n" }
            }
            let st = standardised.filter { $0.measure == measure.id }
            if !st.isEmpty {
                let reference = referenceYear.map(String.init) ?? ""
                out += "\n| \(w("area")) | \(w("year")) | \(w("standardised rate (grade × sex, county \(reference))")) | \(w("95 % CI (Fay–Feuer)")) |\n|---|---|---|---|\n"
                for s in st { out += "| \(areaLabel(s.area)) | \(s.year) | " + (s.suppressed ? "\(suppressed) | |" : "\(Self.pct(s.rate)) % | \(Self.pct(s.lower))–\(Self.pct(s.upper)) |") + "\n" }
            }
        }
        if !incidence.isEmpty {
            out += "\n## \(w.language.hasPrefix("zh") ? w("Myopia incidence") : "新发近视 Myopia incidence")\n\n"
                + head(["area", "years", "at risk", "followed", "incident", "rate", "95 % CI", "lost to follow-up"])
            for i in incidence {
                out += "| \(areaLabel(i.area)) | \(i.fromYear)→\(i.toYear) | \(i.atRisk.map(String.init) ?? "") | \(i.followed.map(String.init) ?? "") | "
                    + (i.suppressed ? "\(suppressed) | | |" : "\(i.incident ?? 0) | \(Self.pct(i.rate)) % | \(Self.pct(i.lower))–\(Self.pct(i.upper)) |")
                    + " \(Self.pct(i.lostToFollowUp)) % |\n"
            }
        }
        if !followUpTimes.isEmpty {
            out += "\n## \(w("Days from notice to the clinic's result"))\n\n" + head(["area", "year", "kind", "returned", "median days", "95 % CI"])
            for t in followUpTimes {
                out += "| \(areaLabel(t.area)) | \(t.year) | \(w(Self.followUpWords[t.kind] ?? ReasonText(value: t.kind))) | "
                    + (t.suppressed ? "\(suppressed) | | |" : "\(t.returned ?? 0) | \(Self.num(t.medianDays)) | \(Self.num(t.lower))–\(Self.num(t.upper)) |") + "\n"
            }
        }
        let versions = ruleVersions.keys.sorted().map { "\($0) \(ruleVersions[$0]!)" }.joined(separator: ", ")
        out += "\n" + w("Rule versions: \(versions)") + "\n"
        return out
    }
}
