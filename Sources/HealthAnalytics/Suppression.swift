import Synchronization

/// Small-cell suppression that holds against a reader who compares every table SchoolHealth can publish.
///
/// The pattern is decided **once**, on every cell any report could show: each area (the county, every school) at
/// every level (total; by grade; by sex; by grade and sex), whatever the report asks for. Every published table
/// (any `--by`, `--school`, `--from`/`--to`, any format) is a view of that one pattern, so that no two reports
/// disagree about a cell. Decisions are per school year and never depend on which years or schools are shown.
///
/// 1. **Primary**: a numerator below the threshold, a denominator below it, or a denominator less the numerator
///    below it (so that "all 9 are myopic" is not published) hides the cell's numerator; a small denominator
///    hides the denominator too. Coverage (who was screened, not what was found) is hidden for a small denominator only.
/// 2. **Complementary**, first by the marginal relations (a total with exactly one hidden part hides one more),
///    then by an exact **linear audit**: the hidden finest cells are unknowns, every published sum is an equation,
///    and so are the identities a reader knows (poor vision = mild + moderate + severe; pass + fail = scored).
///    While any hidden cell is a linear combination of published ones, one more published cell is hidden.
///    The audit works modulo the prime 2^31 − 1, exactly.
///
/// Every choice is made in a fixed order (sorted keys, then values), so the same data hide the same cells.
struct SuppressionPlan {
    var numerators: Set<TrendReportBuilder.Key> = []
    var denominators: Set<TrendReportBuilder.Key> = []
}

extension TrendReportBuilder.Key: Comparable {
    static func < (a: Self, b: Self) -> Bool {
        (a.measure, a.year, a.area, a.grade ?? -1, a.sex ?? -1) < (b.measure, b.year, b.area, b.grade ?? -1, b.sex ?? -1)
    }
    /// A cell of one school by grade and sex: what every other cell is a sum of.
    var isFinest: Bool { area != countyArea && grade != nil && sex != nil }
}

enum Suppression {
    typealias Key = TrendReportBuilder.Key

    /// Measures a reader can relate by an identity at every cell.
    static let bands = ["poor_vision_mild", "poor_vision_moderate", "poor_vision_severe"]
    static func family(_ measure: String) -> String {
        if measure == "poor_vision" || bands.contains(measure) { return "poor_vision" }
        if measure == "fitness_pass" || measure == "fitness_fail" { return "fitness_pass" }
        return measure
    }

    /// The pattern. `linked` pairs (a, b) of measures whose b's denominator is a's numerator in every cell (results
    /// returned, and confirmed among them): a hidden numerator of a hides b's denominator and the other way round,
    /// and the pattern is decided again until it holds.
    /// Measures of the work, not of a child's health (coverage: who was screened): a cell is hidden for a small
    /// stratum only. "All 30 were screened" says nothing about a child's health; hiding every cell near 100 % would
    /// leave the coverage report empty.
    static func countsOnly(_ measure: String) -> Bool { measure.hasPrefix("coverage_") }

