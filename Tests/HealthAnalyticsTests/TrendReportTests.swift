import Foundation
import Testing
@testable import HealthAnalytics
import HealthCore

let settings = ReportSettings(
    version: "test", countScreening: "earliest", suppressionThreshold: 5, unstableDenominator: 30, standardReference: "first",
    targets: [
        .init(id: "myopia-down-1pp", measure: "myopia", kind: .yearOnYearChange, atLeast: nil, atMostPP: -1.0, source: "test"),
        .init(id: "fitness-excellent-good-70", measure: "fitness_excellent_good", kind: .level, atLeast: 0.70, atMostPP: nil, source: "test"),
    ])

/// A county: schools × years × grades × sexes, with deterministic counts (some of them small).
func syntheticStrata(schools: [String] = ["A", "B", "C"], years: [Int] = [2022, 2023, 2024], small: Bool = true) -> [Stratum] {
    var out: [Stratum] = []
    var seed: UInt64 = 42
    func next(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int((seed >> 33) % UInt64(n)) }
    for (si, school) in schools.enumerated() {
        for year in years {
            for grade in [11, 12, 13] {
                for sex in [1, 2] {
                    let den = small && si == 2 ? 3 + next(6) : 40 + next(60)
                    let num = min(den, next(den + 1))
                    out.append(Stratum(measure: "myopia", school: school, year: year, grade: grade, sex: sex, numerator: num, denominator: den))
                    let pv = min(den, num + next(3))
                    let mild = next(pv + 1), moderate = next(pv - mild + 1)
                    out.append(Stratum(measure: "poor_vision", school: school, year: year, grade: grade, sex: sex, numerator: pv, denominator: den))
                    out.append(Stratum(measure: "poor_vision_mild", school: school, year: year, grade: grade, sex: sex, numerator: mild, denominator: den))
                    out.append(Stratum(measure: "poor_vision_moderate", school: school, year: year, grade: grade, sex: sex, numerator: moderate, denominator: den))
                    out.append(Stratum(measure: "poor_vision_severe", school: school, year: year, grade: grade, sex: sex, numerator: pv - mild - moderate, denominator: den))
                    let good = next(den + 1), pass = min(den, good + next(den - good + 1))
                    out.append(Stratum(measure: "fitness_excellent_good", school: school, year: year, grade: grade, sex: sex, numerator: good, denominator: den))
                    out.append(Stratum(measure: "fitness_pass", school: school, year: year, grade: grade, sex: sex, numerator: pass, denominator: den))
                    out.append(Stratum(measure: "fitness_fail", school: school, year: year, grade: grade, sex: sex, numerator: den - pass, denominator: den))
                }
            }
        }
    }
    return out
}

func build(_ strata: [Stratum], breakdown: Breakdown = .none, suppress: Bool = true, followUps: [FollowUp] = []) -> TrendReport {
    TrendReportBuilder(settings: settings, years: [2022, 2023, 2024], breakdown: breakdown, suppress: suppress)
        .build(strata: strata, followUps: followUps, generated: "test", ruleVersions: [:])
}

@Suite("Trend report")
struct TrendReportTests {
    @Test("Rates, Wilson intervals, changes (Newcombe, z test) and trends come from the counts")
    func arithmetic() throws {
        let strata = syntheticStrata(small: false)
        let report = build(strata, suppress: false)
        for year in [2022, 2023, 2024] {
            let rows = strata.filter { $0.measure == "myopia" && $0.school == "A" && $0.year == year }
            let (x, n) = (rows.reduce(0) { $0 + $1.numerator }, rows.reduce(0) { $0 + $1.denominator })
            let cell = try #require(report.cells.first { $0.measure == "myopia" && $0.area == "A" && $0.year == year && $0.grade == nil })
            #expect(cell.numerator == x && cell.denominator == n)
            #expect(cell.rate == Double(x) / Double(n))
            #expect(cell.lower == Statistics.wilson(x, n)?.lower && cell.upper == Statistics.wilson(x, n)?.upper)
        }
        let countyCells = report.cells.filter { $0.measure == "myopia" && $0.area == countyArea && $0.grade == nil }
        #expect(countyCells.map { $0.numerator! } == [2022, 2023, 2024].map { y in strata.filter { $0.measure == "myopia" && $0.year == y }.reduce(0) { $0 + $1.numerator } })
        let change = try #require(report.changes.first { $0.measure == "myopia" && $0.area == countyArea && $0.toYear == 2023 })
        let (a, b) = (countyCells[0], countyCells[1])
        let d = try #require(Statistics.newcombe(b.numerator!, b.denominator!, a.numerator!, a.denominator!))
        #expect(change.differencePP == d.difference * 100 && change.lowerPP == d.interval.lower * 100)
        #expect(change.p == Statistics.twoProportionZ(b.numerator!, b.denominator!, a.numerator!, a.denominator!)?.p)
        let trend = try #require(report.trends.first { $0.measure == "myopia" && $0.area == countyArea })
        #expect(trend.z == Statistics.cochranArmitage(successes: countyCells.map { $0.numerator! }, totals: countyCells.map { $0.denominator! })?.z)
    }

