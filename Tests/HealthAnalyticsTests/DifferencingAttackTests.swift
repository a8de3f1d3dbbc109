import Foundation
import Testing
@testable import HealthAnalytics
import HealthCore

/// A 200-student county of four schools, drawn student by student (so that every identity a reader knows holds:
/// bands add up to poor vision, pass + fail = scored, those at risk = screened − myopic, every vision measure has
/// the same denominator).
func smallCounty(students: Int = 200, seed: UInt64 = 7) -> (strata: [Stratum], followUps: [FollowUp]) {
    var rng = seed
    func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((rng >> 33) % UInt64(n)) }
    let schools = ["P1", "P2", "J1", "J2"]
    struct Kid { var school: String; var grade: Int; var sex: Int; var myopic: Bool }
    var kids = (0..<students).map { _ -> Kid in
        let school = schools[next(4)]
        let grade = school.hasPrefix("P") ? 11 + next(6) : 21 + next(3)
        return Kid(school: school, grade: grade, sex: 1 + next(2), myopic: next(100) < 35)
    }
    var counts: [String: (num: Int, den: Int)] = [:]
    var followUps: [String: FollowUp] = [:]
    for year in 2022...2024 {
        for (i, k) in kids.enumerated() {
            let base = "\(k.school)|\(year)|\(k.grade)|\(k.sex)|"
            func count(_ m: String, _ yes: Bool) { var c = counts[base + m] ?? (0, 0); c.den += 1; if yes { c.num += 1 }; counts[base + m] = c }
            count("myopia", k.myopic)
            let band = k.myopic ? 1 + next(3) : (next(10) == 0 ? 1 : 0)
            count("poor_vision", band > 0)
            count("poor_vision_mild", band == 1); count("poor_vision_moderate", band == 2); count("poor_vision_severe", band == 3)
            let pass = next(100) < 92
            count("fitness_pass", pass); count("fitness_fail", !pass)
            count("fitness_excellent_good", pass && next(100) < 45)
            // Next year: some become myopic; all are followed.
            if year < 2024 {
                var f = followUps["\(k.school)|\(year)"] ?? FollowUp(school: k.school, fromYear: year, atRisk: 0, followed: 0, incident: 0)
                if !k.myopic {
                    f.atRisk += 1; f.followed += 1
                    if next(100) < 12 { kids[i].myopic = true; f.incident += 1 }
                }
                followUps["\(k.school)|\(year)"] = f
            }
        }
    }
    let strata = counts.keys.sorted().map { key -> Stratum in
        let p = key.split(separator: "|").map(String.init)
        return Stratum(measure: p[4], school: p[0], year: Int(p[1])!, grade: Int(p[2])!, sex: Int(p[3])!, numerator: counts[key]!.num, denominator: counts[key]!.den)
    }
    return (strata, followUps.keys.sorted().map { followUps[$0]! })
}

/// What a reader learns: linear equations over the true counts of the finest cells (school × grade × sex, per
/// measure and year, numerator and denominator), solved by sparse elimination in floating point.
struct Attacker {
    struct Var: Hashable, Comparable {
        var measure: String, school: String, year: Int, grade: Int, sex: Int, den: Bool
        static func < (a: Var, b: Var) -> Bool { (a.measure, a.school, a.year, a.grade, a.sex, a.den ? 1 : 0) < (b.measure, b.school, b.year, b.grade, b.sex, b.den ? 1 : 0) }
    }
    var index: [Var: Int] = [:]
    var rows: [Int: [Int: Double]] = [:]   // echelon: pivot → row (pivot coefficient 1)
    var bySlice: [String: [(Var, Int)]] = [:]   // "measure|year|den" → its finest cells

    init(strata: [Stratum]) {
        for s in strata {
            for den in [false, true] {
                let v = Var(measure: s.measure, school: s.school, year: s.year, grade: s.grade, sex: s.sex, den: den)
                index[v] = index.count
                bySlice["\(s.measure)|\(s.year)|\(den)", default: []].append((v, index[v]!))
            }
        }
    }

    func vars(measure: String, area: String, year: Int, grade: Int?, sex: Int?, den: Bool) -> [Int] {
        (bySlice["\(measure)|\(year)|\(den)"] ?? []).filter { v, _ in (area == countyArea || v.school == area)
            && (grade == nil || v.grade == grade) && (sex == nil || v.sex == sex) }.map(\.1)
    }

