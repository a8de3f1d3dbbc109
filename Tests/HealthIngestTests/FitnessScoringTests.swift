import Foundation
import Testing
@testable import HealthIngest
import HealthCore
import HealthTestSupport

/// A plain reading of a Config/fitness-standard-2014 CSV file, independent of the loader under test.
func rawTable(_ name: String) throws -> [[String: String]] {
    let text = try String(contentsOfFile: TestSupport.configDirectory + "/fitness-standard-2014/" + name, encoding: .utf8)
    func split(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        for ch in line {
            if ch == "\"" { quoted.toggle() } else if ch == "," && !quoted { fields.append(field); field = "" } else { field.append(ch) }
        }
        return fields + [field]
    }
    let lines = text.split(whereSeparator: \.isNewline).map(String.init)
    let header = split(lines[0])
    return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, split($0))) }
}

func tenths(_ s: String) -> Int { Int((Double(s)! * 10).rounded()) }

let itemFiles = [
    "vital_capacity.csv", "run_50m.csv", "sit_and_reach.csv", "rope_skip_1min.csv", "sit_up_1min.csv", "shuttle_50x8.csv",
    "standing_long_jump.csv", "pull_up.csv", "run_800m.csv", "run_1000m.csv",
    "junior_vital_capacity.csv", "junior_run_50m.csv", "junior_sit_and_reach.csv", "junior_standing_long_jump.csv",
    "junior_pull_up.csv", "junior_sit_up_1min.csv", "junior_run_1000m.csv", "junior_run_800m.csv",
    "senior_vital_capacity.csv", "senior_run_50m.csv", "senior_sit_and_reach.csv", "senior_standing_long_jump.csv",
    "senior_pull_up.csv", "senior_sit_up_1min.csv", "senior_run_1000m.csv", "senior_run_800m.csv",
]

@Suite("Fitness scoring (2014 standard) replayed against every table row")
struct FitnessScoringTests {
    let standard: FitnessStandard

    init() throws {
        standard = try SchoolHealthConfig.load(directory: TestSupport.configDirectory).fitness.standard
    }

    @Test("Every row: its threshold scores exactly its level, one step worse scores the level below")
    func everyRow() throws {
        var replayed = 0
        for file in itemFiles {
            let rows = try rawTable(file)
            // One step is the table's resolution: a tenth where thresholds have decimals, else one unit.
            let step = rows.contains { tenths($0["threshold"]!) % 10 != 0 } ? 1 : 10
            let groups = Dictionary(grouping: rows) { "\($0["grade_code"]!)|\($0["sex"]!)" }
            for (_, table) in groups {
                let levels = table.map { (score: Int($0["score"]!)!, threshold: tenths($0["threshold"]!)) }.sorted { $0.score > $1.score }
                for row in table {
                    let item = FitnessItem(rawValue: row["item"]!)!
                    let grade = Int(row["grade_code"]!)!
                    let sex: Sex = row["sex"] == "M" ? .male : .female
                    let higher = row["direction"] == "higher_better"
                    let threshold = tenths(row["threshold"]!)
                    func expected(_ v: Int) -> Int {
                        levels.first { higher ? v >= $0.threshold : v <= $0.threshold }?.score ?? 0
                    }
                    let at = try #require(standard.score(item, value: threshold, grade: grade, sex: sex))
                    #expect(at.score == Int(row["score"]!)!, "\(file) grade \(grade) \(sex) level \(row["score"]!)")
                    let worse = higher ? threshold - step : threshold + step
                    let below = try #require(standard.score(item, value: worse, grade: grade, sex: sex))
                    #expect(below.score == expected(worse) && below.score < at.score, "\(file) grade \(grade) \(sex) below level \(row["score"]!)")
                    // The provenance of a score is at least that of the row it landed on.
                    let provenance = Provenance(verification: row["verification"] ?? "")
                    #expect(at.provenance >= provenance)
                    replayed += 1
                }
            }
        }
        #expect(replayed == itemFiles.reduce(0) { $0 + ((try? rawTable($1).count) ?? 0) })
        #expect(replayed > 3000)
    }