    @Test("Standardised rates use the county's grade × sex mix of the first year")
    func standardisation() throws {
        let strata = syntheticStrata(small: false)
        let report = build(strata, suppress: false)
        let own = strata.filter { $0.measure == "myopia" && $0.school == "B" && $0.year == 2024 }.sorted { ($0.grade, $0.sex) < ($1.grade, $1.sex) }
        let reference = strata.filter { $0.measure == "myopia" && $0.year == 2022 }
        let weights = own.map { s in Double(reference.filter { $0.grade == s.grade && $0.sex == s.sex }.reduce(0) { $0 + $1.denominator }) }
        let expected = try #require(Statistics.directlyStandardised(counts: own.map(\.numerator), populations: own.map(\.denominator), reference: weights))
        let s = try #require(report.standardised.first { $0.measure == "myopia" && $0.area == "B" && $0.year == 2024 })
        #expect(abs(s.rate! - expected.rate) < 1e-12)
        #expect(abs(s.lower! - expected.interval.lower) < 1e-12)
    }

    @Test("Targets: met, not met and not measurable, with the gap")
    func targets() throws {
        var strata: [Stratum] = []
        for (year, num) in [(2022, 500), (2023, 485), (2024, 480)] {
            strata.append(Stratum(measure: "myopia", school: "A", year: year, grade: 11, sex: 1, numerator: num, denominator: 1000))
        }
        strata.append(Stratum(measure: "fitness_excellent_good", school: "A", year: 2024, grade: 11, sex: 1, numerator: 720, denominator: 1000))
        strata.append(Stratum(measure: "fitness_excellent_good", school: "A", year: 2023, grade: 11, sex: 1, numerator: 3, denominator: 1000))
        let report = build(strata)
        func status(_ t: String, _ year: Int) -> TargetResult? { report.targets.first { $0.target == t && $0.area == "A" && $0.year == year } }
        #expect(status("myopia-down-1pp", 2023)?.status == .met)              // 50.0 → 48.5: −1.5 pp
        #expect(abs(status("myopia-down-1pp", 2023)!.gap! - (-0.5)) < 1e-9)
        #expect(status("myopia-down-1pp", 2024)?.status == .notMet)           // 48.5 → 48.0: −0.5 pp
        #expect(status("myopia-down-1pp", 2022) == nil)                        // no year before
        #expect(status("fitness-excellent-good-70", 2024)?.status == .met)
        #expect(status("fitness-excellent-good-70", 2023)?.status == .notMeasurable)   // 3 students: suppressed
    }

    @Test("Incidence: at risk, followed, incident, lost to follow-up")
    func incidence() throws {
        let followUps = [FollowUp(school: "A", fromYear: 2022, atRisk: 100, followed: 90, incident: 18),
                         FollowUp(school: "B", fromYear: 2022, atRisk: 50, followed: 40, incident: 6)]
        let report = build(syntheticStrata(small: false), followUps: followUps)
        let county = try #require(report.incidence.first { $0.area == countyArea && $0.fromYear == 2022 })
        #expect(county.atRisk == 150 && county.followed == 130 && county.incident == 24)
        #expect(county.rate == 24.0 / 130)
        #expect(abs(county.lostToFollowUp! - 20.0 / 150) < 1e-12)
    }

