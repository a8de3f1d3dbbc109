import Foundation
import HealthCore
import HealthStore

/// Spine screenings (GB/T 16133-2014 surveillance form): validation and classification.
struct SpineImporter: RecordImporter {
    struct Record: Sendable {
        var screening: SpineScreening
        var classification: SpineClassification
        var schoolYear: Int
    }
    static let kind = ScreeningKind.spine
    static let profileKind = "spine"
    static func ruleVersion(_ config: SchoolHealthConfig) -> String { config.spine.versionTag }

    let rules: SpineRules
    let options: ImportOptions
    let ageBounds: ClosedRange<Double>
    private let student: StudentColumns
    private let general, motion, sagittal, prone, history: Int?
    private let side: [SpineSegment: Int?]
    private let atr: [SpineSegment: Int?]
    private var reader: RowReader
    private var incomplete = 0

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        rules = config.spine
        self.options = options
        ageBounds = config.vision.bounds.studentAgeYears.min...config.vision.bounds.studentAgeYears.max
        reader = RowReader(headers: map.headers)
        student = StudentColumns(map)
        let c = map.index
        (general, motion, sagittal, prone, history) = (c["general_inspection"], c["motion_test"], c["sagittal_inspection"], c["prone_test"], c["history"])
        side = Dictionary(uniqueKeysWithValues: SpineSegment.allCases.map { ($0, c["side_\($0.rawValue)"]) })
        atr = Dictionary(uniqueKeysWithValues: SpineSegment.allCases.map { ($0, c["atr_\($0.rawValue)"]) })
    }

    var warnings: [String] {
        var notes: [String] = []
        if incomplete > 0 { notes.append("\(incomplete) screening(s) lack a forward-bend result for some segment; they are stored but not counted in rates") }
        if !rules.grades.confirmed { notes.append("Ⅰ/Ⅱ/Ⅲ grades are shown with their mapping UNCONFIRMED: \(rules.grades.note)") }
        return notes
    }

    static func write(_ record: Record, line: Int, into session: ImportSession) throws -> RowWrite {
        .outcome(try session.write(spine: record.screening, classification: record.classification, schoolYear: record.schoolYear, line: line))
    }

    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record> {
        reader.begin()
        let who = student.read(record, into: &reader, options: options, ageBounds: ageBounds)
        var segments: [SpineSegment: SegmentFinding] = [:]
        let maxAtr = Int((rules.maxAtr * 10).rounded())
        for segment in SpineSegment.allCases {
            var finding = SegmentFinding()
            if let (s, five) = reader.value(record, side[segment] ?? nil, SpineParsers.forwardBend) {
                finding.side = s
                finding.atrAtLeastFive = five
            }
            if let reading = reader.value(record, atr[segment] ?? nil, { raw throws(FieldProblem) in try SpineParsers.atr(raw, maxTenths: maxAtr) }) {
                switch reading {
                case .degrees(let t): finding.atrTenths = t
                case .band(let atLeastFive): finding.atrAtLeastFive = atLeastFive
                }
            }
            if let t = finding.atrTenths, let five = finding.atrAtLeastFive, (t >= 50) != five {
                reader.add(atr[segment] ?? nil, value: String(Double(t) / 10),
                           reason: "contradicts the forward-bend code of the \(segment.label) (which says ATR \(five ? "≥" : "<") 5°)")
            }
            segments[segment] = finding
        }
        let screeningInput = SpineScreening(
            studentID: who.id ?? StudentID(""), sex: who.sex ?? .male, birthDate: who.birth, schoolCode: who.school ?? "",
            grade: who.grade ?? GradeCode(11)!, className: who.className, screeningDate: who.date ?? CivilDate(daysSinceEpoch: 0),
            generalInspection: reader.value(record, general, SpineParsers.generalInspection) ?? [],
            segments: segments,
            motionTestPositive: reader.value(record, motion, SpineParsers.yesNo),
            sagittalInspection: reader.value(record, sagittal) { raw throws(FieldProblem) in try SpineParsers.sagittal(raw, prone: false) },
            proneTest: reader.value(record, prone) { raw throws(FieldProblem) in try SpineParsers.sagittal(raw, prone: true) },
            history: reader.value(record, history, SpineParsers.history) ?? [])
        guard reader.problems.isEmpty, who.id != nil, who.sex != nil, who.school != nil, who.grade != nil, let date = who.date else {
            return .rejected(line: record.line, reader.problems)
        }
        let classification = rules.classify(screeningInput)
        if !classification.complete { incomplete += 1 }
        return .record(Record(screening: screeningInput, classification: classification,
                              schoolYear: date.schoolYear(startMonth: rules.schoolYearStartMonth)), line: record.line)
    }
}

/// Parsers for the spine form's fields.
enum SpineParsers {
    enum ATRReading { case degrees(Int), band(atLeastFive: Bool) }

