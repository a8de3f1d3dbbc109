public import HealthCore
import Foundation

extension SyntheticCounty {
    /// CSV-escapes a field (quotes when it holds a comma, quote or line break).
    static func csv(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    /// The students enrolled in a year: (student, grade 1–12).
    func roster(year index: Int) -> [(Student, Int)] {
        let entrantsPerYear = max(1, students / 12)
        let total = students + entrantsPerYear * (years - 1)
        return (0..<total).compactMap { i in
            let s = Student(index: i, seed: seed, students: students, firstYear: firstYear)
            let grade = s.grade0 + index
            return (1...12).contains(grade) ? (s, grade) : nil
        }
    }

    func school(of s: Student, grade: Int) -> String {
        let candidates = Self.schools.filter { $0.grades.contains(grade) }
        return candidates[s.schoolSlot % candidates.count].code
    }

    static func gradeCode(_ grade: Int) -> Int { grade <= 6 ? 10 + grade : (grade <= 9 ? 14 + grade : 21 + grade) }

    /// Writes one spine-screening file per school year (UTF-8 with BOM, Chinese headers, the surveillance form).
    public func writeSpine(to directory: String) throws -> [GeneratedFile] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [GeneratedFile] = []
        for y in 0..<years {
            let year = firstYear + y
            let path = (directory as NSString).appendingPathComponent("spine-\(year).csv")
            let writer = try CSVFileWriter(path: path, gb18030: false, bom: true, lineEnding: "\r\n")
            try writer.write(["学籍号", "性别", "出生日期", "学校代码", "年级编号", "班级", "筛查日期", "一般检查",
                              "前屈试验胸段", "前屈试验胸腰段", "前屈试验腰段", "胸段躯干旋转角", "胸腰段躯干旋转角", "腰段躯干旋转角",
                              "脊柱运动试验", "前后弯曲一般检查", "俯卧试验", "疾病史"].joined(separator: ","))
            var rows = 0
            for (s, grade) in roster(year: y) {
                var rng = SplitMix64(seed: seed ^ 0x5350_494E ^ (UInt64(year) << 32) ^ s.id.hashValueStable)
                let date = CivilDate(daysSinceEpoch: CivilDate(year: year, month: 10, day: 8)!.daysSinceEpoch + Int(rng.next() % 30))
                var sides: [String] = [], atrs: [String] = []
                var anyFinding = false
                for _ in 0..<3 {
                    // Most children have no rotation; a few percent screen positive, more in adolescence.
                    let risk = grade >= 5 ? 0.07 : 0.03
                    let u = rng.unit()
                    if u < risk {
                        let atr = (u < risk / 3 ? 5.0 + rng.unit() * 8 : 2.0 + rng.unit() * 2.9)
                        let rounded = (atr * 2).rounded() / 2
                        let leftHigh = rng.next() % 2 == 0
                        sides.append(String((leftHigh ? 4 : 2) + (rounded >= 5 ? 1 : 0)))
                        atrs.append(String(format: rounded == rounded.rounded() ? "%.0f" : "%.1f", rounded))
                        anyFinding = true
                    } else {
                        sides.append("1")
                        atrs.append(rng.unit() < 0.5 ? "0" : "1")
                    }
                }
                let sagittalU = rng.unit()
                let side = sagittalU < 0.03 ? "前凸体征" : (sagittalU < 0.06 ? "后凸体征" : "正常")
                let prone = side == "正常" ? "" : (rng.unit() < 0.6 ? "前后凸体征消失" : side)
                let general = anyFinding ? (rng.unit() < 0.5 ? "2" : "2;6") : "1"
                let c = date.components
                let fields = [s.id, String(s.sex.rawValue), s.birth.description, school(of: s, grade: grade), String(Self.gradeCode(grade)),
                              String(s.classNo), "\(c.year)/\(c.month)/\(c.day)", general] + sides + atrs
                    + [anyFinding ? "否" : "", side, prone, rng.unit() < 0.01 ? "脊柱弯曲异常家族史" : "无"]
                try writer.write(fields.map(Self.csv).joined(separator: ","))
                rows += 1
            }
            try writer.close()
            files.append(GeneratedFile(path: path, kind: "spine", schoolYear: year, rows: rows, encoding: "UTF-8 with BOM", headers: "Chinese"))
        }
        return files
    }

