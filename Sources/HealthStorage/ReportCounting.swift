public import HealthCore
import Foundation

/// One screening as the report pass reads it. Vision: a = myopic, b = poor-vision band, c = myopia grade;
/// spine: a = lateral positive, b = sagittal abnormal, c = any abnormality. -1 for NULL.
package struct CountedRow {
    package var year: Int32
    /// The school's number in `ReportAggregator.schools`.
    package var school: Int32
    package var grade: Int16
    package var sex: Int8
    package var complete: Bool
    package var a: Int8
    package var b: Int8
    package var c: Int8

    package init(year: Int32, school: Int32, grade: Int16, sex: Int8, complete: Bool, a: Int8, b: Int8, c: Int8) {
        self.year = year; self.school = school; self.grade = grade; self.sex = sex; self.complete = complete
        self.a = a; self.b = b; self.c = c
    }
}

/// SQLite's BINARY order of two texts: memcmp, then the shorter first.
package enum ByteOrder {
    package static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }
}

/// Groups one student's rows (read in key order) and picks the counted screening of each school year.
package struct StudentTracker {
    private var current: [UInt8] = []
    private var rows: [CountedRow] = []

    package init() {
        current.reserveCapacity(64)
        rows.reserveCapacity(16)
    }

    package mutating func add(id: UnsafeBufferPointer<UInt8>, row: CountedRow, latest: Bool, flush: ([CountedRow]) -> Void) {
        if current.withUnsafeBufferPointer({ ByteOrder.compare($0, id) }) != 0 {
            finish(flush)
            current.removeAll(keepingCapacity: true)
            current.append(contentsOf: id)
        }
        if let last = rows.last, last.year == row.year {
            if latest { rows[rows.count - 1] = row }   // key order is date order: the later screening replaces
        } else {
            rows.append(row)
        }
    }

    package mutating func finish(_ flush: ([CountedRow]) -> Void) {
        if !rows.isEmpty { flush(rows) }
        rows.removeAll(keepingCapacity: true)
    }
}