    static func plan(counts all: [Key: (num: Int, den: Int)], threshold: Int, linked: [(String, String)] = []) -> SuppressionPlan {
        if linked.isEmpty { return plan(counts: all, threshold: threshold, numerators: [], denominators: []) }
        // Every decision is made within one measure (its marginal groups) or one family and year (its audit), so the
        // linked measures are planned apart: the others once, the linked ones until the link holds.
        let linkedMeasures = Set(linked.flatMap { [$0.0, $0.1] })
        let others = all.filter { !linkedMeasures.contains($0.key.measure) }
        let counts = all.filter { linkedMeasures.contains($0.key.measure) }
        let rest = plan(counts: others, threshold: threshold, numerators: [], denominators: [])
        var forcedNumerators = Set<Key>(), forcedDenominators = Set<Key>()
        let forward = Dictionary(linked, uniquingKeysWith: { a, _ in a })
        let backward = Dictionary(linked.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
        while true {
            let plan = plan(counts: counts, threshold: threshold, numerators: forcedNumerators, denominators: forcedDenominators)
            var changed = false
            for k in plan.numerators.sorted() {
                guard let b = forward[k.measure] else { continue }
                var other = k; other.measure = b
                if counts[other] != nil, !plan.denominators.contains(other), forcedDenominators.insert(other).inserted { changed = true }
            }
            for k in plan.denominators.sorted() {
                guard let a = backward[k.measure] else { continue }
                var other = k; other.measure = a
                if counts[other] != nil, !plan.numerators.contains(other), forcedNumerators.insert(other).inserted { changed = true }
            }
            if !changed {
                return SuppressionPlan(numerators: rest.numerators.union(plan.numerators), denominators: rest.denominators.union(plan.denominators))
            }
        }
    }

    static func plan(counts: [Key: (num: Int, den: Int)], threshold: Int, numerators: Set<Key>, denominators: Set<Key>) -> SuppressionPlan {
        var plan = SuppressionPlan(numerators: numerators, denominators: denominators)
        for (key, c) in counts {
            if c.den < threshold || (!countsOnly(key.measure) && (c.num < threshold || c.den - c.num < threshold)) { plan.numerators.insert(key) }
            if c.den < threshold { plan.denominators.insert(key) }
        }
        let keys = counts.keys.sorted()
        let groups = marginalGroups(keys: keys, keySet: Set(keys))
        // Denominators: the marginal relations, then the audit, measure by measure.
        settle(&plan.denominators, groups: groups.filter(\.denominatorsAdd)) { counts[$0]?.den ?? 0 }
        let byMeasureYear = Dictionary(grouping: keys) { MeasureYear(family: $0.measure, year: $0.year) }
        for group in byMeasureYear.keys.sorted() {
            audit(keys: byMeasureYear[group]!, hidden: &plan.denominators, value: { counts[$0]?.den ?? 0 }, identities: { _, _ in [] })
        }
        plan.numerators.formUnion(plan.denominators)
        // Numerators: the marginal relations, then the audit per family (its identities) and year.
        settle(&plan.numerators, groups: groups) { counts[$0]?.num ?? 0 }
        let byFamilyYear = Dictionary(grouping: keys) { MeasureYear(family: family($0.measure), year: $0.year) }
        for group in byFamilyYear.keys.sorted() {
            audit(keys: byFamilyYear[group]!, hidden: &plan.numerators, value: { counts[$0]?.num ?? 0 }) { finest, hidden in
                identities(finest, denominators: plan.denominators)
            }
        }
        return plan
    }

    struct MeasureYear: Hashable, Comparable {
        var family: String
        var year: Int
        static func < (a: Self, b: Self) -> Bool { (a.family, a.year) < (b.family, b.year) }
    }

    /// Identities among the finest cells of one school, grade and sex that a reader knows: bands add up to poor
    /// vision; pass + fail = the scored students (a published denominator).
    static func identities(_ finest: [Key], denominators: Set<Key>) -> [[(Key, Int)]] {
        var out: [[(Key, Int)]] = []
        let present = Set(finest)
        var seen = Set<Key>()
        for k in finest where k.measure == "poor_vision" || k.measure == "fitness_pass" {
            var base = k
            base.measure = ""
            guard seen.insert(base).inserted else { continue }
            if k.measure == "poor_vision" {
                let members = [(k, 1)] + bands.map { m -> (Key, Int) in var b = k; b.measure = m; return (b, -1) }
                out.append(members.filter { present.contains($0.0) })
            } else {
                var fail = k
                fail.measure = "fitness_fail"
                if present.contains(fail) && !denominators.contains(k) { out.append([(k, 1), (fail, 1)]) }
            }
        }
        return out
    }

    // MARK: - Marginal relations

    struct Group {
        var total: Key?
        var members: [Key]
        var denominatorsAdd: Bool
    }

    /// Every published total and the published cells that add up to it, over the whole universe.
    static func marginalGroups(keys: [Key], keySet: Set<Key>) -> [Group] {
        var groups: [Group] = []
        var byCountySlice: [Key: [Key]] = [:]
        var byTotal: [Key: [Key]] = [:], byGradeTotal: [Key: [Key]] = [:], bySexTotal: [Key: [Key]] = [:]
        var gradeCells: [Key: [Key]] = [:], sexCells: [Key: [Key]] = [:]
        for k in keys {
            if k.area != countyArea { var c = k; c.area = countyArea; byCountySlice[c, default: []].append(k) }
            var total = k; total.grade = nil; total.sex = nil
            switch (k.grade, k.sex) {
            case (.some, .some):
                byTotal[total, default: []].append(k)
                var g = k; g.sex = nil; byGradeTotal[g, default: []].append(k)
                var s = k; s.grade = nil; bySexTotal[s, default: []].append(k)
            case (.some, nil): gradeCells[total, default: []].append(k)
            case (nil, .some): sexCells[total, default: []].append(k)
            case (nil, nil): break
            }
        }
        for dict in [byCountySlice, byTotal, byGradeTotal, bySexTotal, gradeCells, sexCells] {
            for total in dict.keys.sorted() where keySet.contains(total) {
                groups.append(Group(total: total, members: dict[total]!.sorted(), denominatorsAdd: true))
            }
        }
        for k in keys where k.measure == "poor_vision" {
            let members = bands.map { m -> Key in var b = k; b.measure = m; return b }.filter(keySet.contains)
            groups.append(Group(total: k, members: members, denominatorsAdd: false))
        }
        for k in keys where k.measure == "fitness_pass" {
            var fail = k
            fail.measure = "fitness_fail"
            if keySet.contains(fail) { groups.append(Group(total: nil, members: [k, fail], denominatorsAdd: false)) }
        }
        return groups
    }

    /// Until no group has exactly one hidden value among its total and members: hide the smallest other value
    /// (a member before the total; ties by key).
    static func settle(_ hidden: inout Set<Key>, groups: [Group], value: (Key) -> Int) {
        var changed = true
        while changed {
            changed = false
            for g in groups {
                let all = (g.total.map { [$0] } ?? []) + g.members
                guard all.filter(hidden.contains).count == 1 else { continue }
                let candidates = all.filter { !hidden.contains($0) }.sorted {
                    ($0 == g.total ? 1 : 0, value($0), $0) < ($1 == g.total ? 1 : 0, value($1), $1)
                }
                if let next = candidates.first { hidden.insert(next); changed = true }
            }
        }
    }

    // MARK: - The linear audit

    /// Makes sure no hidden cell among `keys` (one family, one year) is a linear combination of the published ones
    /// and the identities; hides more published cells until none is. (Cells are numbered once: this runs for
    /// every family and year of every report.)
    static func audit(keys: [Key], hidden: inout Set<Key>, value: (Key) -> Int, identities: ([Key], Set<Key>) -> [[(Key, Int)]]) {
        let number = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        let values = keys.map(value)
        var isHidden = keys.map(hidden.contains)
        let relationsIn = identities(keys.filter(\.isFinest), hidden)
        let rank = keys.map { k in (k.area == countyArea ? 3 : 0) + (k.grade == nil ? 1 : 0) + (k.sex == nil ? 1 : 0) }
        // The same inputs give the same pattern: a server answering many reports on the same data audits once.
        let input = AuditInput(keys: keys, values: values, hidden: isHidden, relations: relationsIn.map { $0.map { "\($0.0.measure)|\($0.0.area)|\($0.0.grade ?? -1)|\($0.0.sex ?? -1)|\($0.1)" } })
        if let known = auditCache.withLock({ $0[input] }) {
            for (i, k) in keys.enumerated() where known[i] { hidden.insert(k) }
            return
        }
        defer {
            let result = keys.map(hidden.contains)
            auditCache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[input] = result
            }
        }
        let finest = keys.indices.filter { keys[$0].isFinest }
        let coarse = keys.indices.filter { !keys[$0].isFinest }
        // The finest cells each coarse cell adds up.
        var members = [[Int]](repeating: [], count: keys.count)
        for f in finest {
            let k = keys[f]
            for area in [k.area, countyArea] {
                for (g, s) in [(nil, nil), (k.grade, nil), (nil, k.sex), (k.grade, k.sex)] as [(Int?, Int?)] {
                    if let c = number[Key(measure: k.measure, area: area, year: k.year, grade: g, sex: s)], c != f { members[c].append(f) }
                }
            }
        }
        let relations = relationsIn.map { $0.compactMap { k, c in number[k].map { ($0, c) } } }
        while true {
            var column = [Int](repeating: -1, count: keys.count)
            var width = 0
            for f in finest where isHidden[f] { column[f] = width; width += 1 }
            let targets = keys.indices.filter { isHidden[$0] }
            guard !targets.isEmpty else { break }
            var span = ModP.Span(width: width)
            // Rows: the published coarse cells, and the identities; each with the published cells it rests on.
            var rows: [(unknowns: [Int], cells: [Int])] = []
            func add(_ terms: [(Int, Int)], cells: [Int]) {
                var dense = [Int64](repeating: 0, count: width)
                var used: [Int] = []
                for (cell, coef) in terms where column[cell] >= 0 {
                    dense[column[cell]] = ModP.add(dense[column[cell]], Int64(coef))
                    used.append(column[cell])
                }
                guard !used.isEmpty else { return }
                span.insert(dense)
                rows.append((used, cells))
            }
            for c in coarse where !isHidden[c] { add(members[c].map { ($0, 1) }, cells: [c]) }
            for r in relations { add(r, cells: r.map(\.0).filter { !isHidden[$0] }) }
            // The hidden cells that the published ones determine; for each, one more published cell to hide: one
            // whose equation shares an unknown with it, preferring a published finest cell inside those sums (the
            // sums stay published), then the finest sum (a school's margin before its total, before the county's),
            // then the smallest value, then the key; if its equations rest on hidden cells only, one equation
            // further, and so on. Then the audit runs again. (Measured on a 20,000-student county, this hides fewer
            // totals than the smallest value alone: 49 of 405 against 60.)
            var added = Set<Int>()
            // A target (a sum of unknowns) is determined iff every vector of the null space sums to 0 over it.
            let null = span.nullSpace()
            for t in targets {
                let support = keys[t].isFinest ? [column[t]] : members[t].compactMap { column[$0] >= 0 ? column[$0] : nil }
                let determined = null.allSatisfy { n in support.reduce(Int64(0)) { ($0 + n[$1]) % ModP.p } == 0 }
                guard support.isEmpty || determined else { continue }
                var frontier = Set(support)
                var visited = frontier
                var candidates = Set<Int>()
                if frontier.isEmpty { candidates = Set(members[t].filter { !isHidden[$0] }) }
                while candidates.isEmpty && !frontier.isEmpty {
                    let touching = rows.filter { !frontier.isDisjoint(with: $0.unknowns) }
                    // Prefer a published sibling: a finest cell in one of those sums (the sums stay published).
                    candidates = Set(touching.flatMap { $0.cells.flatMap { c in keys[c].isFinest ? [c] : members[c].filter { !isHidden[$0] } } })
                    if candidates.isEmpty { candidates = Set(touching.flatMap(\.cells)) }
                    frontier = Set(touching.flatMap(\.unknowns)).subtracting(visited)
                    visited.formUnion(frontier)
                }
                // One hide per leak and round; a cell chosen for an earlier leak of this round may already cover it.
                guard candidates.isDisjoint(with: added), let next = candidates.min(by: { (rank[$0], values[$0], $0) < (rank[$1], values[$1], $1) }) else { continue }
                added.insert(next)
            }
            guard !added.isEmpty else { break }
            for a in added { isHidden[a] = true }
        }
        for (i, k) in keys.enumerated() where isHidden[i] { hidden.insert(k) }
    }
}

