import Foundation
import HealthCore
import HealthRisk
import HealthStore

/// Psychological screening scores: validated per instrument, evaluated by the risk rules, flags raised.
struct PsychImporter: RecordImporter {
    struct Record: Sendable {
        var student: String
        var sex: Sex
        var school: String
        var grade: GradeCode
        var className: String?
        var date: CivilDate
        var schoolYear: Int
        var scores: PsychScores
        var rule: RiskRule?
        /// The rule's version and the rule set's tag with its SHA-256 prefix (`RiskRules.recordedVersion`).
        var ruleVersion: String?
        var deadlines: DeadlinePolicy
        var now: Int
    }
    static let kind = ScreeningKind.psych
    static let profileKind = "psych"
    static func ruleVersion(_ config: SchoolHealthConfig) -> String { config.risk.versionTag }

    let rules: RiskRules
    let options: ImportOptions
    private let student: StudentColumns
    private let instrument, total, item9, validity, item85, item97, positive, factorMax, informant: Int?
    private let items: [Int?]
    private var reader: RowReader
    private var flagged: [Tier: Int] = [:]
    private var doubtful = 0

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        rules = config.risk
        self.options = options
        reader = RowReader(map: map)
        student = StudentColumns(map)
        let c = map.index
        (instrument, total, item9, validity, item85, item97) = (c["instrument"], c["total"], c["item9"], c["validity"], c["item85"], c["item97"])
        (positive, factorMax, informant) = (c["positive_items"], c["factor_max"], c["informant"])
        items = (1...9).map { c["phq9_q\($0)"] }
    }

    var warnings: [ReasonText] {
        var w = Tier.allCases.compactMap { t in flagged[t].map { n -> ReasonText in "\(n) \(t.rawValue) flag(s) raised by rules \(rules.version) (\(rules.status))" } }
        if doubtful > 0 { w.append("\(doubtful) MHT result(s) with validity (测谎) ≥ 7: answers doubtful, retest; not flagged on the total") }
        return w
    }

    static func write(_ record: Record, line: Int, into session: any ScreeningBatchWriter) throws -> RowWrite {
        .outcome(try session.write(psych: record.scores, student: record.student, sex: record.sex.rawValue, school: record.school,
                                   grade: record.grade.rawValue, className: record.className, date: record.date.description,
                                   schoolYear: record.schoolYear, rule: record.rule, ruleVersion: record.ruleVersion, deadlines: record.deadlines, now: record.now, line: line))
    }

    private mutating func score(_ record: CSVRecord, _ column: Int?, _ range: ClosedRange<Int>, what: String) -> Int? {
        reader.value(record, column) { raw throws(FieldProblem) in
            guard let parsed = FieldParsers.milli(raw) else { throw FieldProblem(reason: "is not a number") }
            guard let m = parsed else { return nil }
            guard m % 1000 == 0, range.contains(m / 1000) else { throw FieldProblem(reason: "is not a whole \(what) from \(range.lowerBound) to \(range.upperBound)") }
            return m / 1000
        }
    }

    private mutating func yesNo(_ record: CSVRecord, _ column: Int?) -> Int? {
        reader.value(record, column) { raw throws(FieldProblem) in
            guard let s = try FieldParsers.text(raw) else { return nil }
            switch s.lowercased() {
            case "是", "1", "yes", "y": return 1
            case "否", "0", "no", "n": return 0
            default: throw FieldProblem(reason: "is not 是 or 否")
            }
        }
    }

    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record> {
        reader.begin()
        let who = student.read(record, into: &reader, options: options, ageBounds: 5...25)
        let instrument: Instrument? = reader.value(record, self.instrument) { raw throws(FieldProblem) in
            guard let s = try FieldParsers.text(raw) else { return nil }
            let key = s.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: " ", with: "")
            let names: [String: Instrument] = ["phq9": .phq9, "phqa": .phq9, "gad7": .gad7, "mht": .mht, "心理健康诊断测验": .mht,
                                               "scl90": .scl90, "sdq": .sdq, "长处和困难问卷": .sdq]
            guard let i = names[key] else { throw FieldProblem(reason: "is not an instrument SchoolHealth knows: PHQ-9, GAD-7, MHT, SCL-90, SDQ") }
            return i
        }
        var scores = PsychScores(instrument: instrument ?? .phq9)
        if let instrument {
            switch instrument {
            case .phq9:
                scores.total = score(record, total, 0...27, what: "PHQ-9 total")
                scores.item9 = score(record, item9, 0...3, what: "PHQ-9 item-9 score")
                let itemScores = items.map { column in score(record, column, 0...3, what: "PHQ-9 item score") }
                if itemScores.allSatisfy({ $0 != nil }) {
                    let sum = itemScores.reduce(0) { $0 + $1! }
                    if let t = scores.total, t != sum {
                        reader.add(total, value: String(t), reason: "does not equal the sum of the nine items (\(sum))")
                    }
                    scores.total = sum
                    if let i9 = scores.item9, i9 != itemScores[8]! { reader.add(item9, value: String(i9), reason: "differs from item 9 in the item columns") }
                    scores.item9 = itemScores[8]
                }
                if scores.total == nil, !reader.hasProblem(total) { reader.add(total, value: "", reason: "is empty: PHQ-9 needs its total (or all nine items)") }
                if scores.item9 == nil, !reader.hasProblem(item9) { reader.add(item9, value: "", reason: "is empty: PHQ-9 needs item 9 (self-harm thoughts) to be screened for risk") }
            case .gad7:
                scores.total = score(record, total, 0...21, what: "GAD-7 total")
                if scores.total == nil, !reader.hasProblem(total) { reader.add(total, value: "", reason: "is empty: GAD-7 needs its total") }
            case .mht:
                scores.total = score(record, total, 0...90, what: "MHT total")
                scores.validity = score(record, validity, 0...10, what: "MHT validity score")
                scores.item85 = yesNo(record, item85)
                scores.item97 = yesNo(record, item97)
                if scores.total == nil, !reader.hasProblem(total) { reader.add(total, value: "", reason: "is empty: MHT needs its total") }
                if let v = scores.validity, v >= 7 { doubtful += 1 }
            case .scl90:
                scores.total = score(record, total, 90...450, what: "SCL-90 total")
                scores.positiveItems = score(record, positive, 0...90, what: "count of positive items")
                scores.factorMaxHundredths = reader.value(record, factorMax) { raw throws(FieldProblem) in
                    guard let parsed = FieldParsers.milli(raw) else { throw FieldProblem(reason: "is not a factor mean") }
                    guard let m = parsed else { return nil }
                    guard (1000...5000).contains(m) else { throw FieldProblem(reason: "is not a factor mean from 1 to 5") }
                    return m / 10
                }
                if scores.total == nil, !reader.hasProblem(total) { reader.add(total, value: "", reason: "is empty: SCL-90 needs its total") }
            case .sdq:
                scores.total = score(record, total, 0...40, what: "SDQ total difficulties")
                scores.informant = reader.value(record, informant) { raw throws(FieldProblem) in
                    guard let s = try FieldParsers.text(raw) else { return nil }
                    switch s.lowercased() {
                    case "1", "家长", "parent": return 1
                    case "2", "教师", "老师", "teacher": return 2
                    case "3", "自评", "学生", "self": return 3
                    default: throw FieldProblem(reason: "is not an SDQ informant: 家长 parent, 教师 teacher or 自评 self")
                    }
                }
                if scores.total == nil, !reader.hasProblem(total) { reader.add(total, value: "", reason: "is empty: SDQ needs its total") }
                if scores.informant == nil, !reader.hasProblem(informant) { reader.add(informant, value: "", reason: "is empty: SDQ cut-offs depend on the informant") }
            }
        }
        guard reader.problems.isEmpty, let id = who.id, let sex = who.sex, let school = who.school, let grade = who.grade, let date = who.date else {
            return .rejected(line: record.line, reader.problems)
        }
        let rule = rules.evaluate(scores)
        if let rule { flagged[rule.tier, default: 0] += 1 }
        // A flag's clock starts at the screening (noon, China time), so an old screening imported late is already overdue.
        let now = date.daysSinceEpoch * 86400 + 4 * 3600
        return .record(Record(student: id.rawValue, sex: sex, school: school, grade: grade, className: who.className, date: date,
                              schoolYear: date.schoolYear(startMonth: 9), scores: scores, rule: rule, ruleVersion: rule.map(rules.recordedVersion), deadlines: rules.deadlines, now: now),
                       line: record.line)
    }
}
