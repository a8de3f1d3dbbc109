import Foundation
import HealthCore
import HealthStore

/// Physical-fitness tests in the national 2014 upload template: validation, scoring by the 2014 standard,
/// and comparison with any scores the file itself carries.
struct FitnessImporter: RecordImporter {
    struct Record: Sendable {
        var fitness: FitnessRecord
        var result: FitnessResult
    }
    static let kind = ScreeningKind.fitness
    static let profileKind = "fitness"
    static func ruleVersion(_ config: SchoolHealthConfig) -> String { config.fitness.versionTag }
    static func fixedFields(_ options: ImportOptions) -> Set<String> { [] }

    static func check(_ map: HeaderMap, options: ImportOptions, file: String) throws(IngestError) {
        if options.schoolYear == nil && map.index["test_date"] == nil {
            throw .missingOption(file: file, reason: "the national template has no test date, so the school year is unknown: pass --school-year YEAR (e.g. 2024 for the 2024–2025 school year)")
        }
    }

    let rules: FitnessRules
    let options: ImportOptions
    private let student: StudentColumns
    private let classCode, height, weight, sitUpFemale, extStandard, extBonus, extTotal, extBand: Int?
    /// The legacy combined columns, read by sex: 1000/800米跑 and 引体向上/仰卧起坐.
    private let enduranceCombined, strengthCombined: Int?
    private let items: [(item: FitnessItem, column: Int?, bounds: ClosedRange<Double>)]
    private let heightBounds, weightBounds, sitUpBounds: ClosedRange<Double>
    private var reader: RowReader
    private var notes: [RowProblem] = []
    private var counts = (exempt: 0, incomplete: 0, unscoredItems: 0, weak: 0)

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        rules = config.fitness
        self.options = options
        reader = RowReader(map: map)
        student = StudentColumns(map, date: "test_date")
        let c = map.index
        (classCode, height, weight, sitUpFemale) = (c["class_code"], c["height"], c["weight"], c["sit_up_1min_female"])
        (extStandard, extBonus, extTotal, extBand) = (c["ext_standard"], c["ext_bonus"], c["ext_total"], c["ext_band"])
        (enduranceCombined, strengthCombined) = (c["run_1000m_800m"], c["pull_up_sit_up"])
        let bounds = config.fitness.bounds
        func bound(_ key: String) -> ClosedRange<Double> { bounds[key] ?? -1e9...1e9 }
        items = [FitnessItem.vitalCapacity, .run50m, .standingLongJump, .sitAndReach, .shuttle50x8, .ropeSkip, .run800m, .run1000m, .sitUp, .pullUp]
            .map { ($0, c[$0.rawValue], bound($0.rawValue)) }
        (heightBounds, weightBounds, sitUpBounds) = (bound("height_cm"), bound("weight_kg"), bound("sit_up_1min"))
    }

    var warnings: [ReasonText] {
        var w: [ReasonText] = []
        if counts.exempt > 0 { w.append("\(counts.exempt) exempt student(s) (免体): stored, counted apart, never in a denominator") }
        if counts.incomplete > 0 { w.append("\(counts.incomplete) student(s) miss an item their grade requires: stored as incomplete, not scored, counted apart") }
        if counts.unscoredItems > 0 { w.append("\(counts.unscoredItems) value(s) for items the student's grade and sex are not tested on were stored but not scored") }
        if let note = reader.notMeasuredNote { w.append(note) }
        if counts.weak > 0 { w.append("\(counts.weak) score(s) rest on table rows marked SINGLE SOURCE, PARTIAL or CONFLICT (see weak_items in fitness_test_readable)") }
        return w
    }

    mutating func takeNotes() -> [RowProblem] {
        defer { notes.removeAll(keepingCapacity: true) }
        return notes
    }

    static func write(_ record: Record, line: Int, into session: any ScreeningBatchWriter) throws -> RowWrite {
        switch try session.write(fitness: record.fitness, result: record.result, line: line) {
        case let .written(outcome, _): return .outcome(outcome)
        case .unplaced: return .unplaced(student: record.fitness.studentID.rawValue)
        }
    }


    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record> {
        reader.begin()
        let who = student.read(record, into: &reader, options: options, schoolRequired: false, dateRequired: false, ageBounds: 3...30)
        let classCode = reader.text(record, self.classCode)
        // 免体 in 身高 marks an exempt student (UpController).
        var exempt = false
        var heightMM: Int?
        if let h = height {
            let raw = record.field(h)
            let b = FieldParsers.trimmed(raw)
            if b.count >= 3, b[0] == 0xE5, b[1] == 0x85, b[2] == 0x8D { exempt = true } else {   // "免" (免体, 免测)
                let b = heightBounds
                heightMM = reader.value(record, h, required: true) { raw throws(FieldProblem) in
                    try FitnessParsers.measure(raw, bounds: b, unit: "cm", decimals: 1).map { $0 }   // tenths of a cm = mm
                }
            }
        }
        let weightBounds = self.weightBounds, sitUpBounds = self.sitUpBounds
        let weight = exempt ? nil : reader.value(record, self.weight, required: true) { raw throws(FieldProblem) in
            try FitnessParsers.measure(raw, bounds: weightBounds, unit: "kg", decimals: 1)
        }
        var results = ItemValues()
        for (item, column, b) in items {
            let v: Int? = reader.value(record, column) { raw throws(FieldProblem) in
                switch item {
                case .run800m, .run1000m, .shuttle50x8: return try FitnessParsers.minutesSeconds(raw, bounds: b)
                case .run50m: return try FitnessParsers.sprint(raw, bounds: b)
                case .sitAndReach, .standingLongJump: return try FitnessParsers.measure(raw, bounds: b, unit: "cm", decimals: 1)
                default: return try FitnessParsers.count(raw, bounds: b)
                }
            }
            if let v { results[item] = v }
        }
        if let sex = who.sex {
            // 1000/800米跑: boys run 1000 m, girls 800 m. 引体向上/仰卧起坐: junior and senior boys do pull-ups,
            // girls and every primary pupil sit-ups (the district template's combined columns, read by sex).
            let boy = sex == .male
            let primary = (who.grade?.rawValue ?? 0) < 21
            let run = boy ? FitnessItem.run1000m : .run800m, strength = boy && !primary ? FitnessItem.pullUp : .sitUp
            let runBounds = items.first { $0.item == run }!.bounds, strengthBounds = items.first { $0.item == strength }!.bounds
            for (column, item, b) in [(enduranceCombined, run, runBounds), (strengthCombined, strength, strengthBounds)] {
                guard let v = reader.value(record, column, { raw throws(FieldProblem) in
                    item == .run1000m || item == .run800m ? try FitnessParsers.minutesSeconds(raw, bounds: b) : try FitnessParsers.count(raw, bounds: b)
                }) else { continue }
                if let other = results[item], other != v {
                    reader.add(column, value: FieldParsers.display(reader.raw(record, column!)), reason: "differs from the \(item.rawValue) column on the same row")
                }
                results[item] = v
            }
        }
        if let female = reader.value(record, sitUpFemale, { raw throws(FieldProblem) in try FitnessParsers.count(raw, bounds: sitUpBounds) }) {
            if let other = results[.sitUp], other != female {
                reader.add(sitUpFemale, value: String(female / 10), reason: "differs from the other sit-up column (\(other / 10)) on the same row")
            }
            results[.sitUp] = female
        }
        let external = FitnessRecord.External(
            standardHundredths: reader.value(record, extStandard, FitnessParsers.points),
            bonusHundredths: reader.value(record, extBonus, FitnessParsers.points),
            totalHundredths: reader.value(record, extTotal, FitnessParsers.points),
            band: reader.value(record, extBand, FitnessParsers.band))
        var scoringGrade = who.grade?.rawValue
        if let g = scoringGrade {
            if options.fiveFour { scoringGrade = rules.fiveFourRemap[g] ?? g }
            if let sex = who.sex, rules.standard.weightsFor(grade: scoringGrade!, sex: sex) == nil {
                reader.add(student.grade, value: String(g), reason: g == 24
                           ? "is 初四, used only by 五四制 schools: import the file with --five-four"
                           : "has no scoring table in the 2014 standard")
            }
        }
        let schoolYear = options.schoolYear ?? who.date?.schoolYear(startMonth: 9)
        if schoolYear == nil { reader.add(student.date, value: "", reason: "is empty and no --school-year was given") }
        guard reader.problems.isEmpty, let id = who.id, let sex = who.sex, let grade = who.grade, let scoringGrade, let schoolYear else {
            return .rejected(line: record.line, reader.problems)
        }
        let test = FitnessTest(grade: scoringGrade, sex: sex, exempt: exempt, heightMillimetres: heightMM, weightTenthsKg: weight, results: results)
        let result = rules.standard.score(test)
        switch result.status {
        case .exempt: counts.exempt += 1
        case .incomplete: counts.incomplete += 1
        case .scored:
            if result.provenance != .verified { counts.weak += 1 }
            compare(external, with: result)
        }
        if let weights = rules.standard.weightsFor(grade: scoringGrade, sex: sex) {
            var tested = 0
            for item in FitnessItem.allCases where results[item] != nil { tested += 1 }
            counts.unscoredItems += tested - weights.filter { results[$0.item] != nil }.count
        }
        let fitness = FitnessRecord(studentID: id, schoolYear: schoolYear, testDate: who.date, schoolCode: who.school, grade: grade.rawValue,
                                    classCode: classCode, className: who.className, birthDate: who.birth, test: test, external: external)
        return .record(Record(fitness: fitness, result: result), line: record.line)
    }

    /// Every disagreement between a score in the file and ours becomes a note (both values are kept).
    private mutating func compare(_ external: FitnessRecord.External, with ours: FitnessResult) {
        guard !external.isEmpty else { return }
        let version = ours.ruleVersion
        func points(_ hundredths: Int) -> String { String(format: "%.1f", Double(hundredths) / 100) }
        // Scores are published with one decimal: differences within rounding are not disagreements.
        func check(_ column: Int?, _ theirs: Int?, _ mine: Int?, _ what: String) {
            guard let theirs, let mine, abs(theirs - mine) > 5 else { return }
            notes.append(RowProblem(column: column.map { reader.headers[$0] } ?? what, value: points(theirs),
                                    reason: "\(what) in the file is \(points(theirs)); SchoolHealth computes \(points(mine)) (rules \(version)). Both are kept"))
        }
        check(extStandard, external.standardHundredths, ours.standardHundredths, "标准分")
        check(extBonus, external.bonusHundredths, ours.bonus.map { $0 * 100 }, "附加分")
        check(extTotal, external.totalHundredths, ours.totalHundredths, "学年总分")
        if let theirs = external.band, let mine = ours.band, theirs != mine {
            notes.append(RowProblem(column: extBand.map { reader.headers[$0] } ?? "等级", value: theirs.label,
                                    reason: "等级 in the file is \(theirs.label); SchoolHealth computes \(mine.label) (rules \(version)). Both are kept"))
        }
    }
}