/// Adds up counted screenings into strata. Schools are numbered as they come; each stratum's counts are
/// one slice of a flat array (no allocation per row).
package struct ReportAggregator {
    package init() {}
    struct Key: Hashable { var school: Int32; var year: Int32; var grade: Int16; var sex: Int8 }
    struct FollowKey: Hashable { var school: Int32; var year: Int32 }
    /// Vision: screened, myopic, high, pvScreened, pv, pv1, pv2, pv3 / spine: screened, lateral, sagittal, abnormal /
    /// fitness: scored, good, pass, fail, measured, overweight, obese, tested, exempt.
    struct Table {
        let width: Int
        var slots: [Key: Int] = [:]
        var counts: [Int] = []
        init(width: Int) { self.width = width }
        /// The first of `key`'s counts.
        mutating func base(_ key: Key) -> Int {
            if let b = slots[key] { return b }
            let b = counts.count
            counts.append(contentsOf: repeatElement(0, count: width))
            slots[key] = b
            return b
        }
    }
    var vision = Table(width: 8)
    var spineCounts = Table(width: 4)
    var fitnessCounts = Table(width: 9)
    var follow: [FollowKey: (atRisk: Int, followed: Int, incident: Int)] = [:]
    private(set) var schools: [String] = []
    /// Every school year a row was read in.
    var years: Set<Int> = []
    private var schoolNumbers: [String: Int32] = [:]
    private var lastSchool: (bytes: [UInt8], number: Int32) = ([], -1)

    package mutating func intern(_ school: String) -> Int32 {
        var s = school
        return s.withUTF8 { intern($0) }
    }

    /// The school's number: one String per school code, not one per row.
    package mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        if lastSchool.number >= 0, lastSchool.bytes.withUnsafeBufferPointer({ ByteOrder.compare($0, bytes) }) == 0 { return lastSchool.number }
        let s = String(decoding: bytes, as: UTF8.self)
        let number: Int32
        if let n = schoolNumbers[s] {
            number = n
        } else {
            number = Int32(schools.count)
            schools.append(s)
            schoolNumbers[s] = number
        }
        lastSchool = (Array(bytes), number)
        return number
    }

    package mutating func vision(_ rows: [CountedRow]) {
        for (i, r) in rows.enumerated() {
            years.insert(Int(r.year))
            let b = vision.base(Key(school: r.school, year: r.year, grade: r.grade, sex: r.sex))
            if r.complete {
                vision.counts[b] += 1
                if r.a == 1 { vision.counts[b + 1] += 1 }
                if r.c == 3 { vision.counts[b + 2] += 1 }
                if r.b >= 0 {
                    vision.counts[b + 3] += 1
                    if r.b > 0 { vision.counts[b + 4] += 1 }
                    if (1...3).contains(r.b) { vision.counts[b + 4 + Int(r.b)] += 1 }
                }
            }
            // Incidence: not myopic at a complete screening, followed to the next school year (the last year
            // counted has no next year: a report drops the follow-ups from its own last year).
            if r.complete, r.a == 0 {
                let f = FollowKey(school: r.school, year: r.year)
                var counts = follow[f] ?? (0, 0, 0)
                counts.atRisk += 1
                if i + 1 < rows.count, rows[i + 1].year == r.year + 1, rows[i + 1].complete {
                    counts.followed += 1
                    if rows[i + 1].a == 1 { counts.incident += 1 }
                }
                follow[f] = counts
            }
        }
    }

    package mutating func spine(_ rows: [CountedRow]) {
        for r in rows {
            years.insert(Int(r.year))
            let b = spineCounts.base(Key(school: r.school, year: r.year, grade: r.grade, sex: r.sex))
            if r.complete {
                spineCounts.counts[b] += 1
                if r.a == 1 { spineCounts.counts[b + 1] += 1 }        // lateral_positive
                if r.b == 1 { spineCounts.counts[b + 2] += 1 }        // sagittal_abnormal
                if r.c == 1 { spineCounts.counts[b + 3] += 1 }        // abnormal
            }
        }
    }

    package mutating func fitness(school: Int32, year: Int, grade: Int, sex: Int, status: Int, band: Int?, bmi: Int?) {
        years.insert(year)
        let b = fitnessCounts.base(Key(school: school, year: Int32(truncatingIfNeeded: year), grade: Int16(truncatingIfNeeded: grade), sex: Int8(truncatingIfNeeded: sex)))
        if status == 0 {
            fitnessCounts.counts[b] += 1
            if let band {
                if band <= 1 { fitnessCounts.counts[b + 1] += 1 }
                if band <= 2 { fitnessCounts.counts[b + 2] += 1 }
                if band == 3 { fitnessCounts.counts[b + 3] += 1 }
            }
        }
        if let bmi {
            fitnessCounts.counts[b + 4] += 1
            if bmi == 2 { fitnessCounts.counts[b + 5] += 1 }
            if bmi == 3 { fitnessCounts.counts[b + 6] += 1 }
        }
        fitnessCounts.counts[b + 7] += 1
        if status == 2 { fitnessCounts.counts[b + 8] += 1 }
    }

    static let visionMeasures = [("myopia", 1, 0), ("high_myopia", 2, 0), ("poor_vision", 4, 3), ("poor_vision_mild", 5, 3),
                                 ("poor_vision_moderate", 6, 3), ("poor_vision_severe", 7, 3)]
    static let spineMeasures = [("spine_lateral_positive", 1, 0), ("spine_sagittal_abnormal", 2, 0), ("spine_abnormal", 3, 0)]
    static let fitnessMeasures = [("fitness_excellent_good", 1, 0), ("fitness_pass", 2, 0), ("fitness_fail", 3, 0),
                                  ("overweight", 5, 4), ("obesity", 6, 4), ("fitness_exempt", 8, 7)]
    /// Per measure: its family (0 vision, 1 spine, 2 fitness) and its place within the family.
    private static let measureRank: [String: (family: Int, place: Int)] = {
        var rank: [String: (family: Int, place: Int)] = [:]
        for (family, measures) in [visionMeasures, spineMeasures, fitnessMeasures].enumerated() {
            for (place, m) in measures.enumerated() { rank[m.0] = (family, place) }
        }
        return rank
    }()

    /// Strata in the one order the counts are kept and compared in: by family of measure, then school, year,
    /// grade and sex, then measure.
    package static func inCountingOrder(_ strata: [StratumCount]) -> [StratumCount] {
        strata.sorted { a, b in
            let ra = measureRank[a.measure] ?? (3, 0), rb = measureRank[b.measure] ?? (3, 0)
            if ra.family != rb.family { return ra.family < rb.family }
            if (a.school, a.year, a.grade, a.sex) != (b.school, b.year, b.grade, b.sex) { return (a.school, a.year, a.grade, a.sex) < (b.school, b.year, b.grade, b.sex) }
            return ra.place < rb.place
        }
    }

    package func result() -> CountedReport {
        var out: [StratumCount] = []
        let schools = self.schools
        func emit(_ table: Table, _ measures: [(String, Int, Int)]) {
            for (k, b) in table.slots {
                let c = table.counts[b..<(b + table.width)]
                for (measure, num, den) in measures where c[b + den] > 0 || c[b + num] > 0 {
                    out.append(StratumCount(measure: measure, school: schools[Int(k.school)], year: Int(k.year), grade: Int(k.grade), sex: Int(k.sex),
                                            numerator: c[b + num], denominator: c[b + den]))
                }
            }
        }
        emit(vision, Self.visionMeasures)
        emit(spineCounts, Self.spineMeasures)
        emit(fitnessCounts, Self.fitnessMeasures)
        out = Self.inCountingOrder(out)
        let followUps = follow.sorted { (schools[Int($0.key.school)], $0.key.year) < (schools[Int($1.key.school)], $1.key.year) }.map {
            FollowUpCount(school: schools[Int($0.key.school)], fromYear: Int($0.key.year), atRisk: $0.value.atRisk,
                          followed: $0.value.followed, incident: $0.value.incident)
        }
        return CountedReport(strata: out, followUps: followUps, years: years.sorted())
    }
}

