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

/// One segment's findings: the forward-bend side, the angle of trunk rotation (ATR) in degrees or as the
/// form's band, the Ⅰ/Ⅱ/Ⅲ degree where a platform writes one, and the ATR measured again after the motion test.
public struct SegmentFinding: Sendable, Equatable {
    public var side: TrunkSide?
    /// Angle of trunk rotation in tenths of a degree.
    public var atrTenths: Int?
    /// What the form's 1–5 code said about the angle when no angle was measured: ≥ 5° or not.
    public var atrAtLeastFive: Bool?
    /// The form's ATR band when the file gives a band, not degrees: 0 < 5°, 1 5–7°, 2 7–10°, 3 ≥ 10°.
    public var atrBand: Int?
    /// Ⅰ/Ⅱ/Ⅲ (1–3) as the file writes it beside the side (the common-disease export: 左低右高、Ⅱ).
    public var degree: Int?
    /// ATR measured after the motion test, in tenths of a degree or as a band.
    public var atrAfterTenths: Int?
    public var atrAfterBand: Int?

    public init(side: TrunkSide? = nil, atrTenths: Int? = nil, atrAtLeastFive: Bool? = nil, atrBand: Int? = nil, degree: Int? = nil,
                atrAfterTenths: Int? = nil, atrAfterBand: Int? = nil) {
        self.side = side; self.atrTenths = atrTenths; self.atrAtLeastFive = atrAtLeastFive; self.atrBand = atrBand
        self.degree = degree; self.atrAfterTenths = atrAfterTenths; self.atrAfterBand = atrAfterBand
    }

    /// Whether the segment has any forward-bend finding at all (side, angle, band or degree).
    public var isRecorded: Bool { side != nil || atrTenths != nil || atrAtLeastFive != nil || atrBand != nil || degree != nil }
}

/// A spine screening as on the national surveillance form (DOMAIN.md §2.2).
public struct SpineScreening: Sendable, Equatable {
    public var studentID: StudentID
    public var sex: Sex
    public var birthDate: CivilDate?
    public var schoolCode: String
    public var grade: GradeCode
    public var className: String?
    public var classCode: String?
    public var screeningDate: CivilDate
    /// 一般检查 codes 1–6 (1 正常 … 6 棘突连线倾斜或偏离正中线); several may be found.
    public var generalInspection: [Int]
    public var segments: [SpineSegment: SegmentFinding]
    /// 脊柱运动试验 done (是/做) or not (否/未做).
    public var motionTestDone: Bool?
    /// Its result: true when the sign persisted (体征未消失), false when it disappeared (体征消失).
    public var motionTestPersisted: Bool?
    public var sagittalInspection: SagittalSign?
    /// 俯卧试验: `.normal` means the sign disappeared lying prone (postural).
    public var proneTest: SagittalSign?
    /// 前后弯曲 written as a result (无前后弯曲异常, 前凸异常, 后凸异常, 平背), with its Ⅰ/Ⅱ/Ⅲ degree.
    public var sagittalResult: SagittalSign?
    public var sagittalDegree: Int?
    /// 疾病史 codes (0 无, 1 家族史, 2 外伤史, 3 手术史).
    public var history: [Int]

