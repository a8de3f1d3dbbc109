/// The test items of the National Student Physical Fitness Standard (2014 revision).
public enum FitnessItem: String, Sendable, CaseIterable, Codable {
    case bmi
    case vitalCapacity = "vital_capacity"
    case run50m = "run_50m"
    case sitAndReach = "sit_and_reach"
    case ropeSkip = "rope_skip_1min"
    case sitUp = "sit_up_1min"
    case shuttle50x8 = "shuttle_50x8"
    case standingLongJump = "standing_long_jump"
    case pullUp = "pull_up"
    case run800m = "run_800m"
    case run1000m = "run_1000m"

    /// The name on the national template.
    public var label: String {
        switch self {
        case .bmi: return "BMI"
        case .vitalCapacity: return "肺活量"
        case .run50m: return "50米跑"
        case .sitAndReach: return "坐位体前屈"
        case .ropeSkip: return "一分钟跳绳"
        case .sitUp: return "一分钟仰卧起坐"
        case .shuttle50x8: return "50米×8往返跑"
        case .standingLongJump: return "立定跳远"
        case .pullUp: return "引体向上"
        case .run800m: return "800米跑"
        case .run1000m: return "1000米跑"
        }
    }
}

/// How well a table row is confirmed (shared/domain/fitness-standard-2014/README.md).
/// Ordered: a result is as weak as the weakest row behind it.
public enum Provenance: Int, Sendable, Comparable, CaseIterable, Codable {
    case verified = 0
    case partial = 1
    case singleSource = 2
    case conflict = 3

    /// Reads the `verification` column: "VERIFIED…", "PARTIAL…", "SINGLE SOURCE…", "CONFLICT…";
    /// primary and university rows say "see README.md (verification)": checked against a second source.
    public init(verification: String) {
        let v = verification.uppercased()
        if v.hasPrefix("CONFLICT") { self = .conflict }
        else if v.hasPrefix("SINGLE SOURCE") { self = .singleSource }
        else if v.hasPrefix("PARTIAL") { self = .partial }
        else { self = .verified }
    }

    public var label: String {
        switch self {
        case .verified: return "VERIFIED"
        case .partial: return "PARTIAL"
        case .singleSource: return "SINGLE SOURCE"
        case .conflict: return "CONFLICT"
        }
    }
    public static func < (a: Provenance, b: Provenance) -> Bool { a.rawValue < b.rawValue }
}

/// Which way an item's results improve.
public enum ScoreDirection: String, Sendable {
    case higherBetter = "higher_better"
    case lowerBetter = "lower_better"
}

/// One level of an item's scoring table. Values are in tenths of the item's unit (7.8 s is 78).
public struct ScoreLevel: Sendable, Equatable {
    public var score: Int
    public var threshold: Int
    public var provenance: Provenance
    public var source: String
    public init(score: Int, threshold: Int, provenance: Provenance, source: String) {
        self.score = score; self.threshold = threshold; self.provenance = provenance; self.source = source
    }
}

/// A BMI band (kg/m² in tenths, bounds inclusive, either may be open).
public struct BMIBand: Sendable, Equatable {
    public var category: BMICategory
    public var score: Int
    public var min: Int?
    public var max: Int?
    public var provenance: Provenance
    public init(category: BMICategory, score: Int, min: Int?, max: Int?, provenance: Provenance) {
        self.category = category; self.score = score; self.min = min; self.max = max; self.provenance = provenance
    }
}

public enum BMICategory: String, Sendable, CaseIterable, Codable {
    case normal = "正常", underweight = "低体重", overweight = "超重", obese = "肥胖"
    /// The code stored in the database: 0 normal, 1 underweight, 2 overweight, 3 obese.
    public var code: Int { BMICategory.allCases.firstIndex(of: self)! }
}

/// An extra-points (加分) step: `points` for a margin of at least `margin` beyond the 100-point threshold
/// (in tenths: counts above, or seconds faster).
public struct BonusStep: Sendable, Equatable {
    public var points: Int
    public var margin: Int
    public var provenance: Provenance
    public init(points: Int, margin: Int, provenance: Provenance) { self.points = points; self.margin = margin; self.provenance = provenance }
}

/// A grade band (优秀 / 良好 / 及格 / 不及格) on the annual total, from its lower bound in hundredths.
public struct GradeBand: Sendable, Equatable {
    public var band: FitnessBand
    public var minHundredths: Int
    public init(band: FitnessBand, minHundredths: Int) { self.band = band; self.minHundredths = minHundredths }
}

public enum FitnessBand: Int, Sendable, CaseIterable, Codable {
    case excellent = 0, good = 1, pass = 2, fail = 3
    public var label: String { ["优秀", "良好", "及格", "不及格"][rawValue] }
}

