public import HealthCore

/// A measure the trend report shows (DOMAIN.md §1.8, §2.4, §3.3).
public struct Measure: Sendable, Codable, Equatable {
    public var id: String
    public var label: String
    public var chinese: String

    /// Every measure, in report order.
    public static let all: [Measure] = [
        Measure(id: "myopia", label: "Screening myopia", chinese: "筛查性近视率"),
        Measure(id: "poor_vision", label: "Poor vision", chinese: "视力不良率"),
        Measure(id: "poor_vision_mild", label: "Poor vision, mild", chinese: "轻度视力不良"),
        Measure(id: "poor_vision_moderate", label: "Poor vision, moderate", chinese: "中度视力不良"),
        Measure(id: "poor_vision_severe", label: "Poor vision, severe", chinese: "重度视力不良"),
        Measure(id: "high_myopia", label: "High myopia", chinese: "高度近视率"),
        Measure(id: "spine_lateral_positive", label: "Spine: lateral screen-positive (ATR ≥ 5°)", chinese: "脊柱侧弯筛查阳性率"),
        Measure(id: "spine_sagittal_abnormal", label: "Spine: sagittal abnormality", chinese: "脊柱前后弯曲异常率"),
        Measure(id: "spine_abnormal", label: "Spine: any abnormality", chinese: "脊柱弯曲异常检出率"),
        Measure(id: "fitness_excellent_good", label: "Fitness excellent or good", chinese: "体质健康优良率"),
        Measure(id: "fitness_pass", label: "Fitness pass", chinese: "及格率"),
        Measure(id: "fitness_fail", label: "Fitness fail", chinese: "不及格率"),
        Measure(id: "overweight", label: "Overweight (fitness BMI)", chinese: "超重率"),
        Measure(id: "obesity", label: "Obesity (fitness BMI)", chinese: "肥胖率"),
        Measure(id: "coverage_vision", label: "Coverage: vision screening (screened ÷ listed)", chinese: "视力筛查覆盖率"),
        Measure(id: "coverage_spine", label: "Coverage: spine screening (screened ÷ listed)", chinese: "脊柱筛查覆盖率"),
        Measure(id: "coverage_fitness", label: "Coverage: fitness test (tested ÷ listed)", chinese: "体质测试覆盖率"),
        Measure(id: "followup_returned_vision", label: "Vision follow-up: results returned ÷ notices", chinese: "视力复查率"),
        Measure(id: "followup_confirmed_vision", label: "Vision follow-up: myopia confirmed ÷ returned", chinese: "视力复查确诊率"),
        Measure(id: "followup_returned_spine", label: "Spine follow-up: results returned ÷ notices", chinese: "脊柱复查率"),
        Measure(id: "followup_confirmed_spine", label: "Spine follow-up: scoliosis confirmed ÷ returned", chinese: "脊柱复查确诊率"),
    ]
    /// Coverage and follow-up measure the work, not the students' health: not standardised by grade × sex.
    public var isProcess: Bool { id.hasPrefix("coverage_") || id.hasPrefix("followup_") }
    public static func named(_ id: String) -> Measure? { all.first { $0.id == id } }
}

/// One stratum's counts, as the store hands them over (a Core type shared by Store and Analytics).
public typealias Stratum = StratumCount
/// Students followed from one year to the next.
public typealias FollowUp = FollowUpCount

/// The report settings of `Config/report.yaml`.
public struct ReportSettings: Decodable, Sendable {
    public struct Target: Decodable, Sendable {
        public enum Kind: String, Decodable, Sendable { case level, yearOnYearChange }
        public var id: String
        public var measure: String
        public var kind: Kind
        public var atLeast: Double?
        public var atMostPP: Double?
        public var source: String
    }
    public var version: String
    public var countScreening: String
    public var suppressionThreshold: Int
    public var unstableDenominator: Int
    public var standardReference: String
    public var targets: [Target]
}

/// How cells are broken down below the school total.
public enum Breakdown: String, Sendable, Codable, CaseIterable {
    case none, grade, sex
    case gradeSex = "grade,sex"
}