    public init(studentID: StudentID, sex: Sex, birthDate: CivilDate?, schoolCode: String, grade: GradeCode, className: String?,
                classCode: String? = nil, screeningDate: CivilDate, generalInspection: [Int] = [],
                segments: [SpineSegment: SegmentFinding] = [:], motionTestDone: Bool? = nil, motionTestPersisted: Bool? = nil,
                sagittalInspection: SagittalSign? = nil, proneTest: SagittalSign? = nil, sagittalResult: SagittalSign? = nil,
                sagittalDegree: Int? = nil, history: [Int] = []) {
        self.studentID = studentID; self.sex = sex; self.birthDate = birthDate; self.schoolCode = schoolCode; self.grade = grade
        self.className = className; self.classCode = classCode; self.screeningDate = screeningDate
        self.generalInspection = generalInspection; self.segments = segments
        self.motionTestDone = motionTestDone; self.motionTestPersisted = motionTestPersisted
        self.sagittalInspection = sagittalInspection; self.proneTest = proneTest
        self.sagittalResult = sagittalResult; self.sagittalDegree = sagittalDegree; self.history = history
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
    /// How the motion test (脊柱运动试验) decides between 姿态不良 and a lateral curvature.
    public struct MotionTest: Decodable, Sendable {
        /// A lateral finding that disappears in the motion test (体征消失, or every ATR measured after it below
        /// `positiveAtrFrom`) is 姿态不良 (postural), not screen-positive.
        public var disappearingFindingIsPostural: Bool
        /// When ATR was measured again after the motion test, screen-positivity and the grade follow that angle.
        public var gradeByAtrAfterMotionTest: Bool
        public var confirmed: Bool
        public var note: String
    }
    public var ruleSet: String
    public var version: String
    public var sources: [String]
    public var atrBands: [ATRBand]
    public var positiveAtrFrom: Double
    public var grades: Grades
    public var motionTest: MotionTest
    public var maxAtr: Double
    public var schoolYearStartMonth: Int
    public var versionTag: String = ""

    enum CodingKeys: String, CodingKey {
        case ruleSet, version, sources, atrBands, positiveAtrFrom, grades, motionTest, maxAtr, schoolYearStartMonth
    }

    /// The ATR band (0–3) of an angle in tenths of a degree.
    public func band(ofTenths atr: Int) -> Int { atrBands.filter { atr >= tenths($0.from) }.map(\.band).max() ?? 0 }

    /// The ATR band a written Ⅰ/Ⅱ/Ⅲ degree stands for under the grade mapping (unconfirmed unless the rules say so).
    public func band(ofGrade grade: Int) -> Int? {
        guard let from = grades.bands.first(where: { $0.grade == grade })?.fromAtr else { return nil }
        return band(ofTenths: tenths(from))
    }

    /// The Ⅰ/Ⅱ/Ⅲ grade of an ATR band, or nil below the first grade.
    public func grade(ofBand band: Int) -> Int? {
        guard let from = atrBands.first(where: { $0.band == band })?.from else { return nil }
        return grades.bands.filter { tenths(from) >= tenths($0.fromAtr) }.map(\.grade).max()
    }

    /// The band of the referral threshold (ATR ≥ `positiveAtrFrom`).
    public var positiveBand: Int { band(ofTenths: tenths(positiveAtrFrom)) }

    fileprivate func tenths(_ v: Double) -> Int { Int((v * 10).rounded()) }
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
    /// 姿态不良: a lateral finding that disappeared in the motion test. Not counted as a curvature.
    public var postural: Bool
    /// Lateral finding (not postural) or sagittal abnormality: the numerator of the abnormality rate.
    public var abnormal: Bool
    public var suggestion: SpineSuggestion
    /// Enough data to count in a rate: every segment's side or angle.
    public var complete: Bool
    public var ruleVersion: String
}

extension SpineRules {
    /// Classifies by DOMAIN.md §2.2–§2.4 with these thresholds.
    ///
    /// Per segment the ATR band comes from the angle in degrees, else the form's band, else the written Ⅰ/Ⅱ/Ⅲ
    /// degree (through the grade mapping), else the forward-bend code's "≥ 5°". When the motion test was done
    /// and the finding disappeared it is 姿态不良, not a curvature; when ATR was measured again after the motion
    /// test, positivity and the grade follow that angle (`motionTest` in the rules).
    public func classify(_ s: SpineScreening) -> SpineClassification {
        var bands: [SpineSegment: Int] = [:]
        var maxATR: Int?
        var lateral = false
        var positive = false
        var complete = true
        var grade: Int?
        var afterBands: [Int] = []
        let positiveFrom = positiveBand
        for segment in SpineSegment.allCases {
            let f = s.segments[segment] ?? SegmentFinding()
            if let side = f.side, side != .none { lateral = true }
            var band: Int?
            /// Whether `band` is the segment's band, or only a lower bound (the forward-bend code's "≥ 5°").
            var exact = true
            if let atr = f.atrTenths {
                maxATR = max(maxATR ?? atr, atr)
                band = self.band(ofTenths: atr)
            } else if let b = f.atrBand {
                band = b
            } else if let d = f.degree, let b = self.band(ofGrade: d) {
                band = b
            } else if let five = f.atrAtLeastFive {
                band = five ? positiveFrom : 0
                exact = false
            }
            if let band {
                bands[segment] = band
                if band >= positiveFrom { positive = true }
                if exact, let g = f.degree ?? self.grade(ofBand: band) { grade = max(grade ?? g, g) }
            }
            if let after = f.atrAfterTenths.map({ self.band(ofTenths: $0) }) ?? f.atrAfterBand { afterBands.append(after) }
            if !f.isRecorded { complete = false }
        }
        // The motion test: did the finding persist?
        var persisted = s.motionTestPersisted
        if persisted == nil, !afterBands.isEmpty { persisted = afterBands.contains { $0 >= positiveFrom } }
        var postural = false
        if lateral || positive, s.motionTestDone != false, let persisted {
            if !persisted && motionTest.disappearingFindingIsPostural {
                postural = true
                positive = false
                grade = nil
            } else if persisted, motionTest.gradeByAtrAfterMotionTest, let after = afterBands.max() {
                positive = after >= positiveFrom
                grade = self.grade(ofBand: after)
            }
        }
        let sign = s.sagittalInspection ?? .normal
        var sagittal = SagittalSign.normal
        if let result = s.sagittalResult {
            sagittal = result
        } else if sign != .normal {
            if let prone = s.proneTest {
                sagittal = prone == .normal ? .normal : prone
            } else {
                sagittal = sign
            }
        }
        let sagittalAbnormal = sagittal != .normal
        let curvature = (lateral && !postural) || positive
        let suggestion: SpineSuggestion = positive || sagittalAbnormal ? .refer
            : (lateral || postural || sign != .normal || s.generalInspection.contains { $0 > 1 } ? .followUp : .healthyHabits)
        return SpineClassification(
            atrBands: bands, maxAtrTenths: maxATR, lateralFinding: lateral, lateralPositive: positive,
            grade: positive ? grade : nil, gradeConfirmed: grades.confirmed, sagittal: sagittal, sagittalAbnormal: sagittalAbnormal,
            postural: postural, abnormal: curvature || sagittalAbnormal, suggestion: suggestion, complete: complete,
            ruleVersion: versionTag.isEmpty ? version : versionTag)
    }
}
