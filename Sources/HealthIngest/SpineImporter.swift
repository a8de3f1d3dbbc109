import Foundation
import HealthCore
import HealthStore

/// Spine screenings (GB/T 16133-2014 surveillance form): validation and classification.
///
/// Reads every notation the layouts write: the forward-bend result as a form code or a name, alone or with
/// its Ⅰ/Ⅱ/Ⅲ degree (`左低右高、Ⅱ`); ATR in degrees or as the form's band; the motion test as done/not done or as
/// its result, and ATR measured after it; the side view and prone test, or 前后弯曲 as a result with its degree;
/// the surveillance questionnaire's yes/no items.
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
    let map: HeaderMap
    private let student: StudentColumns
    private let general, motion, sagittal, prone, history, sagittalResult: Int?
    /// The questionnaire's yes/no items: 一般检查 codes 1–6 and the three kinds of history, one column each.
    private let generalFlags: [(code: Int, column: Int)]
    private let historyFlags: [(code: Int, column: Int)]
    private let side, atr, atrAfter: [SpineSegment: Int]
    /// Every finding column of the file, for "was this student screened at all".
    private let findingColumns: [Int]
    private var reader: RowReader
    private var incomplete = 0
    private var postural = 0
    private var degreesWritten = 0

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        rules = config.spine
        self.options = options
        self.map = map
        ageBounds = config.vision.bounds.studentAgeYears.min...config.vision.bounds.studentAgeYears.max
        reader = RowReader(map: map)
        student = StudentColumns(map)
        let c = map.index
        (general, motion, sagittal, prone, history) = (c["general_inspection"], c["motion_test"], c["sagittal_inspection"], c["prone_test"], c["history"])
        sagittalResult = c["sagittal_result"]
        generalFlags = (1...6).compactMap { code in c["general_inspection_\(code)"].map { (code, $0) } }
        historyFlags = [(1, "history_family"), (2, "history_trauma"), (3, "history_surgery")].compactMap { code, key in c[key].map { (code, $0) } }
        func perSegment(_ prefix: String) -> [SpineSegment: Int] {
            Dictionary(uniqueKeysWithValues: SpineSegment.allCases.compactMap { s in c["\(prefix)\(s.rawValue)"].map { (s, $0) } })
        }
        side = perSegment("side_")
        atr = perSegment("atr_")
        atrAfter = perSegment("atr_after_")
        findingColumns = [general, motion, sagittal, prone, sagittalResult].compactMap { $0 } + Array(side.values) + Array(atr.values)
            + Array(atrAfter.values) + generalFlags.map(\.column)
    }

    var warnings: [ReasonText] {
        var notes: [ReasonText] = []
        if incomplete > 0 { notes.append("\(incomplete) screening(s) lack a forward-bend result for some segment; they are stored but not counted in rates") }
        if let note = reader.notMeasuredNote { notes.append(note) }
        if postural > 0 {
            notes.append("\(postural) screening(s) with a lateral finding that disappeared in the motion test: 姿态不良 (postural), not counted as a curvature (\(rules.motionTest.confirmed ? "" : "rule UNCONFIRMED: ")\(rules.motionTest.note))")
        }
        if degreesWritten > 0 { notes.append("\(degreesWritten) segment(s) carry a Ⅰ/Ⅱ/Ⅲ degree written in the file; it is kept as written") }
        if !rules.grades.confirmed { notes.append("Ⅰ/Ⅱ/Ⅲ grades are shown with their mapping UNCONFIRMED: \(rules.grades.note)") }
        return notes
    }

    static func write(_ record: Record, line: Int, into session: any ScreeningBatchWriter) throws -> RowWrite {
        .outcome(try session.write(spine: record.screening, classification: record.classification, schoolYear: record.schoolYear, line: line))
    }

    private mutating func angle(_ record: CSVRecord, _ column: Int?) -> SpineParsers.ATRReading? {
        let maxTenths = Int((rules.maxAtr * 10).rounded())
        return reader.value(record, column) { raw throws(FieldProblem) in try SpineParsers.atr(raw, maxTenths: maxTenths) }
    }

    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record> {
        reader.begin()
        if findingColumns.allSatisfy({ FieldParsers.trimmed(reader.raw(record, $0)).isEmpty }) {
            reader.add(nil, value: "", reason: "has no finding at all (every spine cell is empty): the student was not screened, so nothing is stored. A cell marked -- is read as not measured and the screening is kept")
            return .rejected(line: record.line, reader.problems)
        }
        let who = student.read(record, into: &reader, options: options, ageBounds: ageBounds)
        var segments: [SpineSegment: SegmentFinding] = [:]
        for segment in SpineSegment.allCases {
            var finding = SegmentFinding()
            if let bend = reader.value(record, side[segment], SpineParsers.forwardBend) {
                finding.side = bend.side
                finding.atrAtLeastFive = bend.atLeastFive
                finding.degree = bend.degree
                if bend.degree != nil { degreesWritten += 1 }
            }
            switch angle(record, atr[segment]) {
            case .degrees(let t)?: finding.atrTenths = t
            case .band(let b)?: finding.atrBand = b
            case .atLeastFive?: finding.atrAtLeastFive = true
            case nil: break
            }
            switch angle(record, atrAfter[segment]) {
            case .degrees(let t)?: finding.atrAfterTenths = t
            case .band(let b)?: finding.atrAfterBand = b
            case .atLeastFive?: finding.atrAfterBand = rules.positiveBand
            case nil: break
            }
            let band = finding.atrTenths.map { rules.band(ofTenths: $0) } ?? finding.atrBand
            if let band, let column = atr[segment] {
                let value = FieldParsers.display(reader.raw(record, column))
                if let five = finding.atrAtLeastFive, (band >= rules.positiveBand) != five {
                    reader.add(column, value: value, reason: "contradicts the forward-bend result of the \(segment.label) (which says ATR \(five ? "≥" : "<") 5°)")
                } else if finding.side == TrunkSide.none, band >= rules.positiveBand {
                    reader.add(column, value: value, reason: "is ATR ≥ 5° but the forward-bend result of the \(segment.label) is 无侧弯; correct one of them")
                }
            }
            segments[segment] = finding
        }
        let motionTest = reader.value(record, motion, SpineParsers.motionTest)
        var generalInspection = reader.value(record, general, SpineParsers.generalInspection) ?? []
        for (code, column) in generalFlags where reader.value(record, column, FieldParsers.yesNo) == true { generalInspection.append(code) }
        var history = reader.value(record, history, SpineParsers.history) ?? []
        for (code, column) in historyFlags where reader.value(record, column, FieldParsers.yesNo) == true { history.append(code) }
        let result = reader.value(record, sagittalResult, SpineParsers.sagittalResult)
        let screeningInput = SpineScreening(
            studentID: who.id ?? StudentID(""), sex: who.sex ?? .male, birthDate: who.birth, schoolCode: who.school ?? "",
            grade: who.grade ?? GradeCode(11)!, className: who.className, classCode: who.classCode, screeningDate: who.date ?? CivilDate(daysSinceEpoch: 0),
            generalInspection: Array(Set(generalInspection)).sorted(),
            segments: segments,
            motionTestDone: motionTest?.done, motionTestPersisted: motionTest?.persisted,
            sagittalInspection: reader.value(record, sagittal) { raw throws(FieldProblem) in try SpineParsers.sagittal(raw, prone: false) },
            proneTest: reader.value(record, prone) { raw throws(FieldProblem) in try SpineParsers.sagittal(raw, prone: true) },
            sagittalResult: result?.sign, sagittalDegree: result?.degree,
            history: Array(Set(history)).sorted())
        guard reader.problems.isEmpty, who.id != nil, who.sex != nil, who.school != nil, who.grade != nil, let date = who.date else {
            return .rejected(line: record.line, reader.problems)
        }
        let classification = rules.classify(screeningInput)
        if !classification.complete { incomplete += 1 }
        if classification.postural { postural += 1 }
        return .record(Record(screening: screeningInput, classification: classification,
                              schoolYear: date.schoolYear(startMonth: rules.schoolYearStartMonth)), line: record.line)
    }
}

