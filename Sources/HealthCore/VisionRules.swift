/// The vision rule set of `Config/rules/vision.yaml`: thresholds as data, with their sources.
public struct VisionRules: Decodable, Sendable {
    public struct ScreeningMyopia: Decodable, Sendable {
        public var ucvaBelow: Double
        public var sphericalEquivalent: Double
        public var comparator: Comparator
        public var underSixUcvaBelow: Double
        public var orthokeratologyCountsAsMyopic: Bool
    }
    public enum Comparator: String, Decodable, Sendable {
        case atMost = "<="
        case below = "<"
    }
    public struct PoorVisionBandRule: Decodable, Sendable {
        public var band: PoorVisionBand
        public var atMost: Double
    }
    public struct PoorVision: Decodable, Sendable {
        public var normalFrom: Double
        public var bands: [PoorVisionBandRule]
    }
    public struct MyopiaGrades: Decodable, Sendable {
        public var lowFrom: Double
        public var moderateFrom: Double
    }
    public struct Range: Decodable, Sendable {
        public var min: Double
        public var max: Double
        public func contains(_ v: Double) -> Bool { v >= min && v <= max }
    }
    public struct Bounds: Decodable, Sendable {
        public var sphere: Range
        public var cylinder: Range
        public var axis: Range
        public var fivePoint: Range
        public var studentAgeYears: Range
    }

    public var ruleSet: String
    public var version: String
    public var sources: [String]
    public var screeningMyopia: ScreeningMyopia
    public var poorVision: PoorVision
    public var myopiaGrades: MyopiaGrades
    public var bounds: Bounds
    public var decimalChart: [Double]
    public var schoolYearStartMonth: Int

    /// What results record as the rule version: "<version>@<digest>", set by whoever loaded the file.
    public var versionTag: String = ""

    enum CodingKeys: String, CodingKey {
        case ruleSet, version, sources, screeningMyopia, poorVision, myopiaGrades, bounds, decimalChart, schoolYearStartMonth
    }
}

/// Poor-vision (视力不良) band of one eye or a student (DOMAIN.md §1.6).
public enum PoorVisionBand: String, Decodable, Sendable, CaseIterable, Comparable {
    case normal, mild, moderate, severe
    /// The code stored in the database: 0 normal, 1 mild, 2 moderate, 3 severe.
    public var code: Int {
        switch self {
        case .normal: return 0
        case .mild: return 1
        case .moderate: return 2
        case .severe: return 3
        }
    }
    public static func < (a: PoorVisionBand, b: PoorVisionBand) -> Bool { a.code < b.code }
}

/// Myopia grade of a screening-myopic eye by SE (DOMAIN.md §1.5).
public enum MyopiaGrade: String, Sendable, CaseIterable, Comparable {
    case none, low, moderate, high
    /// Myopic (e.g. an orthokeratology wearer) but no usable refraction to grade it.
    case ungraded
    /// The code stored in the database: 0 none, 1 low, 2 moderate, 3 high, 9 ungraded.
    public var code: Int {
        switch self {
        case .none: return 0
        case .low: return 1
        case .moderate: return 2
        case .high: return 3
        case .ungraded: return 9
        }
    }
    /// Ordering by severity: an ungraded myopic eye ranks above "none" and below every grade.
    var severity: Int {
        switch self {
        case .none: return 0
        case .ungraded: return 1
        case .low: return 2
        case .moderate: return 3
        case .high: return 4
        }
    }
    public static func < (a: MyopiaGrade, b: MyopiaGrade) -> Bool { a.severity < b.severity }
}

/// The classification of one eye.
public struct EyeClassification: Hashable, Sendable {
    /// nil when the data do not allow a verdict.
    public var myopic: Bool?
    public var poorVision: PoorVisionBand?
    public var grade: MyopiaGrade?
    public var sphericalEquivalent: Dioptres?
}

/// The classification of a screening, and the rule version that produced it.
public struct VisionClassification: Hashable, Sendable {
    public var right: EyeClassification
    public var left: EyeClassification
    /// Screening myopia at student level: either eye (DOMAIN.md §1.3), or an OK-lens wearer.
    public var myopic: Bool?
    /// The worse eye's band.
    public var poorVision: PoorVisionBand?
    /// The worse eye's grade.
    public var grade: MyopiaGrade?
    /// Complete data per §1.4: counted in rate denominators.
    public var complete: Bool
    /// What is missing when not complete, e.g. "right sphere".
    public var missing: [String]
    public var ruleVersion: String
}