    /// Writes one physical-fitness file per school year in the national 2014 upload template (21 columns, no
    /// school column): GB18030 in even years, UTF-8 in odd ones; run times in mixed notations; a few exempt
    /// students (免体 in 身高).
    public func writeFitness(to directory: String) throws -> [GeneratedFile] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [GeneratedFile] = []
        let header = ["年级编号", "班级编号", "班级名称", "学籍号", "民族代码", "姓名", "性别", "出生日期", "家庭住址", "身高", "体重", "肺活量",
                      "50米跑", "立定跳远", "坐位体前屈", "50米×8往返跑", "一分钟跳绳", "800米跑(女)", "1000米跑(男)", "一分钟仰卧起坐", "引体向上(男)"]
        for y in 0..<years {
            let year = firstYear + y
            let gb = y % 2 == 1
            let path = (directory as NSString).appendingPathComponent("fitness-\(year).csv")
            let writer = try CSVFileWriter(path: path, gb18030: gb, bom: !gb, lineEnding: "\r\n")
            try writer.write(header.joined(separator: ","))
            var rows = 0
            for (n, (s, grade)) in roster(year: y).enumerated() {
                try writer.write(fitnessRow(s, grade: grade, year: year, notation: n).map(Self.csv).joined(separator: ","))
                rows += 1
            }
            try writer.close()
            files.append(GeneratedFile(path: path, kind: "fitness", schoolYear: year, rows: rows,
                                       encoding: gb ? "GB18030" : "UTF-8 with BOM", headers: "national template"))
        }
        return files
    }

    func fitnessRow(_ s: Student, grade: Int, year: Int, notation: Int) -> [String] {
        var rng = SplitMix64(seed: seed ^ 0x4649_5400 ^ (UInt64(year) << 32) ^ s.id.hashValueStable)
        let boy = s.sex == .male
        let g = Double(grade)
        // A latent fitness level per student and year: higher is fitter.
        let fit = rng.normal() * 0.8 + 0.3 + (Double(s.schoolSlot % 7) - 3) * 0.05
        func around(_ mean: Double, _ sd: Double) -> Double { mean + (fit + rng.normal() * 0.6) * sd }
        let height = 115 + g * 5.6 + (boy && grade > 6 ? (g - 6) * 1.8 : 0) + rng.normal() * 5
        let bmi = 15.0 + g * 0.45 + max(-3, rng.normal() * 2.2 + (rng.unit() < 0.18 ? 3.5 : 0))
        let weight = bmi * pow(height / 100, 2)
        let exempt = rng.unit() < 0.004
        func time(_ seconds: Double) -> String {
            let total = Int(seconds.rounded())
            let m = total / 60, sec = total % 60
            switch notation % 4 {
            case 0: return "\(m)′\(sec < 10 ? "0" : "")\(sec)″"
            case 1: return "\(m)'\(sec < 10 ? "0" : "")\(sec)\""
            case 2: return "\(m).\(sec < 10 ? "0" : "")\(sec)"
            default: return "\(m)’\(sec < 10 ? "0" : "")\(sec)”"
            }
        }
        let vc = Int(around(boy ? 900 + 260 * g : 800 + 200 * g, boy ? 300 : 250))
        let sprint = max(6.0, around(boy ? 12.2 - 0.38 * g : 12.6 - 0.33 * g, -0.6))
        let reach = around(boy ? 6 + 0.3 * g : 11 + 0.5 * g, 4.5)
        var fields = [String(Self.gradeCode(grade)), String(s.classNo), "\(grade)年级\(s.classNo)班", s.id, "01", "学生\(s.id.suffix(5))",
                      String(s.sex.rawValue), s.birth.description, "（不存储）",
                      exempt ? "免体" : String(format: "%.1f", height), exempt ? "" : String(format: "%.1f", weight),
                      exempt ? "" : String(max(300, vc)), exempt ? "" : String(format: "%.1f", sprint),
                      "", exempt ? "" : String(format: "%.1f", reach), "", "", "", "", "", ""]
        guard !exempt else { return fields }
        if grade <= 6 { fields[16] = String(max(10, Int(around(55 + 12 * g, 20)))) }
        if (3...6).contains(grade) { fields[19] = String(max(5, Int(around(20 + 3 * g, 8)))) }
        if grade >= 5 && grade <= 6 { fields[15] = time(max(80, around(boy ? 118 - 2 * g : 122 - 2 * g, -10))) }
        if grade >= 7 {
            fields[13] = String(Int(around(boy ? 170 + 7 * g : 150 + 3 * g, 15)))
            if boy {
                fields[18] = time(max(190, around(300 - 3 * g, -22)))
                fields[20] = String(max(0, Int(around(2 + 0.5 * (g - 7), 3))))
            } else {
                fields[17] = time(max(180, around(258 - 1 * g, -18)))
                fields[19] = String(max(5, Int(around(38 + g, 7))))
            }
        }
        return fields
    }
}

