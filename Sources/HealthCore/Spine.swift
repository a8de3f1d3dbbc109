/// The side a forward-bend (Adam) test found higher, per segment (前屈试验).
public enum TrunkSide: Int, Sendable, CaseIterable {
    /// 无侧弯
    case none = 1
    /// 左低右高
    case rightHigh = 2
    /// 右低左高
    case leftHigh = 3
}

/// Side-view (sagittal) finding: 一般检查 (side) and 俯卧试验 (prone test).
public enum SagittalSign: Int, Sendable, CaseIterable {
    case normal = 0
    /// 前凸体征
    case lordosis = 1
    /// 后凸体征
    case kyphosis = 2
    /// 平背
    case flatBack = 3
}

/// A segment of the spine examined in the forward-bend test.
public enum SpineSegment: String, Sendable, CaseIterable {
    case thoracic, thoracolumbar, lumbar
    public var label: String {
        switch self {
        case .thoracic: return "胸段"
        case .thoracolumbar: return "胸腰段"
        case .lumbar: return "腰段"
        }
    }
}

/// One segment's forward-bend finding.
public struct SegmentFinding: Sendable, Equatable {
    public var side: TrunkSide?
    /// Angle of trunk rotation in tenths of a degree.
    public var atrTenths: Int?
    /// What the form's 1–5 code said about the angle when no angle was measured: ≥ 5° or not.
    public var atrAtLeastFive: Bool?
    public init(side: TrunkSide? = nil, atrTenths: Int? = nil, atrAtLeastFive: Bool? = nil) {
        self.side = side; self.atrTenths = atrTenths; self.atrAtLeastFive = atrAtLeastFive
    }
}

/// A spine screening as on the national surveillance form (DOMAIN.md §2.2).
public struct SpineScreening: Sendable, Equatable {
    public var studentID: StudentID
    public var sex: Sex
    public var birthDate: CivilDate?
    public var schoolCode: String
    public var grade: GradeCode
    public var className: String?
    public var screeningDate: CivilDate
    /// 一般检查 codes 1–6 (1 正常 … 6 棘突连线倾斜或偏离正中线); several may be found.
    public var generalInspection: [Int]
    public var segments: [SpineSegment: SegmentFinding]
    /// 脊柱运动试验: true when the finding persisted.
    public var motionTestPositive: Bool?
    public var sagittalInspection: SagittalSign?
    /// 俯卧试验: `.normal` means the sign disappeared lying prone (postural).
    public var proneTest: SagittalSign?
    /// 疾病史 codes (0 无, 1 家族史, 2 外伤史, 3 手术史).
    public var history: [Int]

    public init(studentID: StudentID, sex: Sex, birthDate: CivilDate?, schoolCode: String, grade: GradeCode, className: String?,
                screeningDate: CivilDate, generalInspection: [Int] = [], segments: [SpineSegment: SegmentFinding] = [:],
                motionTestPositive: Bool? = nil, sagittalInspection: SagittalSign? = nil, proneTest: SagittalSign? = nil, history: [Int] = []) {
        self.studentID = studentID; self.sex = sex; self.birthDate = birthDate; self.schoolCode = schoolCode; self.grade = grade
        self.className = className; self.screeningDate = screeningDate; self.generalInspection = generalInspection
        self.segments = segments; self.motionTestPositive = motionTestPositive; self.sagittalInspection = sagittalInspection
        self.proneTest = proneTest; self.history = history
    }
}

/// The spine rule set of `Config/rules/spine.yaml`.
public struct SpineRules: Decodable, Sendable {
    public struct ATRBand: Decodable, Sendable { public var band: Int; public var from: Double }
    public struct GradeBand: Decodable, Sendable { public var grade: Int; public var fromAtr: Double }
    public struct Grades: Decodable, Sendable {
        public var confirmed: Bool
        public var note: String
        public var bands: [GradeBand]
    }
    public var ruleSet: String
    public var version: String
    public var sources: [String]
    public var atrBands: [ATRBand]
    public var positiveAtrFrom: Double
    public var grades: Grades
    public var maxAtr: Double
    public var schoolYearStartMonth: Int
    public var versionTag: String = ""

