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

    /// Position in `allCases`: the index of the item in fixed-size tables.
    public var ordinal: Int {
        switch self {
        case .bmi: return 0
        case .vitalCapacity: return 1
        case .run50m: return 2
        case .sitAndReach: return 3
        case .ropeSkip: return 4
        case .sitUp: return 5
        case .shuttle50x8: return 6
        case .standingLongJump: return 7
        case .pullUp: return 8
        case .run800m: return 9
        case .run1000m: return 10
        }
    }

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
    public let levels: [TableKey: [ScoreLevel]]
    public var directions: [FitnessItem: ScoreDirection]
    /// BMI bands per (grade, sex); the key's item is `.bmi`.
    public let bmi: [TableKey: [BMIBand]]
    /// Weight (percent) of each item per (grade, sex); the key's item is `.bmi`.
    public let weights: [TableKey: [(item: FitnessItem, percent: Int)]]
    /// Bonus ladders per (item, grade, sex), smallest step first.
    public let bonus: [TableKey: [BonusStep]]
    public var bands: [GradeBand]
    public var maxBonus: Int
    public var maxTotal: Int
    public var version: String

    /// The same tables in fixed-size arrays indexed by `slot(item, grade, sex)`: the per-row lookups
    /// of an import must not hash.
    private var levelSlots: [[ScoreLevel]?] = []
    private var bonusSlots: [[BonusStep]?] = []
    private var bmiSlots: [[BMIBand]?] = []
    private var weightSlots: [[(item: FitnessItem, percent: Int)]?] = []
    private var directionSlots: [ScoreDirection?] = []

    private static func slot(_ item: FitnessItem, _ grade: Int, _ sex: Sex) -> Int? {
        guard (0..<100).contains(grade) else { return nil }
        return (item.ordinal * 100 + grade) * 2 + (sex == .male ? 0 : 1)
    }
    private static let slotCount = FitnessItem.allCases.count * 200

    private static func slots<T>(_ table: [TableKey: T]) -> [T?] {
        var array = [T?](repeating: nil, count: slotCount)
        for (key, value) in table { if let i = slot(key.item, key.grade, key.sex) { array[i] = value } }
        return array
    }

    public init(levels: [TableKey: [ScoreLevel]], directions: [FitnessItem: ScoreDirection], bmi: [TableKey: [BMIBand]],
                weights: [TableKey: [(item: FitnessItem, percent: Int)]], bonus: [TableKey: [BonusStep]], bands: [GradeBand],
                maxBonus: Int, maxTotal: Int, version: String) {
        self.levels = levels.mapValues { $0.sorted { $0.score > $1.score } }
        self.directions = directions; self.bmi = bmi; self.weights = weights
        self.bonus = bonus.mapValues { $0.sorted { $0.margin < $1.margin } }
        self.bands = bands.sorted { $0.minHundredths > $1.minHundredths }
        self.maxBonus = maxBonus; self.maxTotal = maxTotal; self.version = version
        levelSlots = Self.slots(self.levels)
        bonusSlots = Self.slots(self.bonus)
        bmiSlots = Self.slots(self.bmi)
        weightSlots = Self.slots(self.weights)
        directionSlots = FitnessItem.allCases.map { directions[$0] }
    }

    /// The items a student of this grade and sex is tested on (those with a weight).
    public func requiredItems(grade: Int, sex: Sex) -> [FitnessItem]? {
        weightsFor(grade: grade, sex: sex)?.map(\.item)
    }

    /// The item weights of a grade and sex.
    public func weightsFor(grade: Int, sex: Sex) -> [(item: FitnessItem, percent: Int)]? {
        Self.slot(.bmi, grade, sex).flatMap { weightSlots[$0] }
    }

    func table(_ item: FitnessItem, _ grade: Int, _ sex: Sex) -> [ScoreLevel]? {
        Self.slot(item, grade, sex).flatMap { levelSlots[$0] }
    }
}

/// The score of one item and the table rows it rests on.
public struct ItemScore: Sendable, Equatable {
    public var item: FitnessItem
    public var score: Int
    /// The weakest of the rows behind the score (the level reached and the next better one).
    public var provenance: Provenance
}