    /// 前屈试验 per segment: form code 1–5 or a name (无侧弯, 左低右高, 右低左高, optionally with "ATR<5°"/"ATR≥5°").
    static func forwardBend(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> (TrunkSide, Bool?)? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        switch s {
        case "1": return (.none, false)
        case "2": return (.rightHigh, false)
        case "3": return (.rightHigh, true)
        case "4": return (.leftHigh, false)
        case "5": return (.leftHigh, true)
        default: break
        }
        let t = s.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "＜", with: "<").replacingOccurrences(of: "≥", with: ">=")
        let five: Bool? = t.contains(">=5") ? true : (t.contains("<5") ? false : nil)
        if t.hasPrefix("无侧弯") || t == "无" || t == "正常" || t.lowercased() == "none" { return (.none, false) }
        if t.hasPrefix("左低右高") { return (.rightHigh, five) }
        if t.hasPrefix("右低左高") { return (.leftHigh, five) }
        throw FieldProblem(reason: "is not a forward-bend result: use 1–5 (1 无侧弯, 2/3 左低右高 ATR<5°/≥5°, 4/5 右低左高 ATR<5°/≥5°) or 无侧弯, 左低右高, 右低左高")
    }

    /// ATR in degrees (6, 6.5, 6°) or as a form band (<5°, 5-7°, 7-10°, ≥10°).
    static func atr(_ raw: UnsafeBufferPointer<UInt8>, maxTenths: Int) throws(FieldProblem) -> ATRReading? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        let t = s.replacingOccurrences(of: "°", with: "").replacingOccurrences(of: "度", with: "").replacingOccurrences(of: " ", with: "")
            .replacingOccurrences(of: "＜", with: "<").replacingOccurrences(of: "≥", with: ">=").replacingOccurrences(of: "～", with: "-")
            .replacingOccurrences(of: "~", with: "-").replacingOccurrences(of: "ATR", with: "")
        switch t {
        case "<5": return .band(atLeastFive: false)
        case "5-7", "5-<7", ">=5", "7-10", "7-<10", ">=10": return .band(atLeastFive: true)
        default: break
        }
        let bytes = Array(t.utf8)
        let parsed = bytes.withUnsafeBufferPointer { FieldParsers.milli($0) }
        guard let m = parsed, let milli = m, milli >= 0, milli % 100 == 0 else {
            throw FieldProblem(reason: "is not an angle of trunk rotation: write degrees (e.g. 6 or 6.5) or a band (<5°, 5-7°, 7-10°, ≥10°)")
        }
        guard milli / 100 <= maxTenths else { throw FieldProblem(reason: "is more than \(maxTenths / 10)°, more than a scoliometer reads") }
        return .degrees(milli / 100)
    }

    static func yesNo(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> Bool? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        switch s.lowercased() {
        case "是", "1", "y", "yes", "阳性", "异常": return true
        case "否", "0", "2", "n", "no", "阴性", "正常": return false
        default: throw FieldProblem(reason: "is not 是 or 否")
        }
    }

    /// Side view (正常/前凸体征/后凸体征/平背, or 1–4) or prone test (前后凸体征消失/前凸体征/后凸体征, or 1–3).
    static func sagittal(_ raw: UnsafeBufferPointer<UInt8>, prone: Bool) throws(FieldProblem) -> SagittalSign? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        switch s {
        case "1", "正常", "无", "消失", "前后凸体征消失", "体征消失": return .normal
        case "2", "前凸", "前凸体征", "前凸异常": return .lordosis
        case "3", "后凸", "后凸体征", "后凸异常": return .kyphosis
        case "4", "平背": if !prone { return .flatBack }
        default: break
        }
        throw FieldProblem(reason: prone ? "is not a prone-test result: 前后凸体征消失, 前凸体征 or 后凸体征 (1–3)"
                                         : "is not a side-view finding: 正常, 前凸体征, 后凸体征 or 平背 (1–4)")
    }

    static func splitCodes(_ s: String) -> [String] {
        s.split(whereSeparator: { ";；,，、|/ ".contains($0) }).map(String.init)
    }

    /// 一般检查: one or more of 1–6 or their names.
    static func generalInspection(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> [Int]? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        let names = ["正常": 1, "双肩不等高": 2, "双侧肩胛骨下角不等高": 3, "两侧腰凹不对称": 4, "双侧髂嵴不等高": 5, "棘突连线倾斜或偏离正中线": 6]
        var codes: [Int] = []
        for part in splitCodes(s) {
            if let n = Int(part), (1...6).contains(n) { codes.append(n) } else if let n = names[part] { codes.append(n) } else {
                throw FieldProblem(reason: "is not a general-inspection finding: 1 正常 … 6 棘突连线倾斜或偏离正中线 (several may be separated by ;)")
            }
        }
        return codes.sorted()
    }

    /// 疾病史: 无 (0), 脊柱弯曲异常家族史 (1), 脊柱外伤病史 (2), 脊柱手术病史 (3); form codes 1–4 in that order.
    static func history(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> [Int]? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        let names = ["无": 0, "脊柱弯曲异常家族史": 1, "家族史": 1, "脊柱外伤病史": 2, "外伤史": 2, "脊柱手术病史": 3, "手术史": 3]
        var codes: [Int] = []
        for part in splitCodes(s) {
            if let n = Int(part), (1...4).contains(n) { codes.append(n - 1) } else if let n = names[part] { codes.append(n) } else {
                throw FieldProblem(reason: "is not a history entry: 无, 脊柱弯曲异常家族史, 脊柱外伤病史 or 脊柱手术病史 (1–4)")
            }
        }
        return codes.filter { $0 != 0 }.sorted()
    }
}