/// Every year's counts: what a report is cut from, what the SQLite backend keeps (`report_tally`), and what both
/// backends must equal on the same files.
package struct CountedReport: Equatable, Sendable {
    package var strata: [StratumCount]
    package var followUps: [FollowUpCount]
    package var years: [Int]

    package init(strata: [StratumCount], followUps: [FollowUpCount], years: [Int]) {
        self.strata = strata; self.followUps = followUps; self.years = years
    }

    /// These counts with `before` taken away and `after` added (the same students' counts before and after
    /// a write). Strata left empty are dropped, as counting would not emit them; the years stay (a year
    /// whose last screening was erased keeps an empty column until the next full count).
    package func replacing(_ before: CountedReport, with after: CountedReport) -> CountedReport {
        struct K: Hashable { var measure: String; var school: String; var year: Int; var grade: Int; var sex: Int }
        var order: [K] = []
        var sums: [K: (Int, Int)] = [:]
        func add(_ list: [StratumCount], _ sign: Int) {
            for s in list {
                let k = K(measure: s.measure, school: s.school, year: s.year, grade: s.grade, sex: s.sex)
                if sums[k] == nil { order.append(k) }
                let v = sums[k] ?? (0, 0)
                sums[k] = (v.0 + sign * s.numerator, v.1 + sign * s.denominator)
            }
        }
        add(strata, 1); add(before.strata, -1); add(after.strata, 1)
        struct F: Hashable { var school: String; var year: Int }
        var fOrder: [F] = []
        var fSums: [F: (Int, Int, Int)] = [:]
        func addF(_ list: [FollowUpCount], _ sign: Int) {
            for f in list {
                let k = F(school: f.school, year: f.fromYear)
                if fSums[k] == nil { fOrder.append(k) }
                let v = fSums[k] ?? (0, 0, 0)
                fSums[k] = (v.0 + sign * f.atRisk, v.1 + sign * f.followed, v.2 + sign * f.incident)
            }
        }
        addF(followUps, 1); addF(before.followUps, -1); addF(after.followUps, 1)
        let strata = ReportAggregator.inCountingOrder(order.filter { sums[$0]!.0 != 0 || sums[$0]!.1 != 0 }
            .map { StratumCount(measure: $0.measure, school: $0.school, year: $0.year, grade: $0.grade, sex: $0.sex, numerator: sums[$0]!.0, denominator: sums[$0]!.1) })
        let follow = fOrder.filter { fSums[$0]!.0 != 0 || fSums[$0]!.1 != 0 || fSums[$0]!.2 != 0 }
            .sorted { ($0.school, $0.year) < ($1.school, $1.year) }
            .map { FollowUpCount(school: $0.school, fromYear: $0.year, atRisk: fSums[$0]!.0, followed: fSums[$0]!.1, incident: fSums[$0]!.2) }
        return CountedReport(strata: strata, followUps: follow, years: Array(Set(years).union(after.years)).sorted())
    }
}
