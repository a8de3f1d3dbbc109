public import HealthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A reproducible synthetic county: schools from primary to senior high, students who move up a grade
/// each year, eyes that drift towards myopia with age. Every ID, code and name is made up.
///
///     let county = SyntheticCounty(seed: 7, students: 2_000, firstYear: 2022, years: 3)
///     let files = try county.writeVision(to: "out/")
public struct SyntheticCounty: Sendable {
    public var seed: UInt64
    public var students: Int
    public var firstYear: Int
    public var years: Int

    public init(seed: UInt64 = 2024, students: Int = 2_000, firstYear: Int = 2022, years: Int = 3) {
        self.seed = seed; self.students = students; self.firstYear = firstYear; self.years = years
    }

    /// One file written by the generator.
    public struct GeneratedFile: Sendable, Codable, Equatable {
        public var path: String
        public var kind: String
        public var schoolYear: Int
        public var rows: Int
        public var encoding: String
        public var headers: String
        public init(path: String, kind: String, schoolYear: Int, rows: Int, encoding: String, headers: String) {
            self.path = path; self.kind = kind; self.schoolYear = schoolYear; self.rows = rows; self.encoding = encoding; self.headers = headers
        }
    }

    /// Schools of the county: (code, first grade, last grade). Codes are made up ("SH-" prefix).
    public static let schools: [(code: String, grades: ClosedRange<Int>)] = [
        ("SH-P01", 1...6), ("SH-P02", 1...6), ("SH-P03", 1...6), ("SH-P04", 1...6),
        ("SH-J01", 7...9), ("SH-J02", 7...9),
        ("SH-S01", 10...12), ("SH-V01", 10...12),
    ]

    /// The file layouts a county's schools really send, cycled over the years.
    enum Layout: CaseIterable {
        /// Excel "CSV UTF-8": BOM, CRLF, Chinese headers, 5-point acuity, ISO dates.
        case excelUTF8
        /// Excel on Chinese Windows: GB18030, CRLF, Chinese headers with a name column, 2024/9/1 dates.
        case excelGB18030
        /// A screening system's export: UTF-8, LF, English headers, decimal acuity, 20240901 dates.
        case systemEnglish
    }

    /// A student as of the first year (or their entry year): everything derived from the seed and the index.
    struct Student {
        var id: String
        var sex: Sex
        var grade0: Int          // grade in `firstYear` (may be < 1 for later entrants)
        var birth: CivilDate
        var baseSE: Double       // SE at age 6, dioptres
        var drift: Double        // SE change per year, dioptres (negative)
        var eyeOffset: Double    // right minus left
        var cylinder: (Double, Double)
        var axis: (Int, Int)
        var schoolSlot: Int
        var classNo: Int

        init(index: Int, seed: UInt64, students: Int, firstYear: Int) {
            var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            // The first `students` are spread over grades 1–12; later indices are grade-1 entrants of later years.
            if index < students {
                grade0 = 1 + Int(rng.next() % 12)
            } else {
                grade0 = 1 - (1 + (index - students) / max(1, students / 12))
            }
            id = "G99" + String(format: "%016d", 1_000_000 + index * 7 + Int(seed % 7))
            sex = rng.next() % 2 == 0 ? .male : .female
            let birthYear = firstYear - grade0 - 6 + (rng.unit() < 0.8 ? 0 : -1)
            birth = CivilDate(year: birthYear, month: 1 + Int(rng.next() % 12), day: 1 + Int(rng.next() % 28))!
            baseSE = 0.9 + rng.normal() * 0.6
            drift = min(0.05, -0.38 + rng.normal() * 0.22)
            eyeOffset = rng.normal() * 0.25
            cylinder = (-abs((rng.normal() * 0.45 * 4).rounded() / 4), -abs((rng.normal() * 0.45 * 4).rounded() / 4))
            axis = (1 + Int(rng.next() % 180), 1 + Int(rng.next() % 180))
            schoolSlot = Int(rng.next() % 64)
            classNo = 1 + Int(rng.next() % 8)
        }
    }