    @Test("No suppressed cell can be recovered from any published total", arguments: Breakdown.allCases)
    func suppressionCannotBeUndone(breakdown: Breakdown) throws {
        let report = build(syntheticStrata(), breakdown: breakdown)
        #expect(report.cells.contains { $0.suppressed })
        #expect(report.suppressionOn && !report.containsIdentifiableData)
        func key(_ c: RateCell) -> String { "\(c.measure)|\(c.year)|\(c.grade ?? -1)|\(c.sex ?? -1)" }
        var byKey: [String: [RateCell]] = [:]
        for c in report.cells { byKey["\(key(c))|\(c.area)", default: []].append(c) }
        func cell(_ measure: String, _ area: Area, _ year: Int, _ grade: Int?, _ sex: Int?) -> RateCell? {
            report.cells.first { $0.measure == measure && $0.area == area && $0.year == year && $0.grade == grade && $0.sex == sex }
        }
        // Every equation a reader could form: total = Σ parts. It must never have exactly one unknown.
        var equations: [(total: RateCell?, parts: [RateCell])] = []
        let slices = Dictionary(grouping: report.cells.filter { $0.area != countyArea }, by: key)
        for (_, parts) in slices {
            let p = parts[0]
            equations.append((cell(p.measure, countyArea, p.year, p.grade, p.sex), parts))                   // county = Σ schools
        }
        let byArea = Dictionary(grouping: report.cells.filter { $0.grade != nil || $0.sex != nil }, by: { "\($0.measure)|\($0.area)|\($0.year)" })
        for (_, parts) in byArea {
            let p = parts[0]
            equations.append((cell(p.measure, p.area, p.year, nil, nil), parts))                            // area = Σ strata
        }
        for c in report.cells where c.measure == "poor_vision" {
            let bands = ["poor_vision_mild", "poor_vision_moderate", "poor_vision_severe"].compactMap { cell($0, c.area, c.year, c.grade, c.sex) }
            equations.append((c, bands))                                                                    // poor = Σ bands
        }
        for c in report.cells where c.measure == "fitness_pass" {
            if let fail = cell("fitness_fail", c.area, c.year, c.grade, c.sex) { equations.append((nil, [c, fail])) }   // pass + fail = scored
        }
        var checked = 0
        for e in equations {
            let unknowns = ((e.total.map { [$0] } ?? []) + e.parts).filter { $0.numerator == nil }.count
            #expect(unknowns != 1, "recoverable: \(e.total.map(key) ?? "pass/fail") in \(e.parts.map { "\($0.area):\(key($0))" })")
            checked += 1
            // The denominators add up too (for areas and strata).
            if e.total != nil, e.parts.count > 1, e.parts.allSatisfy({ $0.measure == e.total!.measure }) {
                let unknownDen = ([e.total!] + e.parts).filter { $0.denominator == nil }.count
                #expect(unknownDen != 1)
            }
        }
        #expect(checked > 40)
        // A suppressed cell shows no rate, interval or numerator; changes and trends touching it are suppressed too.
        for c in report.cells where c.suppressed { #expect(c.rate == nil && c.lower == nil && c.numerator == nil) }
        for ch in report.changes where ch.suppressed { #expect(ch.differencePP == nil && ch.p == nil) }
    }

    @Test("Primary suppression: numerator or denominator below the threshold; unstable flag for small denominators")
    func primary() {
        let strata = [Stratum(measure: "myopia", school: "A", year: 2022, grade: 11, sex: 1, numerator: 4, denominator: 100),
                      Stratum(measure: "myopia", school: "B", year: 2022, grade: 11, sex: 1, numerator: 10, denominator: 20),
                      Stratum(measure: "myopia", school: "C", year: 2022, grade: 11, sex: 1, numerator: 50, denominator: 100)]
        let report = build(strata)
        let a = report.cells.first { $0.area == "A" }!, b = report.cells.first { $0.area == "B" }!, c = report.cells.first { $0.area == "C" }!
        #expect(a.suppressed && a.denominator == 100)        // numerator 4 < 5
        #expect(b.suppressed)                                 // complementary: the smallest other school
        #expect(!c.suppressed && !c.unstable)
        #expect(report.cells.first { $0.area == countyArea }?.suppressed == false)
        let off = build(strata, suppress: false)
        #expect(off.containsIdentifiableData && !off.cells.contains { $0.suppressed })
        #expect(off.cells.first { $0.area == "B" }?.unstable == true)   // 20 < 30
    }

    @Test("Every format carries the same numbers; HTML is self-contained with inline SVG; suppression off is stamped")
    func formats() throws {
        let report = build(syntheticStrata(small: false))
        let json = try report.render(.json), csv = try report.render(.csv), md = try report.render(.md), html = try report.render(.html)
        let decoded = try JSONDecoder().decode(TrendReport.self, from: Data(json.utf8))
        #expect(decoded.cells.count == report.cells.count)
        let county = report.cells.first { $0.measure == "myopia" && $0.area == countyArea && $0.year == 2024 }!
        #expect(csv.contains(",\(county.numerator!),\(county.denominator!),\(county.rate!),"))
        #expect(md.contains("\(county.numerator!)/\(county.denominator!)"))
        #expect(html.contains("\(county.numerator!)/\(county.denominator!)"))
        #expect(html.contains("<svg") && !html.contains("src=\"http") && !html.contains("href=\"http"))
        #expect(!html.contains("<script") && !html.contains("<link"))
        let off = try build(syntheticStrata(), suppress: false).render(.md)
        #expect(off.contains("IDENTIFIABLE DATA"))
        #expect(try build(syntheticStrata(), suppress: false).render(.html).contains("IDENTIFIABLE DATA"))
    }
}