    func reduce(_ row: [Int: Double]) -> [Int: Double] {
        var r = row
        while let v = r.keys.min(), let pivot = rows[v] {
            let f = r[v]!
            for (c, x) in pivot {
                let y = (r[c] ?? 0) - f * x
                if abs(y) < 1e-9 { r[c] = nil } else { r[c] = y }
            }
        }
        return r
    }

    /// Learns that Σ coef·var is known (the value itself does not matter for what can be solved).
    mutating func learn(_ row: [Int: Double]) {
        let r = reduce(row.filter { abs($0.value) > 1e-12 })
        guard let v = r.keys.min() else { return }
        let p = r[v]!
        rows[v] = r.mapValues { $0 / p }
    }

    func knows(_ row: [Int: Double]) -> Bool { reduce(row).isEmpty }

    static func sum(_ ids: [Int], _ c: Double = 1) -> [Int: Double] { Dictionary(uniqueKeysWithValues: ids.map { ($0, c) }) }
}

@Suite("Suppression against a differencing attacker")
struct DifferencingAttackTests {
    @Test("Every --by × --school × --from/--to, standardised rates and incidence, compared as linear relations, recover no hidden count")
    func attack() throws {
        let (strata, followUps) = smallCounty()
        var attacker = Attacker(strata: strata)
        // Identities every reader knows.
        let byCell = Dictionary(grouping: attacker.index.keys) { "\($0.school)|\($0.year)|\($0.grade)|\($0.sex)" }
        for (_, vs) in byCell {
            func id(_ m: String, _ den: Bool) -> Int? { vs.first { $0.measure == m && $0.den == den }.flatMap { attacker.index[$0] } }
            if let pv = id("poor_vision", false) {
                var row: [Int: Double] = [pv: 1]
                for b in Suppression.bands { if let i = id(b, false) { row[i] = -1 } }
                attacker.learn(row)
            }
            if let pass = id("fitness_pass", false), let fail = id("fitness_fail", false), let den = id("fitness_pass", true) {
                attacker.learn([pass: 1, fail: 1, den: -1])
            }
            // Every measure of the same students has the same denominator.
            let dens = vs.filter(\.den).sorted().compactMap { attacker.index[$0] }
            for d in dens.dropFirst() { attacker.learn([dens[0]: 1, d: -1]) }
        }
        let schools = ["P1", "P2", "J1", "J2"]
        var hiddenNumerators: Set<String> = [], hiddenDenominators: Set<String> = []
        var published: [String: (Int?, Int?)] = [:]
        var reports = 0
        for breakdown in Breakdown.allCases {
            for filter in [nil] + schools.map { [$0] } {
                for (from, to) in [(2022, 2024), (2022, 2023), (2023, 2024), (2022, 2022), (2023, 2023), (2024, 2024)] {
                    let report = TrendReportBuilder(settings: settings, years: Array(from...to), schools: filter, breakdown: breakdown)
                        .build(strata: strata.filter { (from...to).contains($0.year) }, followUps: followUps, generated: "t", ruleVersions: [:])
                    reports += 1
                    for c in report.cells {
                        let key = "\(c.measure)|\(c.area)|\(c.year)|\(c.grade.map(String.init) ?? "*")|\(c.sex.map(String.init) ?? "*")"
                        // The same cell is always shown or hidden the same way, whichever report shows it.
                        if let before = published[key] { #expect(before.0 == c.numerator && before.1 == c.denominator, "\(key) differs between reports") }
                        published[key] = (c.numerator, c.denominator)
                        let num = attacker.vars(measure: c.measure, area: c.area, year: c.year, grade: c.grade, sex: c.sex, den: false)
                        let den = attacker.vars(measure: c.measure, area: c.area, year: c.year, grade: c.grade, sex: c.sex, den: true)
                        if c.numerator != nil { attacker.learn(Attacker.sum(num)) } else { hiddenNumerators.insert(key) }
                        if c.denominator != nil { attacker.learn(Attacker.sum(den)) } else { hiddenDenominators.insert(key) }
                        // A rate with a published denominator is as good as the numerator.
                        if c.rate != nil && c.denominator != nil { attacker.learn(Attacker.sum(num)) }
                    }
                    // Standardised rates: Σ w_s · num_s / den_s with the reference's weights, linear where the
                    // strata's denominators are published.
                    let reference = strata.filter { $0.year == from }
                    for r in report.standardised where r.rate != nil {
                        let own = strata.filter { $0.measure == r.measure && $0.year == r.year && (r.area == countyArea || $0.school == r.area) }
                        var byStratum: [Int: (num: [Int], den: Int)] = [:]
                        for s in own {
                            let v = attacker.index[Attacker.Var(measure: s.measure, school: s.school, year: s.year, grade: s.grade, sex: s.sex, den: false)]!
                            let e = byStratum[s.grade * 10 + s.sex] ?? ([], 0)
                            byStratum[s.grade * 10 + s.sex] = (e.num + [v], e.den + s.denominator)
                        }
                        var ref: [Int: Int] = [:]
                        for s in reference where s.measure == r.measure { ref[s.grade * 10 + s.sex, default: 0] += s.denominator }
                        let shared = byStratum.keys.filter { (ref[$0] ?? 0) > 0 && byStratum[$0]!.den > 0 }
                        let total = Double(shared.reduce(0) { $0 + ref[$1]! })
                        var row: [Int: Double] = [:]
                        for k in shared { for v in byStratum[k]!.num { row[v, default: 0] += Double(ref[k]!) / total / Double(byStratum[k]!.den) } }
                        attacker.learn(row)
                    }
                    // Incidence: those at risk are the screened less the myopic (a relation among the myopia counts).
                    for i in report.incidence {
                        if let _ = i.atRisk {
                            let num = attacker.vars(measure: "myopia", area: i.area, year: i.fromYear, grade: nil, sex: nil, den: false)
                            let den = attacker.vars(measure: "myopia", area: i.area, year: i.fromYear, grade: nil, sex: nil, den: true)
                            var row = Attacker.sum(den)
                            for v in num { row[v] = -1 }
                            attacker.learn(row)
                        }
                    }
                }
            }
        }
        #expect(reports == 4 * 5 * 6)
        #expect(hiddenNumerators.count > 50, "the small county has many small cells to protect")
        // The attack: is any hidden count now known?
        var recovered: [String] = []
        for (key, den) in hiddenNumerators.map({ ($0, false) }) + hiddenDenominators.map({ ($0, true) }) {
            let p = key.split(separator: "|").map(String.init)
            let vars = attacker.vars(measure: p[0], area: p[1], year: Int(p[2])!, grade: Int(p[3]), sex: Int(p[4]), den: den)
            if attacker.knows(Attacker.sum(vars)) { recovered.append("\(den ? "denominator" : "numerator") of \(key)") }
        }
        #expect(recovered.isEmpty, "recovered: \(recovered.sorted().prefix(20))")
        // The attacker is not blind: unsuppressed, it knows every cell.
        var open = Attacker(strata: strata)
        let plain = TrendReportBuilder(settings: settings, years: [2022, 2023, 2024], breakdown: .gradeSex, suppress: false)
            .build(strata: strata, followUps: followUps, generated: "t", ruleVersions: [:])
        for c in plain.cells { open.learn(Attacker.sum(open.vars(measure: c.measure, area: c.area, year: c.year, grade: c.grade, sex: c.sex, den: false))) }
        let some = try #require(hiddenNumerators.sorted().first).split(separator: "|").map(String.init)
        #expect(open.knows(Attacker.sum(open.vars(measure: some[0], area: some[1], year: Int(some[2])!, grade: Int(some[3]), sex: Int(some[4]), den: false))))
    }

    @Test("The same report hides the same cells every time; a cell of 100 % (or 0 %) of a small group is hidden")
    func deterministic() throws {
        let (strata, followUps) = smallCounty()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let runs = try (0..<5).map { _ in
            try encoder.encode(TrendReportBuilder(settings: settings, years: [2022, 2023, 2024], breakdown: .grade)
                .build(strata: strata.shuffled(), followUps: followUps.shuffled(), generated: "t", ruleVersions: [:]))
        }
        #expect(Set(runs).count == 1)
        let all9 = [Stratum(measure: "myopia", school: "A", year: 2024, grade: 31, sex: 1, numerator: 9, denominator: 9),
                    Stratum(measure: "myopia", school: "B", year: 2024, grade: 31, sex: 1, numerator: 30, denominator: 60)]
        let report = TrendReportBuilder(settings: settings, years: [2024]).build(strata: all9, followUps: [], generated: "t", ruleVersions: [:])
        #expect(report.cells.first { $0.area == "A" }?.suppressed == true)
    }
}