/// Parsers for the fitness template's values. Results are in tenths of the unit.
enum FitnessParsers {
    /// A length or mass with at most `decimals` decimals (e.g. 身高 135.5), in tenths.
    static func measure(_ raw: UnsafeBufferPointer<UInt8>, bounds: ClosedRange<Double>, unit: String, decimals: Int) throws(FieldProblem) -> Int? {
        let units = unit == "cm" ? FieldParsers.Units.centimetres : unit == "kg" ? FieldParsers.Units.kilograms : unit == "s" ? FieldParsers.Units.seconds : []
        guard let parsed = FieldParsers.milli(raw, units: units) else { throw FieldProblem(reason: "is not a number of \(unit)") }
        guard let m = parsed else { return nil }
        guard m % 100 == 0 else { throw FieldProblem(reason: "has more than one decimal") }
        guard bounds.contains(Double(m) / 1000) else {
            throw FieldProblem(reason: "is outside the plausible range \(bounds.lowerBound)–\(bounds.upperBound) \(unit)")
        }
        return m / 100
    }

    /// A count (肺活量 ml, 跳绳, 仰卧起坐, 引体向上): a whole number, in tenths.
    static func count(_ raw: UnsafeBufferPointer<UInt8>, bounds: ClosedRange<Double>) throws(FieldProblem) -> Int? {
        guard let parsed = FieldParsers.milli(raw, units: FieldParsers.Units.counts) else { throw FieldProblem(reason: "is not a whole number") }
        guard let m = parsed else { return nil }
        guard m % 1000 == 0 else { throw FieldProblem(reason: "is not a whole number") }
        guard bounds.contains(Double(m) / 1000) else {
            throw FieldProblem(reason: "is outside the plausible range \(Int(bounds.lowerBound))–\(Int(bounds.upperBound))")
        }
        return m / 100
    }