    /// Writes one vision file per school year into `directory`; returns what it wrote.
    public func writeVision(to directory: String) throws -> [GeneratedFile] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [GeneratedFile] = []
        let entrantsPerYear = max(1, students / 12)
        for y in 0..<years {
            let year = firstYear + y
            let layout = Layout.allCases[y % Layout.allCases.count]
            let path = (directory as NSString).appendingPathComponent("vision-\(year).csv")
            let writer = try CSVFileWriter(path: path, gb18030: layout == .excelGB18030, bom: layout == .excelUTF8,
                                           lineEnding: layout == .systemEnglish ? "\n" : "\r\n")
            let headers: [String]
            switch layout {
            case .excelUTF8:
                headers = ["学籍号", "性别", "出生日期", "学校代码", "年级编号", "班级", "筛查日期", "右眼裸眼视力", "左眼裸眼视力",
                           "右眼球镜", "右眼柱镜", "右眼轴位", "左眼球镜", "左眼柱镜", "左眼轴位", "戴镜类型", "右眼矫正视力", "左眼矫正视力"]
            case .excelGB18030:
                headers = ["学籍号", "姓名", "性别", "出生日期", "学校代码", "年级编号", "班级", "筛查日期", "右眼裸眼视力", "左眼裸眼视力",
                           "右眼球镜", "右眼柱镜", "右眼轴位", "左眼球镜", "左眼柱镜", "左眼轴位", "戴镜类型", "右眼矫正视力", "左眼矫正视力"]
            case .systemEnglish:
                headers = ["student_id", "sex", "birth_date", "school_code", "grade_code", "class", "screening_date", "ucva_right", "ucva_left",
                           "sph_right", "cyl_right", "axis_right", "sph_left", "cyl_left", "axis_left", "glasses", "cva_right", "cva_left"]
            }
            try writer.write(headers.joined(separator: ","))
            var rows = 0
            let total = students + entrantsPerYear * (years - 1)
            for index in 0..<total {
                let s = Student(index: index, seed: seed, students: students, firstYear: firstYear)
                let grade = s.grade0 + y
                guard (1...12).contains(grade) else { continue }
                var line = row(for: s, grade: grade, year: year, yearIndex: y, layout: layout)
                if layout == .excelGB18030, index % 397 == 13 { line = Self.mistake(in: line, number: index / 397) }
                try writer.write(line)
                rows += 1
            }
            try writer.close()
            files.append(GeneratedFile(path: path, kind: "vision", schoolYear: year, rows: rows,
                                       encoding: layout == .excelGB18030 ? "GB18030" : (layout == .excelUTF8 ? "UTF-8 with BOM" : "UTF-8"),
                                       headers: layout == .systemEnglish ? "English" : "Chinese"))
        }
        return files
    }

    /// The mistakes real exports carry, one per call, so the demo shows what a rejects file says.
    static func mistake(in line: String, number: Int) -> String {
        var fields = line.components(separatedBy: ",")
        switch number % 4 {
        case 0: fields[0] = "1.23457E+18"        // an ID Excel turned into a number
        case 1: fields[8] = "0.9"                // not a line of the decimal chart
        case 2: fields[7] = "2023/2/30"          // no such date
        default: fields[10] = "-1.2.5"           // a typo in the sphere
        }
        return fields.joined(separator: ",")
    }

    func row(for s: Student, grade: Int, year: Int, yearIndex: Int, layout: Layout) -> String {
        let candidates = Self.schools.filter { $0.grades.contains(grade) }
        let school = candidates[s.schoolSlot % candidates.count].code
        let gradeCode = grade <= 6 ? 10 + grade : (grade <= 9 ? 14 + grade : 21 + grade)
        var rng = SplitMix64(seed: seed ^ (UInt64(year) << 32) ^ s.id.hashValueStable)
        let day = CivilDate(year: year, month: 9, day: 10)!.daysSinceEpoch + Int(rng.next() % 45)
        let date = CivilDate(daysSinceEpoch: day)
        // A county programme slows the drift a little each year (the bureau's target at work).
        let effect = 1.0 - 0.04 * Double(yearIndex)
        let se = s.baseSE + s.drift * effect * Double(grade - 1) + rng.normal() * 0.15
        let seR = se + s.eyeOffset / 2, seL = se - s.eyeOffset / 2
        let glasses: GlassesType
        if se < -1.0 {
            let u = rng.unit()
            glasses = u < 0.06 && grade <= 9 ? .orthokeratology : (u < 0.09 && grade >= 10 ? .contactLens : (u < 0.75 ? .frame : .none))
        } else {
            glasses = .none
        }
        func ucva(_ se: Double) -> Int {
            let base: Double = se > -0.5 ? 50 + (rng.unit() < 0.15 ? -1 : (rng.unit() < 0.2 ? 1 : 0)) : 49 + se * 2.2
            return min(53, max(40, Int(base.rounded()) + (rng.unit() < 0.2 ? Int(rng.next() % 3) - 1 : 0)))
        }
        func quarter(_ v: Double) -> Double { (v * 4).rounded() / 4 }
        let cylR = s.cylinder.0, cylL = s.cylinder.1
        let sphR = quarter(seR - cylR / 2), sphL = quarter(seL - cylL / 2)
        var uR = ucva(seR), uL = ucva(seL)
        var refraction = true
        if glasses == .orthokeratology {
            // OK-lens wearers: UCVA and refraction are distorted by the lens; often left blank.
            uR = 49 + Int(rng.next() % 3); uL = 49 + Int(rng.next() % 3)
            refraction = rng.unit() < 0.3
        }
        let corrected = glasses == .none ? nil : (49 + Int(rng.next() % 2), 49 + Int(rng.next() % 2))

        func acuity(_ tenths: Int) -> String {
            if layout == .systemEnglish {
                let v = pow(10, Double(tenths) / 10 - 5)
                let chart = [0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0]
                let nearest = chart.min(by: { abs($0 - v) < abs($1 - v) })!
                return nearest == nearest.rounded() ? String(format: "%.1f", nearest) : String(nearest)
            }
            return "\(tenths / 10).\(tenths % 10)"
        }
        func dpt(_ v: Double) -> String { refraction ? String(format: "%.2f", v) : "" }
        func ax(_ v: Int, _ cyl: Double) -> String { refraction && cyl != 0 ? String(v) : (refraction ? "0" : "") }
        let dateText: String
        let birthText: String
        let c = date.components, b = s.birth.components
        switch layout {
        case .excelUTF8:
            dateText = date.description; birthText = s.birth.description
        case .excelGB18030:
            dateText = "\(c.year)/\(c.month)/\(c.day)"; birthText = "\(b.year)/\(b.month)/\(b.day)"
        case .systemEnglish:
            dateText = date.description.replacingOccurrences(of: "-", with: "")
            birthText = s.birth.description.replacingOccurrences(of: "-", with: "")
        }
        let sex = layout == .systemEnglish ? (s.sex == .male ? "M" : "F") : (layout == .excelGB18030 ? (s.sex == .male ? "男" : "女") : String(s.sex.rawValue))
        let className = layout == .excelGB18030 ? "\(grade)年级\(s.classNo)班" : String(s.classNo)
        var fields = [s.id]
        if layout == .excelGB18030 { fields.append("学生\(s.id.suffix(5))") }
        fields += [sex, birthText, school, String(gradeCode), className, dateText,
                   glasses == .orthokeratology && rng.unit() < 0.5 ? "" : acuity(uR),
                   glasses == .orthokeratology && rng.unit() < 0.5 ? "" : acuity(uL),
                   dpt(sphR), dpt(cylR), ax(s.axis.0, cylR), dpt(sphL), dpt(cylL), ax(s.axis.1, cylL),
                   String(glasses.rawValue), corrected.map { acuity($0.0) } ?? "", corrected.map { acuity($0.1) } ?? ""]
        return fields.joined(separator: ",")
    }
}

