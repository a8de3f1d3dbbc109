import Foundation
public import HealthCore
import Crypto

/// The rules around the fitness tables (`Config/rules/fitness.yaml`).
struct FitnessRulesFile: Decodable {
    struct Range: Decodable { var min: Double; var max: Double }
    struct Tables: Decodable {
        var items: [String]
        var bmi: [String]
        var weights: String
        var bonus: [String]
        var bands: String
    }
    var ruleSet: String
    var version: String
    var sources: [String]
    var maxBonus: Int
    var maxTotal: Int
    var fiveFourRemap: [Int: Int]
    var bounds: [String: Range]
    var tables: Tables
}

/// The fitness standard and the limits the importer checks values against.
public struct FitnessRules: Sendable {
    public var standard: FitnessStandard
    /// 五四制: school grade code → scored grade code.
    public var fiveFourRemap: [Int: Int]
    /// Plausible ranges per field, in the template's units.
    public var bounds: [String: ClosedRange<Double>]
    public var versionTag: String { standard.version }
}

enum FitnessConfigLoader {
    /// Reads a small CSV file from `Config/` with the project's own CSV reader: header → rows of fields.
    static func readTable(_ path: String) throws(IngestError) -> [[String: String]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .badConfig(file: path, reason: "cannot read the file") }
        let reader = CSVReader()
        var header: [String] = []
        var rows: [[String: String]] = []
        do {
            let handle: (CSVRecord) throws -> Void = { record in
                let fields = (0..<record.count).map { record.string($0) }
                if header.isEmpty { header = fields; return }
                if record.isBlank { return }
                guard fields.count == header.count else {
                    throw IngestError.badConfig(file: path, reason: "line \(record.line) has \(fields.count) fields, the header \(header.count)")
                }
                rows.append(Dictionary(uniqueKeysWithValues: zip(header, fields)))
            }
            try data.withUnsafeBytes { raw in try reader.parse(raw.bindMemory(to: UInt8.self), handler: handle) }
            try reader.finish(handler: handle)
        } catch let error as IngestError {
            throw error
        } catch let error as CSVStructureError {
            throw .badConfig(file: path, reason: "line \(error.line): \(error.detail)")
        } catch {
            throw .badConfig(file: path, reason: "\(error)")
        }
        return rows
    }

    static func tenths(_ text: String, file: String, field: String) throws(IngestError) -> Int {
        guard let v = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw .badConfig(file: file, reason: "\(field) '\(text)' is not a number")
        }
        return Int((v * 10).rounded())
    }

    static func sexes(_ text: String, file: String) throws(IngestError) -> [Sex] {
        switch text {
        case "M": return [.male]
        case "F": return [.female]
        case "MF": return [.male, .female]
        default: throw .badConfig(file: file, reason: "sex '\(text)' is not M, F or MF")
        }
    }

    static func grades(_ text: String, file: String) throws(IngestError) -> ClosedRange<Int> {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2 || parts.count == 1 else { throw .badConfig(file: file, reason: "grade range '\(text)'") }
        return parts[0]...(parts.count == 2 ? parts[1] : parts[0])
    }

    static func load(directory: String) throws(IngestError) -> FitnessRules {
        let rulesPath = directory + "/rules/fitness.yaml"
        let rules: FitnessRulesFile = try SchoolHealthConfig.decode(FitnessRulesFile.self, path: rulesPath)
        let tableDir = directory + "/fitness-standard-2014/"
        var digest = SHA256()
        func read(_ name: String) throws(IngestError) -> [[String: String]] {
            let path = tableDir + name
            if let data = FileManager.default.contents(atPath: path) { digest.update(data: data) }
            return try readTable(path)
        }
        if let data = FileManager.default.contents(atPath: rulesPath) { digest.update(data: data) }

        var levels: [TableKey: [ScoreLevel]] = [:]
        var directions: [FitnessItem: ScoreDirection] = [:]
        for name in rules.tables.items {
            let file = tableDir + name
            for row in try read(name) {
                guard let item = FitnessItem(rawValue: row["item"] ?? ""), let grade = Int(row["grade_code"] ?? ""),
                      let score = Int(row["score"] ?? ""), let direction = ScoreDirection(rawValue: row["direction"] ?? "") else {
                    throw .badConfig(file: file, reason: "a row lacks item, grade_code, score or direction: \(row)")
                }
                directions[item] = direction
                for sex in try sexes(row["sex"] ?? "", file: file) {
                    levels[TableKey(item, grade, sex), default: []].append(ScoreLevel(
                        score: score, threshold: try tenths(row["threshold"] ?? "", file: file, field: "threshold"),
                        provenance: Provenance(verification: row["verification"] ?? ""), source: row["source"] ?? ""))
                }
            }
        }
        var bmi: [TableKey: [BMIBand]] = [:]
        for name in rules.tables.bmi {
            let file = tableDir + name
            for row in try read(name) {
                guard let grade = Int(row["grade_code"] ?? ""), let category = BMICategory(rawValue: row["category"] ?? ""),
                      let score = Int(row["score"] ?? "") else { throw .badConfig(file: file, reason: "bad BMI row \(row)") }
                let lo = row["bmi_min"].flatMap { $0.isEmpty ? nil : $0 }, hi = row["bmi_max"].flatMap { $0.isEmpty ? nil : $0 }
                for sex in try sexes(row["sex"] ?? "", file: file) {
                    bmi[TableKey(.bmi, grade, sex), default: []].append(BMIBand(
                        category: category, score: score,
                        min: try lo.map { (t) throws(IngestError) in try tenths(t, file: file, field: "bmi_min") },
                        max: try hi.map { (t) throws(IngestError) in try tenths(t, file: file, field: "bmi_max") },
                        provenance: Provenance(verification: row["verification"] ?? "")))
                }
            }
        }
        var weights: [TableKey: [(item: FitnessItem, percent: Int)]] = [:]
        for row in try read(rules.tables.weights) {
            let file = tableDir + rules.tables.weights
            guard let grade = Int(row["grade_code"] ?? ""), let item = FitnessItem(rawValue: row["item"] ?? ""),
                  let percent = Int(row["weight_percent"] ?? "") else { throw .badConfig(file: file, reason: "bad weight row \(row)") }
            for sex in try sexes(row["sex"] ?? "", file: file) { weights[TableKey(.bmi, grade, sex), default: []].append((item, percent)) }
        }
        for (key, list) in weights where list.reduce(0, { $0 + $1.percent }) != 100 {
            throw .badConfig(file: tableDir + rules.tables.weights, reason: "weights of grade \(key.grade) \(key.sex) add up to \(list.reduce(0) { $0 + $1.percent }), not 100")
        }
        var bonus: [TableKey: [BonusStep]] = [:]
        for name in rules.tables.bonus {
            let file = tableDir + name
            var fromThisFile: [TableKey: [BonusStep]] = [:]
            for row in try read(name) {
                guard let item = FitnessItem(rawValue: row["item"] ?? ""), let points = Int(row["bonus_points"] ?? "") else {
                    throw .badConfig(file: file, reason: "bad bonus row \(row)")
                }
                let margin = try tenths(row["required_margin"] ?? "", file: file, field: "required_margin")
                for grade in try grades(row["grade_codes"] ?? "", file: file) {
                    for sex in try sexes(row["sex"] ?? "", file: file) {
                        fromThisFile[TableKey(item, grade, sex), default: []].append(
                            BonusStep(points: points, margin: margin, provenance: Provenance(verification: row["verification"] ?? "")))
                    }
                }
            }
            // A later file replaces an earlier one's ladder for the same item, grade and sex.
            bonus.merge(fromThisFile) { _, new in new }
        }
        var bands: [GradeBand] = []
        for row in try read(rules.tables.bands) {
            let label = row["level"] ?? ""
            let band: FitnessBand = label.hasPrefix("优秀") ? .excellent : label.hasPrefix("良好") ? .good : label.hasPrefix("及格") ? .pass : .fail
            let min = row["min_total"].flatMap { $0.isEmpty ? nil : Double($0) } ?? 0
            bands.append(GradeBand(band: band, minHundredths: Int((min * 100).rounded())))
        }
        let tag = "\(rules.version)@\(digest.finalize().map { String(format: "%02x", $0) }.joined().prefix(8))"
        let standard = FitnessStandard(levels: levels, directions: directions, bmi: bmi, weights: weights, bonus: bonus,
                                       bands: bands, maxBonus: rules.maxBonus, maxTotal: rules.maxTotal, version: tag)
        return FitnessRules(standard: standard, fiveFourRemap: rules.fiveFourRemap,
                            bounds: rules.bounds.mapValues { $0.min...$0.max })
    }
}