extension VisionRules {
    /// Classifies a screening by DOMAIN.md §1.3–§1.6 with these thresholds.
    ///
    ///     rules.classify(screening).myopic   // true when either eye has UCVA < 5.0 and SE ≤ −0.50 D
    public func classify(_ s: VisionScreening) -> VisionClassification {
        let age = s.ageAtScreening ?? (s.grade.yearOfSchooling >= 1 ? 6 : nil)
        let glasses = s.effectiveGlasses
        let ok = glasses == .orthokeratology
        let r = classify(eye: s.right, age: age, orthokeratology: ok)
        let l = classify(eye: s.left, age: age, orthokeratology: ok)

        var missing: [String] = []
        for (name, eye) in [("right", s.right), ("left", s.left)] {
            switch glasses {
            case .orthokeratology:
                if eye.corrected == nil { missing.append("\(name) corrected acuity") }
            case .none, .frame, .contactLens, .notRecorded:
                if eye.ucva == nil { missing.append("\(name) uncorrected acuity") }
                if eye.sphere == nil { missing.append("\(name) sphere") }
                if eye.cylinder == nil { missing.append("\(name) cylinder") }
                if let c = eye.cylinder, c.milli != 0, eye.axis == nil { missing.append("\(name) axis") }
                if glasses == .frame || glasses == .contactLens, eye.corrected == nil { missing.append("\(name) corrected acuity") }
            }
        }

        let myopic: Bool?
        if ok && screeningMyopia.orthokeratologyCountsAsMyopic {
            myopic = true
        } else if r.myopic == true || l.myopic == true {
            myopic = true
        } else if r.myopic == false && l.myopic == false {
            myopic = false
        } else {
            myopic = nil
        }
        let poor: PoorVisionBand?
        switch (r.poorVision, l.poorVision) {
        case let (a?, b?): poor = max(a, b)
        case let (a?, nil), let (nil, a?): poor = a == .normal ? nil : a   // one eye unknown: only a finding counts
        case (nil, nil): poor = nil
        }
        let grade: MyopiaGrade?
        switch (r.grade, l.grade) {
        case let (a?, b?): grade = max(a, b)
        case let (a?, nil), let (nil, a?): grade = a
        case (nil, nil): grade = nil
        }
        return VisionClassification(
            right: r, left: l, myopic: myopic, poorVision: poor, grade: grade,
            complete: missing.isEmpty, missing: missing, ruleVersion: versionTag.isEmpty ? version : versionTag)
    }

    func classify(eye: EyeFindings, age: Int?, orthokeratology: Bool) -> EyeClassification {
        let se = eye.sphericalEquivalent
        if orthokeratology {
            // UCVA and refraction are distorted by overnight lens wear (§1.4): myopic, not graded.
            return EyeClassification(
                myopic: screeningMyopia.orthokeratologyCountsAsMyopic ? true : nil,
                poorVision: nil, grade: screeningMyopia.orthokeratologyCountsAsMyopic ? .ungraded : nil,
                sphericalEquivalent: se)
        }
        let ucvaLimit = Acuity(tenths: tenths((age ?? 6) < 6 ? screeningMyopia.underSixUcvaBelow : screeningMyopia.ucvaBelow))
        let seLimit = Dioptres(screeningMyopia.sphericalEquivalent)
        var myopic: Bool?
        if let ucva = eye.ucva, ucva >= ucvaLimit {
            myopic = false
        } else if let se {
            let seMyopic = screeningMyopia.comparator == .atMost ? se <= seLimit : se < seLimit
            if !seMyopic { myopic = false } else if eye.ucva != nil { myopic = true }
        }
        var grade: MyopiaGrade?
        if myopic == true, let se {
            if se >= Dioptres(myopiaGrades.lowFrom) { grade = .low }
            else if se >= Dioptres(myopiaGrades.moderateFrom) { grade = .moderate }
            else { grade = .high }
        } else if myopic == false {
            grade = MyopiaGrade.none
        }
        var band: PoorVisionBand?
        if let ucva = eye.ucva, (age ?? 6) >= 6 {
            band = .normal
            if ucva < Acuity(tenths: tenths(poorVision.normalFrom)) {
                band = poorVision.bands.first(where: { ucva.tenths <= tenths($0.atMost) })?.band ?? .mild
            }
        }
        return EyeClassification(myopic: myopic, poorVision: band, grade: grade, sphericalEquivalent: se)
    }

    private func tenths(_ v: Double) -> Int { Int((v * 10).rounded()) }
}