/// SplitMix64: small, fast and the same on every platform (Swift's default generator cannot be seeded).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-12), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across runs (unlike `hashValue`).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// Writes CSV lines to a file in 1 MiB blocks, in UTF-8 (optionally with a BOM) or GB18030.
final class CSVFileWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let lineEnding: String
    private let converter: iconv_t?

    init(path: String, gb18030: Bool, bom: Bool, lineEnding: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) , let h = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        handle = h
        self.lineEnding = lineEnding
        converter = gb18030 ? iconv_open("GB18030", "UTF-8") : nil
        buffer.reserveCapacity(1 << 20 + 4096)
        if bom { buffer += [0xEF, 0xBB, 0xBF] }
    }

    func write(_ line: String) throws {
        let text = line + lineEnding
        if let converter {
            var input = Array(text.utf8)
            var output = [UInt8](repeating: 0, count: input.count * 2 + 8)
            let produced = input.withUnsafeMutableBufferPointer { inBuf in
                output.withUnsafeMutableBufferPointer { outBuf in
                    var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                    var inLeft = inBuf.count, outLeft = outBuf.count
                    _ = iconv(converter, &inPtr, &inLeft, &outPtr, &outLeft)
                    return outBuf.count - outLeft
                }
            }
            buffer += output[0..<produced]
        } else {
            buffer += text.utf8
        }
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
        if let converter { iconv_close(converter) }
    }
}