struct AuditInput: Hashable, Sendable {
    var keys: [TrendReportBuilder.Key]
    var values: [Int]
    var hidden: [Bool]
    var relations: [[String]]
}

private let auditCache = Mutex<[AuditInput: [Bool]]>([:])

/// Exact linear algebra modulo 2^31 − 1, for the audit (sparse rows).
enum ModP {
    static let p: Int64 = 2_147_483_647
    static func add(_ a: Int64, _ b: Int64) -> Int64 { ((a + b) % p + p) % p }
    static func mul(_ a: Int64, _ b: Int64) -> Int64 { (a % p) * (b % p) % p }
    static func inverse(_ a: Int64) -> Int64 {
        var result: Int64 = 1, base = ((a % p) + p) % p, e = p - 2
        while e > 0 {
            if e & 1 == 1 { result = mul(result, base) }
            base = mul(base, base)
            e >>= 1
        }
        return result
    }

    /// Rows in echelon form over `width` columns, dense (the audits have at most a few hundred unknowns): each
    /// stored row has a pivot column, with coefficient 1, that every later row has eliminated.
    struct Span {
        let width: Int
        var rows: [[Int64]] = []
        var pivots: [Int] = []
        init(width: Int) { self.width = width }

        func reduce(_ row: [Int64]) -> [Int64] {
            var r = row
            for (k, pivot) in pivots.enumerated() {
                let f = r[pivot]
                guard f != 0 else { continue }
                let stored = rows[k]
                for c in pivot..<width where stored[c] != 0 {
                    r[c] = (r[c] - f * stored[c] % p + p) % p
                }
            }
            return r
        }