    @Test("Every grade code 11–33 and both sexes have a table for every weighted item", arguments: [11, 12, 13, 14, 15, 16, 21, 22, 23, 31, 32, 33])
    func coverage(grade: Int) throws {
        for sex in [Sex.male, .female] {
            let items = try #require(standard.requiredItems(grade: grade, sex: sex))
            for item in items where item != .bmi {
                #expect(standard.levels[TableKey(item, grade, sex)]?.isEmpty == false, "\(item) \(grade) \(sex)")
            }
            #expect(standard.bmi[TableKey(.bmi, grade, sex)]?.count == 4)
        }
    }

    @Test("BMI bands at their boundaries (bounds inclusive, one decimal)")
    func bmiBoundaries() throws {
        var checked = 0
        for file in ["bmi.csv", "junior_senior_bmi.csv"] {
            for row in try rawTable(file) {
                let grade = Int(row["grade_code"]!)!
                let sex: Sex = row["sex"] == "M" ? .male : .female
                let category = BMICategory(rawValue: row["category"]!)!
                if let min = row["bmi_min"], !min.isEmpty {
                    #expect(standard.bmiBand(tenths(min), grade: grade, sex: sex)?.category == category)
                    #expect(standard.bmiBand(tenths(min) - 1, grade: grade, sex: sex)?.category != category)
                    checked += 1
                }
                if let max = row["bmi_max"], !max.isEmpty {
                    #expect(standard.bmiBand(tenths(max), grade: grade, sex: sex)?.category == category)
                    #expect(standard.bmiBand(tenths(max) + 1, grade: grade, sex: sex)?.category != category)
                    checked += 1
                }
            }
        }
        #expect(checked == 192)   // 128 bands: 64 closed (two bounds), 64 open (one)
    }

    @Test("BMI is rounded to one decimal before classifying: 22.0 kg at 120.0 cm is 15.3")
    func bmiRounding() {
        #expect(FitnessTest(grade: 11, sex: .male, heightMillimetres: 1200, weightTenthsKg: 220).bmiTenths == 153)   // 15.277…
        #expect(FitnessTest(grade: 11, sex: .male, heightMillimetres: 1000, weightTenthsKg: 181).bmiTenths == 181)
        #expect(FitnessTest(grade: 11, sex: .male, heightMillimetres: 2000, weightTenthsKg: 726).bmiTenths == 182)   // 18.15 → 18.2
    }

    @Test("Bonus ladders at their edges: each margin earns its points, one unit less the step below")
    func bonusEdges() throws {
        var checked = 0
        for grade in [11, 13, 16, 21, 22, 23, 31, 32, 33] {
            for sex in [Sex.male, .female] {
                for item in FitnessItem.allCases {
                    guard let steps = standard.bonus[TableKey(item, grade, sex)], let full = standard.levels[TableKey(item, grade, sex)]?.first,
                          let direction = standard.directions[item] else { continue }
                    for (i, step) in steps.enumerated() {
                        let at = direction == .higherBetter ? full.threshold + step.margin : full.threshold - step.margin
                        let unit = 10
                        let short = direction == .higherBetter ? at - unit : at + unit
                        #expect(standard.bonus(item, value: at, grade: grade, sex: sex)?.points == step.points, "\(item) \(grade) \(sex) +\(step.points)")
                        let previous = i == 0 ? nil : steps[i - 1].points
                        if steps[i].margin - unit >= (i == 0 ? 0 : steps[i - 1].margin) {
                            #expect(standard.bonus(item, value: short, grade: grade, sex: sex)?.points == previous, "\(item) \(grade) \(sex) below +\(step.points)")
                        }
                        checked += 1
                    }
                    // At the 100-point threshold itself: no bonus.
                    #expect(standard.bonus(item, value: full.threshold, grade: grade, sex: sex) == nil)
                }
            }
        }
        #expect(checked > 300)
        // Primary rope skipping: +1 per 2 reps, at most 20.
        #expect(standard.bonus(.ropeSkip, value: (109 + 40) * 10, grade: 11, sex: .male)?.points == 20)
        #expect(standard.bonus(.ropeSkip, value: (109 + 60) * 10, grade: 11, sex: .male)?.points == 20)
    }