/// Results per item, in tenths of the item's unit, held in a fixed-size array.
///
///     var values: ItemValues = [.run50m: 88, .vitalCapacity: 28000]   // 8.8 s, 2800 ml
public struct ItemValues: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// Inline storage (no heap allocation per student); `Int32.min` marks an item without a value.
    private var storage = SIMD16<Int32>(repeating: .min)

    public init() {}
    public init(dictionaryLiteral elements: (FitnessItem, Int)...) {
        for (item, value) in elements { self[item] = value }
    }

    public subscript(item: FitnessItem) -> Int? {
        get { storage[item.ordinal] == .min ? nil : Int(storage[item.ordinal]) }
        set { storage[item.ordinal] = newValue.map { Int32(clamping: $0) } ?? .min }
    }

    /// The items that have a value.
    public var items: [FitnessItem] { FitnessItem.allCases.filter { self[$0] != nil } }
}

/// A student's measured results. Values in tenths of the item's unit; height in mm, weight in tenths of kg.
public struct FitnessTest: Sendable, Equatable {
    public var grade: Int
    public var sex: Sex
    public var exempt: Bool
    public var heightMillimetres: Int?
    public var weightTenthsKg: Int?
    public var results: ItemValues
    public init(grade: Int, sex: Sex, exempt: Bool = false, heightMillimetres: Int? = nil, weightTenthsKg: Int? = nil, results: ItemValues = [:]) {
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
    /// Item scores, inline: -1 for an item not scored.
    public var scores = SIMD16<Int32>(repeating: -1)
    /// Required items without a result: bit `item.ordinal`.
    public var missingMask = 0
    /// The items scored, in the order of `FitnessItem.allCases`.
    public var items: [ItemScore] {
        FitnessItem.allCases.filter { scores[$0.ordinal] >= 0 }.map {
            ItemScore(item: $0, score: Int(scores[$0.ordinal]), provenance: Provenance(rawValue: (itemProvenance >> ($0.ordinal * 2)) & 3)!)
        }
    }
    /// The score of one item, if it was scored.
    public func score(_ item: FitnessItem) -> Int? { scores[item.ordinal] < 0 ? nil : Int(scores[item.ordinal]) }
    public var missing: [FitnessItem] { FitnessItem.allCases.filter { missingMask & (1 << $0.ordinal) != 0 } }
    /// 标准分 in hundredths (Σ score × weight %).
    public var standardHundredths: Int?
    /// 附加分, whole points.
    public var bonus: Int?
    /// 学年总分 in hundredths, at most `maxTotal`.
    public var totalHundredths: Int?
    public var band: FitnessBand?
    /// The weakest row behind any part of the result.
    public var provenance: Provenance
    /// Per item, the weakest row behind its score: 2 bits at `item.ordinal * 2`.
    public var itemProvenance: Int
    /// The weakest bonus-ladder row used.
    public var bonusProvenance: Provenance
    public var grade: Int
    public var sex: Sex
    public var ruleVersion: String

    /// The parts of the result that rest on rows not VERIFIED, e.g. "run_50m grade 21 M 95 (SINGLE SOURCE)".
    public var weakRows: [String] {
        var rows = items.filter { $0.provenance != .verified }.map { i in
            i.item == .bmi ? "bmi grade \(grade) \(sex == .male ? "M" : "F") \(bmiCategory?.rawValue ?? "") (\(i.provenance.label))"
                : "\(i.item.rawValue) grade \(grade) \(sex == .male ? "M" : "F") \(i.score) (\(i.provenance.label))"
        }
        if bonusProvenance != .verified { rows.append("bonus grade \(grade) (\(bonusProvenance.label))") }
        return rows
    }
}

extension FitnessStandard {
    /// Scores one item by the lookup rule: higher-better takes the best level whose threshold the value
    /// reaches (≥), lower-better the best level whose threshold it does not exceed (≤); worse than the
    /// lowest level scores 0. The rows it rests on: the level reached and the next better one (whose
    /// threshold was missed).
    public func score(_ item: FitnessItem, value: Int, grade: Int, sex: Sex) -> ItemScore? {
        guard let table = table(item, grade, sex), let direction = directionSlots[item.ordinal] else { return nil }
        var index = -1
        for (i, level) in table.enumerated() where direction == .higherBetter ? value >= level.threshold : value <= level.threshold {
            index = i
            break
        }
        // The rows the score rests on: the level reached and the next better one (whose threshold was missed);
        // below every level, the lowest level.
        let provenance: Provenance
        if index < 0 {
            provenance = table.last?.provenance ?? .verified
        } else {
            provenance = index > 0 ? max(table[index].provenance, table[index - 1].provenance) : table[index].provenance
        }
        return ItemScore(item: item, score: index < 0 ? 0 : table[index].score, provenance: provenance)
    }