        mutating func insert(_ row: [Int64]) {
            let r = reduce(row)
            guard let pivot = r.firstIndex(where: { $0 != 0 }) else { return }
            let inv = inverse(r[pivot])
            rows.append(r.map { $0 * inv % p })
            pivots.append(pivot)
        }

        /// A basis of the vectors orthogonal to every row: one per column without a pivot. A sum of columns is in
        /// the span iff every basis vector sums to 0 over them.
        func nullSpace() -> [[Int64]] {
            // Fully reduce (each pivot column zero in every other row), last row first.
            var r = rows
            for i in r.indices.reversed() {
                for k in 0..<i {
                    let f = r[k][pivots[i]]
                    guard f != 0 else { continue }
                    for c in pivots[i]..<width where r[i][c] != 0 { r[k][c] = (r[k][c] - f * r[i][c] % p + p) % p }
                }
            }
            let pivotSet = Set(pivots)
            return (0..<width).filter { !pivotSet.contains($0) }.map { free in
                var n = [Int64](repeating: 0, count: width)
                n[free] = 1
                for (i, pivot) in pivots.enumerated() where r[i][free] != 0 { n[pivot] = (p - r[i][free]) % p }
                return n
            }
        }
    }
}

extension Breakdown {
    /// Whether a table broken down this way shows the cell (totals always).
    func shows(_ k: TrendReportBuilder.Key) -> Bool {
        switch (k.grade, k.sex) {
        case (nil, nil): return true
        case (.some, nil): return self == .grade
        case (nil, .some): return self == .sex
        case (.some, .some): return self == .gradeSex
        }
    }
}