/// Where a table is looked up: item (or BMI), grade code, sex.
public struct TableKey: Hashable, Sendable {
    public var item: FitnessItem
    public var grade: Int
    public var sex: Sex
    public init(_ item: FitnessItem, _ grade: Int, _ sex: Sex) { self.item = item; self.grade = grade; self.sex = sex }
}

/// The scoring rules of the 2014 standard, as loaded from `Config/fitness-standard-2014/`.
public struct FitnessStandard: Sendable {
    /// Levels per table, best score first.
    public var levels: [TableKey: [ScoreLevel]]
    public var directions: [FitnessItem: ScoreDirection]
    /// BMI bands per (grade, sex); the key's item is `.bmi`.
    public var bmi: [TableKey: [BMIBand]]
    /// Weight (percent) of each item per (grade, sex); the key's item is `.bmi`.
    public var weights: [TableKey: [(item: FitnessItem, percent: Int)]]
    /// Bonus ladders per (item, grade, sex), smallest step first.
    public var bonus: [TableKey: [BonusStep]]
    public var bands: [GradeBand]
    public var maxBonus: Int
    public var maxTotal: Int
    public var version: String

    public init(levels: [TableKey: [ScoreLevel]], directions: [FitnessItem: ScoreDirection], bmi: [TableKey: [BMIBand]],
                weights: [TableKey: [(item: FitnessItem, percent: Int)]], bonus: [TableKey: [BonusStep]], bands: [GradeBand],
                maxBonus: Int, maxTotal: Int, version: String) {
        self.levels = levels.mapValues { $0.sorted { $0.score > $1.score } }
        self.directions = directions; self.bmi = bmi; self.weights = weights
        self.bonus = bonus.mapValues { $0.sorted { $0.margin < $1.margin } }
        self.bands = bands.sorted { $0.minHundredths > $1.minHundredths }
        self.maxBonus = maxBonus; self.maxTotal = maxTotal; self.version = version
    }

    /// The items a student of this grade and sex is tested on (those with a weight).
    public func requiredItems(grade: Int, sex: Sex) -> [FitnessItem]? {
        weights[TableKey(.bmi, grade, sex)]?.map(\.item)
    }
}

/// The score of one item and the table rows it rests on.
public struct ItemScore: Sendable, Equatable {
    public var item: FitnessItem
    public var score: Int
    public var provenance: Provenance
    /// Rows behind the score that are not VERIFIED, e.g. "run_50m 初一 M 95 (SINGLE SOURCE)".
    public var weakRows: [String]
}

/// A student's measured results. Values in tenths of the item's unit; height in mm, weight in tenths of kg.
public struct FitnessTest: Sendable, Equatable {
    public var grade: Int
    public var sex: Sex
    public var exempt: Bool
    public var heightMillimetres: Int?
    public var weightTenthsKg: Int?
    public var results: [FitnessItem: Int]
    public init(grade: Int, sex: Sex, exempt: Bool = false, heightMillimetres: Int? = nil, weightTenthsKg: Int? = nil, results: [FitnessItem: Int] = [:]) {
        self.grade = grade; self.sex = sex; self.exempt = exempt
        self.heightMillimetres = heightMillimetres; self.weightTenthsKg = weightTenthsKg; self.results = results
    }

    /// BMI = kg / m², rounded to one decimal (in tenths), as the tables require.
    public var bmiTenths: Int? {
        guard let h = heightMillimetres, let w = weightTenthsKg, h > 0 else { return nil }
        // BMI × 10 = (w/10 kg) ÷ (h/1000 m)² × 10 = w × 10^6 / h², rounded half up.
        let numerator = w * 1_000_000
        let denominator = h * h
        return (2 * numerator + denominator) / (2 * denominator)
    }
}

/// What scoring a test gave.
public struct FitnessResult: Sendable, Equatable {
    public enum Status: Int, Sendable, Codable {
        case scored = 0
        /// A required item is missing: stored, not scored, counted apart.
        case incomplete = 1
        /// 免体: stored and counted apart, never in a denominator.
        case exempt = 2
    }
    public var status: Status
    public var bmiTenths: Int?
    public var bmiCategory: BMICategory?
    public var items: [ItemScore]
    public var missing: [FitnessItem]
    /// 标准分 in hundredths (Σ score × weight %).
    public var standardHundredths: Int?
    /// 附加分, whole points.
    public var bonus: Int?
    /// 学年总分 in hundredths, at most `maxTotal`.
    public var totalHundredths: Int?
    public var band: FitnessBand?
    /// The weakest row behind any part of the result.
    public var provenance: Provenance
    public var weakRows: [String]
    public var ruleVersion: String
}