    // MARK: worked examples, one per grade group, computed by hand from the tables

    @Test("Grades 1–2: a first-grade boy")
    func workedGrade1() {
        // BMI 22.0 / 1.20² = 15.28 → 15.3: 正常 (13.5–18.1) = 100
        // 肺活量 1500 ml = 90; 50米 10.6 s = 80; 坐位体前屈 13.0 cm = 90; 跳绳 121 = 100 (threshold 109)
        // 标准分 = 100×15% + 90×15% + 80×20% + 90×30% + 100×20% = 15 + 13.5 + 16 + 27 + 20 = 91.5
        // 附加分: 121 − 109 = 12 reps beyond → +6 (one per 2 reps); 学年总分 = 97.5 → 优秀
        let r = standard.score(FitnessTest(grade: 11, sex: .male, heightMillimetres: 1200, weightTenthsKg: 220,
                                           results: [.vitalCapacity: 15000, .run50m: 106, .sitAndReach: 130, .ropeSkip: 1210]))
        #expect(r.status == .scored)
        #expect(r.bmiCategory == .normal)
        #expect(r.items.map(\.score) == [100, 90, 80, 90, 100])
        #expect(r.standardHundredths == 9150)
        #expect(r.bonus == 6)
        #expect(r.totalHundredths == 9750)
        #expect(r.band == .excellent)
        #expect(r.provenance == .verified)
    }

    @Test("Grades 3–4: a third-grade girl")
    func workedGrade3() {
        // BMI 32.0 / 1.30² = 18.93 → 18.9: 超重 (18.7–21.1) = 80
        // 肺活量 1280 = 76; 50米 10.0 = 80; 坐位体前屈 7.7 = 70; 跳绳 109 = 80; 仰卧起坐 16 = 60
        // 标准分 = 80×15% + 76×15% + 80×20% + 70×20% + 80×20% + 60×10% = 12 + 11.4 + 16 + 14 + 16 + 6 = 75.4 → 及格
        let r = standard.score(FitnessTest(grade: 13, sex: .female, heightMillimetres: 1300, weightTenthsKg: 320,
                                           results: [.vitalCapacity: 12800, .run50m: 100, .sitAndReach: 77, .ropeSkip: 1090, .sitUp: 160]))
        #expect(r.bmiCategory == .overweight)
        #expect(r.standardHundredths == 7540)
        #expect(r.bonus == 0)
        #expect(r.totalHundredths == 7540)
        #expect(r.band == .pass)
    }

    @Test("Grades 5–6: a fifth-grade girl with the 50 m × 8 shuttle")
    func workedGrade5() {
        // BMI 35.0 / 1.50² = 15.56 → 15.6: 正常 (13.8–20.5) = 100
        // 肺活量 1850 = 80; 50米 9.5 = 76; 坐位体前屈 13.0 = 80; 跳绳 164 = 100 (threshold 158); 仰卧起坐 48 = 100;
        // 50米×8 1′41″ = 101 s = 100
        // 标准分 = 100×15% + 80×15% + 76×20% + 80×10% + 100×10% + 100×20% + 100×10% = 15 + 12 + 15.2 + 8 + 10 + 20 + 10 = 90.2
        // 附加分: 164 − 158 = 6 reps → +3; 学年总分 = 93.2 → 优秀
        let r = standard.score(FitnessTest(grade: 15, sex: .female, heightMillimetres: 1500, weightTenthsKg: 350,
                                           results: [.vitalCapacity: 18500, .run50m: 95, .sitAndReach: 130, .ropeSkip: 1640, .sitUp: 480, .shuttle50x8: 1010]))
        #expect(r.standardHundredths == 9020)
        #expect(r.bonus == 3)
        #expect(r.totalHundredths == 9320)
        #expect(r.band == .excellent)
    }

