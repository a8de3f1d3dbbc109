public import HealthCore
import Foundation

extension SyntheticCounty {
    /// Writes every school's student list (学籍名单) per school year in the national template's base columns with a
    /// school column (UTF-8 with BOM). As real lists do, they hold a few students no screening file has (absent on
    /// the day, or joined late) and, in the first year, a few mistyped 学籍号 (two digits swapped), which then
    /// show as a screening nobody is listed for, with the right ID offered.
    public func writeRosters(to directory: String) throws -> [GeneratedFile] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [GeneratedFile] = []
        for y in 0..<years {
            let year = firstYear + y
            let path = (directory as NSString).appendingPathComponent("roster-\(year).csv")
            let writer = try CSVFileWriter(path: path, gb18030: false, bom: true, lineEnding: "\r\n")
            try writer.write("学校代码,年级编号,班级编号,班级名称,学籍号,民族代码,姓名,性别,出生日期")
            var rows = 0
            for (n, (s, grade)) in roster(year: y).enumerated() {
                func line(_ id: String) -> String {
                    [school(of: s, grade: grade), String(Self.gradeCode(grade)), String(format: "%02d", s.classNo), "\(grade)年级\(s.classNo)班",
                     id, "01", "学生\(id.suffix(5))", String(s.sex.rawValue), s.birth.description].joined(separator: ",")
                }
                try writer.write(line(y == 0 && n % 500 == 3 ? Self.swapLastDigits(s.id) : s.id))
                rows += 1
                if n % 200 == 11 {
                    // Listed, never screened: a student who joined after the screening days.
                    try writer.write(line("G98" + s.id.dropFirst(3)))
                    rows += 1
                }
            }
            try writer.close()
            files.append(GeneratedFile(path: path, kind: "roster", schoolYear: year, rows: rows, encoding: "UTF-8 with BOM", headers: "Chinese"))
        }
        return files
    }

    /// The ID with its last two characters swapped (or its last digit changed when they are equal): a typing slip.
    static func swapLastDigits(_ id: String) -> String {
        var c = Array(id)
        guard c.count >= 2 else { return id }
        if c[c.count - 1] != c[c.count - 2] { c.swapAt(c.count - 1, c.count - 2) } else { c[c.count - 1] = c[c.count - 1] == "0" ? "1" : "0" }
        return String(c)
    }
}

/// What the clinic is asked about: an issued notice, with the screening values it reports.
public struct SyntheticNotice: Sendable {
    public var id: Int64
    public var studentID: String
    public var kind: String
    public var screeningDate: String
    /// The screening's spherical equivalent per eye (vision), dioptres.
    public var se: (right: Double?, left: Double?)
    /// The screening's largest trunk rotation (spine), degrees.
    public var atr: Double?
    public var findings: [String]
    /// The day the notice was issued (days since 1970).
    public var issuedDay: Int
    public init(id: Int64, studentID: String, kind: String, screeningDate: String, se: (right: Double?, left: Double?), atr: Double?, findings: [String],
                issuedDay: Int) {
        self.id = id; self.studentID = studentID; self.kind = kind; self.screeningDate = screeningDate; self.se = se; self.atr = atr; self.findings = findings
        self.issuedDay = issuedDay
    }
}

/// Synthetic clinics' results for issued notices, as a nurse would collect the return slips: about three in four
/// come back, one to eight weeks after the notice; cycloplegic refraction is a little less myopic than the
/// screening's (accommodation relaxed), so some screening-myopic children are not myopic; a radiograph's Cobb
/// angle follows the trunk rotation. One row is wrong on purpose (a Cobb angle of 8° called scoliosis), so the
/// demo shows a rejected result.
public enum SyntheticClinic {
    public static func resultsCSV(_ notices: [SyntheticNotice], seed: UInt64, today: CivilDate) -> (text: String, rows: Int) {
        var out = "\u{FEFF}通知编号,学籍号,检查类型,检查日期,检查机构,检查结果,右眼等效球镜,左眼等效球镜,Cobb角\r\n"
        var rows = 0
        var mistakeWritten = false
        for n in notices {
            var rng = SplitMix64(seed: seed ^ UInt64(n.id) &* 0x9E37_79B9_7F4A_7C15)
            let parts = n.screeningDate.split(separator: "-").compactMap { Int($0) }
            guard rng.unit() < 0.76, parts.count == 3, let screened = CivilDate(year: parts[0], month: parts[1], day: parts[2]) else { continue }
            let day = CivilDate(daysSinceEpoch: min(today.daysSinceEpoch, max(screened.daysSinceEpoch, n.issuedDay) + 5 + Int(rng.next() % 50)))
            var fields = [String(n.id), n.studentID]
            switch n.kind {
            case "vision":
                func cyclo(_ v: Double?) -> Double? { v.map { (($0 + rng.unit() * 0.75) * 4).rounded() / 4 } }
                let r = cyclo(n.se.right), l = cyclo(n.se.left)
                let myopic = [r, l].compactMap { $0 }.contains { $0 <= -0.5 }
                let outcome = r == nil && l == nil ? (rng.unit() < 0.6 ? "近视" : "非近视") : (myopic ? "近视" : "非近视")
                let shown = r == nil && l == nil && outcome == "近视" ? (String(-1.0), String(-1.25)) : (r.map { String(format: "%.2f", $0) } ?? "", l.map { String(format: "%.2f", $0) } ?? "")
                fields += ["视力", day.description, "县人民医院眼科", outcome, shown.0, shown.1, ""]
            case "spine":
                let lateral = n.findings.contains("spine_lateral")
                var cobb = lateral ? max(0, (n.atr ?? 5) * 1.3 + (rng.unit() - 0.5) * 6) : rng.unit() * 6
                cobb = (cobb * 2).rounded() / 2
                var outcome = cobb >= 10 ? "脊柱侧弯" : (n.findings.contains("postural") || rng.unit() < 0.5 ? "姿势性" : "正常")
                if !mistakeWritten && cobb < 10 && lateral { outcome = "脊柱侧弯"; cobb = 8; mistakeWritten = true }
                fields += ["脊柱", day.description, "县人民医院骨科", outcome, "", "", String(format: cobb == cobb.rounded() ? "%.0f" : "%.1f", cobb)]
            default:
                continue
            }
            out += fields.joined(separator: ",") + "\r\n"
            rows += 1
        }
        return (out, rows)
    }
}