    /// 50 m in seconds with a decimal point ("50米跑只能用小数点分隔"), in tenths.
    static func sprint(_ raw: UnsafeBufferPointer<UInt8>, bounds: ClosedRange<Double>) throws(FieldProblem) -> Int? {
        var b = FieldParsers.trimmed(raw)
        if b.count > 3, b[b.count - 3] == 0xE7, b[b.count - 2] == 0xA7, b[b.count - 1] == 0x92 { b = UnsafeBufferPointer(rebasing: b[..<(b.count - 3)]) }   // 秒
        if b.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: ":") || $0 >= 0x80 }) {
            throw FieldProblem(reason: "must be seconds with a decimal point (e.g. 8.7), as the national template requires")
        }
        return try measure(b, bounds: bounds, unit: "s", decimals: 1)
    }

    /// Minute marks: ' ’ ‘ ′ : ： 分. Second marks (optional, at the end): " ” “ ″ '' 秒.
    private static let minuteMarks: [[UInt8]] = ["'", "’", "‘", "′", ":", "：", "分"].map { Array($0.utf8) }
    private static let secondMarks: [[UInt8]] = ["\"", "”", "“", "″", "''", "秒"].map { Array($0.utf8) }

    /// Endurance and shuttle runs: m′ss″ written with any of ' ’ ′ (and " ” ″ or nothing after the seconds),
    /// 3分55秒, 3:55, or m.ss — seconds at most 59. Returned in tenths of a second.
    static func minutesSeconds(_ raw: UnsafeBufferPointer<UInt8>, bounds: ClosedRange<Double>) throws(FieldProblem) -> Int? {
        let b = FieldParsers.trimmed(raw)
        if b.isEmpty { return nil }
        let bad = FieldProblem(reason: "is not a run time: write minutes and seconds as 3′55″, 3'55\", 3.55 or 3:55")
        var i = 0
        var minutes = 0, minuteDigits = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39, minuteDigits < 3 { minutes = minutes * 10 + Int(b[i] - 0x30); i += 1; minuteDigits += 1 }
        guard minuteDigits > 0, i < b.count else {
            throw FieldProblem(reason: "has no minutes and seconds: write 3′55″ or 3.55 (m.ss)")
        }
        func matches(_ mark: [UInt8], at position: Int) -> Bool {
            position + mark.count <= b.count && (0..<mark.count).allSatisfy { b[position + $0] == mark[$0] }
        }
        let dotted = b[i] == UInt8(ascii: ".")
        if dotted {
            i += 1
        } else if let mark = minuteMarks.first(where: { matches($0, at: i) }) {
            i += mark.count
        } else {
            throw bad
        }
        var seconds = 0, secondDigits = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { seconds = seconds * 10 + Int(b[i] - 0x30); i += 1; secondDigits += 1 }
        if i < b.count {
            guard !dotted, let mark = secondMarks.first(where: { matches($0, at: i) }), i + mark.count == b.count else { throw bad }
        }
        if dotted && secondDigits == 1 {
            throw FieldProblem(reason: "is ambiguous: \(minutes).\(seconds) is probably \(minutes)′\(seconds)0″ with its trailing zero dropped by Excel (the run time was typed as a number), but it could be \(minutes)′0\(seconds)″; write \(minutes).\(seconds)0 or \(minutes)′\(seconds)0″ (or format the column as Text in Excel before typing)")
        }
        if dotted && secondDigits != 2 {
            throw FieldProblem(reason: "is ambiguous: in m.ss notation the seconds need two digits (3.05 or 3.50)")
        }
        guard secondDigits <= 2, secondDigits > 0 || !dotted else { throw bad }
        guard seconds <= 59 else { throw FieldProblem(reason: "has \(seconds) seconds; seconds run from 0 to 59") }
        let total = minutes * 60 + seconds
        guard bounds.contains(Double(total)) else {
            throw FieldProblem(reason: "is \(total) s, outside the plausible range \(Int(bounds.lowerBound))–\(Int(bounds.upperBound)) s")
        }
        return total * 10
    }

    /// A score with up to two decimals (标准分, 附加分, 总分), in hundredths.
    static func points(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> Int? {
        guard let parsed = FieldParsers.milli(raw, units: FieldParsers.Units.points) else { throw FieldProblem(reason: "is not a score") }
        guard let m = parsed else { return nil }
        guard (0...130_000).contains(m) else { throw FieldProblem(reason: "is not a score between 0 and 130") }
        return m / 10
    }

    static func band(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> FitnessBand? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        if let band = FitnessBand.allCases.first(where: { $0.label == s }) { return band }
        throw FieldProblem(reason: "is not a grade band: 优秀, 良好, 及格 or 不及格")
    }
}