extension FitnessStandard {
    /// Scores one item by the lookup rule: higher-better takes the best level whose threshold the value
    /// reaches (≥), lower-better the best level whose threshold it does not exceed (≤); worse than the
    /// lowest level scores 0. The rows it rests on: the level reached and the next better one (whose
    /// threshold was missed).
    public func score(_ item: FitnessItem, value: Int, grade: Int, sex: Sex) -> ItemScore? {
        guard let table = levels[TableKey(item, grade, sex)], let direction = directions[item] else { return nil }
        func reaches(_ level: ScoreLevel) -> Bool {
            direction == .higherBetter ? value >= level.threshold : value <= level.threshold
        }
        let index = table.firstIndex(where: reaches)
        var behind: [ScoreLevel] = []
        if let index {
            behind.append(table[index])
            if index > 0 { behind.append(table[index - 1]) }
        } else if let last = table.last {
            behind.append(last)
        }
        let weak = behind.filter { $0.provenance != .verified }
            .map { "\(item.rawValue) grade \(grade) \(sex == .male ? "M" : "F") \($0.score) (\($0.provenance.label))" }
        return ItemScore(item: item, score: index.map { table[$0].score } ?? 0,
                         provenance: behind.map(\.provenance).max() ?? .verified, weakRows: weak)
    }

    /// Scores a whole test: BMI category, item scores, weighted standard score, bonus, total and band.
    ///
    ///     standard.score(test).band   // .good for a total of 80.0–89.99
    public func score(_ test: FitnessTest) -> FitnessResult {
        var result = FitnessResult(status: .scored, bmiTenths: test.bmiTenths, bmiCategory: nil, items: [], missing: [],
                                   standardHundredths: nil, bonus: nil, totalHundredths: nil, band: nil,
                                   provenance: .verified, weakRows: [], ruleVersion: version)
        if test.exempt {
            result.status = .exempt
            return result
        }
        guard let weights = weights[TableKey(.bmi, test.grade, test.sex)] else {
            result.status = .incomplete
            return result
        }
        var standard = 0
        for (item, percent) in weights {
            let itemScore: ItemScore?
            if item == .bmi {
                itemScore = test.bmiTenths.flatMap { bmiScore($0, grade: test.grade, sex: test.sex, into: &result) }
            } else {
                itemScore = test.results[item].flatMap { score(item, value: $0, grade: test.grade, sex: test.sex) }
            }
            guard let itemScore else {
                result.missing.append(item)
                continue
            }
            result.items.append(itemScore)
            standard += itemScore.score * percent
        }
        if !result.missing.isEmpty {
            result.status = .incomplete
            result.items = []
            result.bmiCategory = nil
            return result
        }
        var bonusPoints = 0
        for item in FitnessItem.allCases {
            guard let value = test.results[item], let step = bonus(item, value: value, grade: test.grade, sex: test.sex) else { continue }
            bonusPoints += step.points
            if step.provenance != .verified {
                result.weakRows.append("bonus \(item.rawValue) grade \(test.grade) +\(step.points) (\(step.provenance.label))")
            }
            result.provenance = max(result.provenance, step.provenance)
        }
        bonusPoints = min(bonusPoints, maxBonus)
        let total = min(standard + bonusPoints * 100, maxTotal * 100)
        result.standardHundredths = standard
        result.bonus = bonusPoints
        result.totalHundredths = total
        result.band = bands.first { total >= $0.minHundredths }?.band
        for item in result.items {
            result.provenance = max(result.provenance, item.provenance)
            result.weakRows += item.weakRows
        }
        return result
    }

    /// The bonus step (附加分) a result earns beyond the item's 100-point threshold, if any.
    public func bonus(_ item: FitnessItem, value: Int, grade: Int, sex: Sex) -> BonusStep? {
        guard let steps = bonus[TableKey(item, grade, sex)], let full = levels[TableKey(item, grade, sex)]?.first,
              let direction = directions[item] else { return nil }
        let margin = direction == .higherBetter ? value - full.threshold : full.threshold - value
        return steps.last { margin >= $0.margin }
    }

    /// The BMI band a BMI (in tenths) falls in.
    public func bmiBand(_ bmi: Int, grade: Int, sex: Sex) -> BMIBand? {
        self.bmi[TableKey(.bmi, grade, sex)]?.first { (($0.min.map { bmi >= $0 }) ?? true) && (($0.max.map { bmi <= $0 }) ?? true) }
    }

    private func bmiScore(_ bmi: Int, grade: Int, sex: Sex, into result: inout FitnessResult) -> ItemScore? {
        guard let band = bmiBand(bmi, grade: grade, sex: sex) else { return nil }
        result.bmiCategory = band.category
        let weak = band.provenance == .verified ? [] : ["bmi grade \(grade) \(sex == .male ? "M" : "F") \(band.category.rawValue) (\(band.provenance.label))"]
        return ItemScore(item: .bmi, score: band.score, provenance: band.provenance, weakRows: weak)
    }
}