extension SyntheticCounty {
    /// Writes the last year's psychological screening scores (PHQ-9 from grade 7, MHT in grades 4–6; scores only)
    /// and the mentor grid (one class teacher per class) for the same students.
    public func writePsych(to directory: String) throws -> [GeneratedFile] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let y = years - 1, year = firstYear + y
        let path = (directory as NSString).appendingPathComponent("psych-\(year).csv")
        let mentors = (directory as NSString).appendingPathComponent("mentors-\(year).csv")
        let writer = try CSVFileWriter(path: path, gb18030: false, bom: true, lineEnding: "\r\n")
        let grid = try CSVFileWriter(path: mentors, gb18030: false, bom: true, lineEnding: "\r\n")
        try writer.write("学籍号,性别,学校代码,年级编号,班级,测评日期,量表,总分,第9题,效度量表,第85题,第97题")
        try grid.write("school_code,class,student_id,mentor_login,role")
        var rows = 0
        for (s, grade) in roster(year: y) where grade >= 4 {
            var rng = SplitMix64(seed: seed ^ 0x5053_5943 ^ (UInt64(year) << 32) ^ s.id.hashValueStable)
            let school = school(of: s, grade: grade)
            let date = CivilDate(year: year, month: 10, day: 14 + Int(rng.next() % 5))!
            let fields: [String]
            if grade >= 7 {
                // Mostly low scores; a long tail.
                let total = min(27, Int((-log(max(1e-9, rng.unit())) * 4.2).rounded()))
                let u = rng.unit()
                let item9 = total >= 8 && u < 0.12 ? (u < 0.03 ? 2 : 1) : 0
                fields = [s.id, String(s.sex.rawValue), school, String(Self.gradeCode(grade)), String(s.classNo), date.description,
                          "PHQ-9", String(total), String(item9), "", "", ""]
            } else {
                let total = max(0, min(90, Int((38 + rng.normal() * 12).rounded())))
                fields = [s.id, String(s.sex.rawValue), school, String(Self.gradeCode(grade)), String(s.classNo), date.description,
                          "MHT", String(total), "", String(Int(rng.next() % 9)), rng.unit() < 0.008 ? "是" : "否", rng.unit() < 0.005 ? "是" : "否"]
            }
            try writer.write(fields.joined(separator: ","))
            try grid.write([school, String(s.classNo), s.id, "ct-\(school)-\(grade)-\(s.classNo)", "class-teacher"].joined(separator: ","))
            rows += 1
        }
        try writer.close()
        try grid.close()
        return [GeneratedFile(path: path, kind: "psych", schoolYear: year, rows: rows, encoding: "UTF-8 with BOM", headers: "Chinese"),
                GeneratedFile(path: mentors, kind: "mentors", schoolYear: year, rows: rows, encoding: "UTF-8 with BOM", headers: "English")]
    }
}

extension SyntheticCounty {
    /// Made-up names of the county's schools ("示例县" = "example county"), with the other spellings exports use.
    public static let schoolNames: [String: (name: String, stage: String, aliases: [String])] = [
        "SH-P01": ("示例县第一小学", "小学", ["示例一小", "第一小学"]), "SH-P02": ("示例县第二小学", "小学", ["示例二小"]),
        "SH-P03": ("示例县第三小学", "小学", ["示例三小"]), "SH-P04": ("示例县海岛小学", "小学", ["海岛小学"]),
        "SH-J01": ("示例县第一初级中学", "初中", ["示例一中"]), "SH-J02": ("示例县第二初级中学", "初中", ["示例二中"]),
        "SH-S01": ("示例县高级中学", "高中", ["示例高中"]), "SH-V01": ("示例县职业技术学校", "中职", ["示例职校"]),
    ]

    /// Writes the county's school list (UTF-8 with BOM: 学校代码, 学校名称, 学段, 别名).
    public func writeSchools(to directory: String) throws -> [GeneratedFile] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/schools.csv"
        var text = "\u{FEFF}学校代码,学校名称,学段,别名\r\n"
        for (code, _) in Self.schools {
            let s = Self.schoolNames[code]!
            text += "\(code),\(s.name),\(s.stage),\(s.aliases.joined(separator: ";"))\r\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return [GeneratedFile(path: path, kind: "schools", schoolYear: firstYear, rows: Self.schools.count, encoding: "UTF-8 with BOM", headers: "Chinese")]
    }
}