/// Parsers for the spine form's fields.
enum SpineParsers {
    enum ATRReading: Equatable { case degrees(Int), band(Int), atLeastFive }

    /// Ⅰ/Ⅱ/Ⅲ written after a finding: Ⅱ, II, 2, Ⅱ度, 2级, 二度.
    static func degree(_ text: String) -> Int? {
        let t = text.replacingOccurrences(of: "度", with: "").replacingOccurrences(of: "级", with: "").trimmingCharacters(in: .whitespaces)
        switch t.uppercased() {
        case "Ⅰ", "I", "1", "一": return 1
        case "Ⅱ", "II", "2", "二": return 2
        case "Ⅲ", "III", "3", "三": return 3
        default: return nil
        }
    }

    /// Splits "左低右高、Ⅱ" into the finding and what follows it (the degree), at 、 ， , ; or a space.
    static func splitDegree(_ s: String) -> (String, String?) {
        guard let i = s.firstIndex(where: { "、，,;； ".contains($0) }) else { return (s, nil) }
        let rest = s[s.index(after: i)...].trimmingCharacters(in: .whitespaces)
        return (String(s[..<i]), rest.isEmpty ? nil : rest)
    }

    /// 前屈试验 per segment: form code 1–5 or a name (无侧弯, 左低右高, 右低左高, optionally with "ATR<5°"/"ATR≥5°"),
    /// alone or with the degree a platform writes after it (左低右高、Ⅱ).
    static func forwardBend(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> (side: TrunkSide, atLeastFive: Bool?, degree: Int?)? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        switch s {
        case "1": return (.none, false, nil)
        case "2": return (.rightHigh, false, nil)
        case "3": return (.rightHigh, true, nil)
        case "4": return (.leftHigh, false, nil)
        case "5": return (.leftHigh, true, nil)
        default: break
        }
        let t = s.replacingOccurrences(of: "＜", with: "<").replacingOccurrences(of: "≥", with: ">=").replacingOccurrences(of: "＞", with: ">")
        let (finding, degreeText) = splitDegree(t)
        var degree: Int?
        if let degreeText, !degreeText.hasPrefix("ATR"), !degreeText.hasPrefix("<"), !degreeText.hasPrefix(">") {
            guard let d = Self.degree(degreeText) else {
                throw FieldProblem(reason: "has \"\(degreeText)\" after the finding, which is not a degree Ⅰ, Ⅱ or Ⅲ: the finding is not stored without its degree; correct the value")
            }
            degree = d
        }
        let compact = t.replacingOccurrences(of: " ", with: "")
        let five: Bool? = compact.contains(">=5") ? true : (compact.contains("<5") ? false : nil)
        if finding.hasPrefix("无侧弯") || finding == "无" || finding == "正常" || finding.lowercased() == "none" {
            if let degree { throw FieldProblem(reason: "is 无侧弯 (no lateral curvature) with a degree \(["Ⅰ", "Ⅱ", "Ⅲ"][degree - 1]); correct one of them") }
            return (.none, false, nil)
        }
        if finding.hasPrefix("左低右高") { return (.rightHigh, five, degree) }
        if finding.hasPrefix("右低左高") { return (.leftHigh, five, degree) }
        throw FieldProblem(reason: "is not a forward-bend result: use 1–5 (1 无侧弯, 2/3 左低右高 ATR<5°/≥5°, 4/5 右低左高 ATR<5°/≥5°) or 无侧弯, 左低右高, 右低左高 (with its degree: 左低右高、Ⅱ)")
    }