    enum CodingKeys: String, CodingKey {
        case ruleSet, version, sources, atrBands, positiveAtrFrom, grades, maxAtr, schoolYearStartMonth
    }
}

/// What the form's suggestion line should say (DOMAIN.md §2.2 item 7).
public enum SpineSuggestion: Int, Sendable {
    /// 保持健康方式
    case healthyHabits = 0
    /// 随访
    case followUp = 1
    /// 进一步检查确认 (refer: standing full-spine radiograph, Cobb angle)
    case refer = 2
    public var label: String { ["保持健康方式", "随访", "进一步检查确认"][rawValue] }
}

/// The classification of a spine screening; lateral and sagittal findings are kept apart.
public struct SpineClassification: Sendable, Equatable {
    /// ATR band 0–3 per segment (nil when neither angle nor form code is known).
    public var atrBands: [SpineSegment: Int]
    public var maxAtrTenths: Int?
    /// Any segment with a side other than 无侧弯 (DOMAIN.md §2.4).
    public var lateralFinding: Bool
    /// ATR at or above the referral threshold in any segment.
    public var lateralPositive: Bool
    /// Ⅰ/Ⅱ/Ⅲ by the largest ATR; its mapping is unconfirmed unless the rules say otherwise.
    public var grade: Int?
    public var gradeConfirmed: Bool
    /// A sagittal sign that did not disappear in the prone test (or was seen with no prone test done).
    public var sagittal: SagittalSign
    public var sagittalAbnormal: Bool
    /// Lateral finding or sagittal abnormality: the numerator of the abnormality rate.
    public var abnormal: Bool
    public var suggestion: SpineSuggestion
    /// Enough data to count in a rate: every segment's side or angle.
    public var complete: Bool
    public var ruleVersion: String
}

extension SpineRules {
    /// Classifies by DOMAIN.md §2.2–§2.4 with these thresholds.
    public func classify(_ s: SpineScreening) -> SpineClassification {
        var bands: [SpineSegment: Int] = [:]
        var maxATR: Int?
        var lateral = false
        var positive = false
        var complete = true
        let positiveFrom = tenths(positiveAtrFrom)
        for segment in SpineSegment.allCases {
            let f = s.segments[segment] ?? SegmentFinding()
            if let side = f.side, side != .none { lateral = true }
            if let atr = f.atrTenths {
                maxATR = max(maxATR ?? atr, atr)
                bands[segment] = atrBands.filter { atr >= tenths($0.from) }.map(\.band).max() ?? 0
                if atr >= positiveFrom { positive = true }
            } else if let five = f.atrAtLeastFive {
                // Only the form's code: < 5° or ≥ 5°.
                bands[segment] = five ? 1 : 0
                if five { positive = true }
            }
            if f.side == nil && f.atrTenths == nil && f.atrAtLeastFive == nil { complete = false }
        }
        var grade: Int?
        if let maxATR {
            grade = self.grades.bands.filter { maxATR >= tenths($0.fromAtr) }.map(\.grade).max()
        }
        let sign = s.sagittalInspection ?? .normal
        var sagittal = SagittalSign.normal
        if sign != .normal {
            if let prone = s.proneTest {
                sagittal = prone == .normal ? .normal : prone
            } else {
                sagittal = sign
            }
        }
        let sagittalAbnormal = sagittal != .normal
        let suggestion: SpineSuggestion = positive || sagittalAbnormal ? .refer
            : (lateral || sign != .normal || s.generalInspection.contains { $0 > 1 } ? .followUp : .healthyHabits)
        return SpineClassification(
            atrBands: bands, maxAtrTenths: maxATR, lateralFinding: lateral, lateralPositive: positive,
            grade: grade, gradeConfirmed: grades.confirmed, sagittal: sagittal, sagittalAbnormal: sagittalAbnormal,
            abnormal: lateral || positive || sagittalAbnormal, suggestion: suggestion, complete: complete,
            ruleVersion: versionTag.isEmpty ? version : versionTag)
    }

    private func tenths(_ v: Double) -> Int { Int((v * 10).rounded()) }
}