    @Test("Junior high: an 初二 girl with sit-up and 800 m bonus")
    func workedJunior() {
        // BMI 50.0 / 1.60² = 19.53 → 19.5: 正常 (15.3–22.2) = 100
        // 肺活量 2800 = 90; 50米 8.8 = 80; 坐位体前屈 14.6 = 78; 立定跳远 171 = 78; 仰卧起坐 58 = 100 (threshold 51);
        // 800米 3′20″ = 200 s = 100 (threshold 210)
        // 标准分 = 100×15% + 90×15% + 80×20% + 78×10% + 78×10% + 100×10% + 100×20% = 15 + 13.5 + 16 + 7.8 + 7.8 + 10 + 20 = 90.1
        // 附加分: sit-ups 7 beyond → +4 (ladder 2/4/6/7); 800 m 10 s faster → +2 (5 s a point); 学年总分 = 96.1 → 优秀
        let r = standard.score(FitnessTest(grade: 22, sex: .female, heightMillimetres: 1600, weightTenthsKg: 500,
                                           results: [.vitalCapacity: 28000, .run50m: 88, .sitAndReach: 146, .standingLongJump: 1710, .sitUp: 580, .run800m: 2000]))
        #expect(r.standardHundredths == 9010)
        #expect(r.bonus == 6)
        #expect(r.totalHundredths == 9610)
        #expect(r.band == .excellent)
    }

    @Test("The tables copied from the domain brief: 587 junior and BMI rows VERIFIED (260 more than the previous copy, 327)")
    func verifiedRows() throws {
        let dir = TestSupport.configDirectory + "/fitness-standard-2014/"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("junior_") && $0.hasSuffix(".csv") }
        var verified = 0
        for name in files {
            verified += try FitnessConfigLoader.readTable(dir + name).filter { ($0["verification"] ?? "").hasPrefix("VERIFIED") }.count
        }
        #expect(verified == 587)
    }

    @Test("Senior high: a 高一 boy; his overweight band now rests on VERIFIED rows only")
    func workedSenior() {
        // BMI 70.0 / 1.70² = 24.22 → 24.2: 超重 (23.3–26.3) = 80
        // 肺活量 3800 = 80; 50米 8.1 = 74; 坐位体前屈 5.2 = 66; 立定跳远 243 = 85; 引体向上 7 = 60; 1000米 4′30″ = 270 s = 66
        // 标准分 = 80×15% + 80×15% + 74×20% + 66×10% + 85×10% + 60×10% + 66×20% = 12 + 12 + 14.8 + 6.6 + 8.5 + 6 + 13.2 = 73.1 → 及格
        let r = standard.score(FitnessTest(grade: 31, sex: .male, heightMillimetres: 1700, weightTenthsKg: 700,
                                           results: [.vitalCapacity: 38000, .run50m: 81, .sitAndReach: 52, .standingLongJump: 2430, .pullUp: 70, .run1000m: 2700]))
        #expect(r.bmiCategory == .overweight)
        #expect(r.standardHundredths == 7310)
        #expect(r.totalHundredths == 7310)
        #expect(r.band == .pass)
        #expect(r.provenance == .verified)
        #expect(r.weakRows.isEmpty)
    }

    @Test("Missing a required item: incomplete, not scored; exempt: not scored")
    func incompleteAndExempt() {
        let r = standard.score(FitnessTest(grade: 11, sex: .male, heightMillimetres: 1200, weightTenthsKg: 220,
                                           results: [.vitalCapacity: 15000, .run50m: 106, .sitAndReach: 130]))
        #expect(r.status == .incomplete)
        #expect(r.missing == [.ropeSkip])
        #expect(r.totalHundredths == nil)
        #expect(standard.score(FitnessTest(grade: 11, sex: .male, exempt: true)).status == .exempt)
    }

    @Test("Grade bands at 90.0 / 80.0 / 60.0")
    func bands() {
        #expect(standard.bands.first { 9000 >= $0.minHundredths }?.band == .excellent)
        #expect(standard.bands.first { 8999 >= $0.minHundredths }?.band == .good)
        #expect(standard.bands.first { 8000 >= $0.minHundredths }?.band == .good)
        #expect(standard.bands.first { 7999 >= $0.minHundredths }?.band == .pass)
        #expect(standard.bands.first { 6000 >= $0.minHundredths }?.band == .pass)
        #expect(standard.bands.first { 5999 >= $0.minHundredths }?.band == .fail)
    }
}