    /// ATR in degrees (6, 6.5, 6°) or as the form's band: its labels (ATR＜5°, 5°≤ATR＜7°, 7°≤ATR＜10°, ATR≥10°),
    /// their short forms (<5, 5-7, 7-10, ≥10) or ≥5 alone. A layout's band codes (1–4) are rewritten to labels first.
    static func atr(_ raw: UnsafeBufferPointer<UInt8>, maxTenths: Int) throws(FieldProblem) -> ATRReading? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        let t = s.precomposedStringWithCompatibilityMapping
            .replacingOccurrences(of: "°", with: "").replacingOccurrences(of: "度", with: "").replacingOccurrences(of: " ", with: "")
            .replacingOccurrences(of: "≥", with: ">=").replacingOccurrences(of: "≤", with: "<=").replacingOccurrences(of: "～", with: "-")
            .replacingOccurrences(of: "~", with: "-").replacingOccurrences(of: "ATR", with: "").replacingOccurrences(of: "atr", with: "")
        switch t {
        case "<5": return .band(0)
        case "5-7", "5-<7", "5<=<7", ">=5<7": return .band(1)
        case "7-10", "7-<10", "7<=<10", ">=7<10": return .band(2)
        case ">=10", ">10": return .band(3)
        case ">=5", ">5": return .atLeastFive
        default: break
        }
        let bytes = Array(t.utf8)
        let parsed = bytes.withUnsafeBufferPointer { FieldParsers.milli($0) }
        guard let m = parsed, let milli = m, milli >= 0, milli % 100 == 0 else {
            throw FieldProblem(reason: "is not an angle of trunk rotation: write degrees (e.g. 6 or 6.5) or a band (ATR<5°, 5°≤ATR<7°, 7°≤ATR<10°, ATR≥10°)")
        }
        guard milli / 100 <= maxTenths else { throw FieldProblem(reason: "is more than \(maxTenths / 10)°, more than a scoliometer reads") }
        return .degrees(milli / 100)
    }

    /// 脊柱运动试验: done or not (是/否, 做/未做, 已做) or its result (体征消失 / 体征未消失, which says it was done).
    static func motionTest(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> (done: Bool, persisted: Bool?)? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        switch s.lowercased().replacingOccurrences(of: " ", with: "") {
        case "是", "做", "已做", "1", "y", "yes", "done": return (true, nil)
        case "否", "未做", "不做", "0", "2", "n", "no": return (false, nil)
        case "体征消失", "消失", "阴性", "侧弯消失", "体征已消失": return (true, false)
        case "体征未消失", "未消失", "阳性", "侧弯未消失", "体征存在", "存在": return (true, true)
        default: throw FieldProblem(reason: "is not a motion-test entry: 是/否 (做/未做) or its result 体征消失 / 体征未消失")
        }
    }

    /// 前后弯曲 as a result: 无前后弯曲异常 (or 正常), 前凸异常, 后凸异常, 平背 — with a degree after it (前凸异常、Ⅱ).
    static func sagittalResult(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> (sign: SagittalSign, degree: Int?)? {
        guard let s = try FieldParsers.text(raw) else { return nil }
        let (finding, degreeText) = splitDegree(s)
        var degree: Int?
        if let degreeText {
            guard let d = Self.degree(degreeText) else {
                throw FieldProblem(reason: "has \"\(degreeText)\" after the finding, which is not a degree Ⅰ, Ⅱ or Ⅲ: the finding is not stored without its degree; correct the value")
            }
            degree = d
        }
        let sign: SagittalSign
        switch finding {
        case "无前后弯曲异常", "正常", "无", "1": sign = .normal
        case "前凸异常", "前凸", "2": sign = .lordosis
        case "后凸异常", "后凸", "3": sign = .kyphosis
        case "平背", "4": sign = .flatBack
        default: throw FieldProblem(reason: "is not a 前后弯曲 result: 无前后弯曲异常, 前凸异常, 后凸异常 or 平背 (with its degree: 前凸异常、Ⅱ)")
        }
        if sign == .normal, degree != nil { throw FieldProblem(reason: "is 无前后弯曲异常 with a degree; correct one of them") }
        return (sign, degree)
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