/// "county" or a school code.
public typealias Area = String
public let countyArea: Area = "county"

/// One published rate: counts, rate and 95 % Wilson interval — or suppressed.
public struct RateCell: Sendable, Codable, Equatable {
    public var measure: String
    public var area: Area
    public var year: Int
    public var grade: Int?
    public var sex: Int?
    /// nil when suppressed.
    public var numerator: Int?
    /// nil when the stratum itself is too small to show.
    public var denominator: Int?
    public var rate: Double?
    public var lower: Double?
    public var upper: Double?
    public var suppressed: Bool
    /// Published, but the denominator is small.
    public var unstable: Bool

    /// The true counts, kept out of every output (for suppression and derived figures).
    var trueNumerator = 0
    var trueDenominator = 0

    enum CodingKeys: String, CodingKey { case measure, area, year, grade, sex, numerator, denominator, rate, lower, upper, suppressed, unstable }
}

/// A year-over-year change in percentage points.
public struct Change: Sendable, Codable, Equatable {
    public var measure: String
    public var area: Area
    public var fromYear: Int
    public var toYear: Int
    public var differencePP: Double?
    public var lowerPP: Double?
    public var upperPP: Double?
    public var p: Double?
    public var suppressed: Bool
}

/// A Cochran–Armitage test over all years shown (three or more).
public struct TrendTest: Sendable, Codable, Equatable {
    public var measure: String
    public var area: Area
    public var fromYear: Int
    public var toYear: Int
    public var z: Double?
    public var p: Double?
    public var suppressed: Bool
}

/// A rate directly standardised by grade × sex, with its Fay–Feuer interval.
public struct StandardisedRate: Sendable, Codable, Equatable {
    public var measure: String
    public var area: Area
    public var year: Int
    public var rate: Double?
    public var lower: Double?
    public var upper: Double?
    public var suppressed: Bool
}

/// Myopia incidence between consecutive years.
public struct Incidence: Sendable, Codable, Equatable {
    public var area: Area
    public var fromYear: Int
    public var toYear: Int
    public var atRisk: Int?
    public var followed: Int?
    public var incident: Int?
    public var rate: Double?
    public var lower: Double?
    public var upper: Double?
    /// Share of the students at risk with no screening the next year.
    public var lostToFollowUp: Double?
    public var suppressed: Bool
}

/// Whether a target was met.
public struct TargetResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case met, notMet = "not met", notMeasurable = "not measurable" }
    public var target: String
    public var area: Area
    public var year: Int
    public var status: Status
    /// The value compared (a rate, or a change in percentage points).
    public var value: Double?
    /// How far from the target (positive: short of it), in the value's unit.
    public var gap: Double?
}

/// The whole trend report: what every format renders.
public struct TrendReport: Sendable, Codable {
    public var title: String
    public var generated: String
    public var years: [Int]
    public var areas: [Area]
    public var breakdown: Breakdown
    public var suppressionOn: Bool
    public var suppressionThreshold: Int
    public var unstableDenominator: Int
    /// Set when suppression was turned off: the output can identify students.
    public var containsIdentifiableData: Bool
    public var referenceYear: Int?
    public var ruleVersions: [String: String]
    public var measures: [Measure]
    public var cells: [RateCell]
    public var changes: [Change]
    public var trends: [TrendTest]
    public var standardised: [StandardisedRate]
    public var incidence: [Incidence]
    public var targets: [TargetResult]
    public var targetSources: [String: String]
    /// Median days from notice to the clinic's result.
    public var followUpTimes: [FollowUpTime] = []
    /// School names from the county's list, by code (shown beside the codes).
    public var schoolNames: [String: String] = [:]

    /// "SH-P01 城关第一小学", or the code alone when the list has no name; "County 全县" for the county.
    public func areaLabel(_ area: Area) -> String {
        if area == countyArea { return "County 全县" }
        return schoolNames[area].map { "\(area) \($0)" } ?? area
    }
}