    /// Scores a whole test: BMI category, item scores, weighted standard score, bonus, total and band.
    ///
    ///     standard.score(test).band   // .good for a total of 80.0–89.99
    public func score(_ test: FitnessTest) -> FitnessResult {
        var result = FitnessResult(status: .scored, bmiTenths: test.bmiTenths, bmiCategory: nil,
                                   standardHundredths: nil, bonus: nil, totalHundredths: nil, band: nil,
                                   provenance: .verified, itemProvenance: 0, bonusProvenance: .verified,
                                   grade: test.grade, sex: test.sex, ruleVersion: version)
        if test.exempt {
            result.status = .exempt
            return result
        }
        guard let weights = weightsFor(grade: test.grade, sex: test.sex) else {
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
                result.missingMask |= 1 << item.ordinal
                continue
            }
            result.scores[item.ordinal] = Int32(itemScore.score)
            result.itemProvenance |= itemScore.provenance.rawValue << (item.ordinal * 2)
            result.provenance = max(result.provenance, itemScore.provenance)
            standard += itemScore.score * percent
        }
        if result.missingMask != 0 {
            result.status = .incomplete
            result.scores = SIMD16(repeating: -1)
            result.itemProvenance = 0
            result.provenance = .verified
            result.bmiCategory = nil
            return result
        }
        var bonusPoints = 0
        for item in FitnessItem.allCases {
            guard let value = test.results[item], let step = bonus(item, value: value, grade: test.grade, sex: test.sex) else { continue }
            bonusPoints += step.points
            result.bonusProvenance = max(result.bonusProvenance, step.provenance)
            result.provenance = max(result.provenance, step.provenance)
        }
        bonusPoints = min(bonusPoints, maxBonus)
        let total = min(standard + bonusPoints * 100, maxTotal * 100)
        result.standardHundredths = standard
        result.bonus = bonusPoints
        result.totalHundredths = total
        result.band = bands.first { total >= $0.minHundredths }?.band
        return result
    }

    /// The bonus step (附加分) a result earns beyond the item's 100-point threshold, if any.
    public func bonus(_ item: FitnessItem, value: Int, grade: Int, sex: Sex) -> BonusStep? {
        guard let s = Self.slot(item, grade, sex), let steps = bonusSlots[s], let full = levelSlots[s]?.first,
              let direction = directionSlots[item.ordinal] else { return nil }
        let margin = direction == .higherBetter ? value - full.threshold : full.threshold - value
        return steps.last { margin >= $0.margin }
    }

    /// The BMI band a BMI (in tenths) falls in.
    public func bmiBand(_ bmi: Int, grade: Int, sex: Sex) -> BMIBand? {
        Self.slot(.bmi, grade, sex).flatMap { bmiSlots[$0] }?.first { (($0.min.map { bmi >= $0 }) ?? true) && (($0.max.map { bmi <= $0 }) ?? true) }
    }

    private func bmiScore(_ bmi: Int, grade: Int, sex: Sex, into result: inout FitnessResult) -> ItemScore? {
        guard let band = bmiBand(bmi, grade: grade, sex: sex) else { return nil }
        result.bmiCategory = band.category
        return ItemScore(item: .bmi, score: band.score, provenance: band.provenance)
    }
}
