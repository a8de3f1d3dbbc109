public import HealthCore
import Foundation

/// Why one value was not accepted, in words a nurse can act on.
struct FieldProblem: Error {
    let reason: ReasonText
}

/// Parsers from the raw bytes of a CSV field to domain values. Each trims surrounding whitespace,
/// returns nil for an empty field, and throws `FieldProblem` for a value it cannot accept.
enum FieldParsers {
    // MARK: bytes

    static func trimmed(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var lo = 0, hi = b.count
        while lo < hi, b[lo] == 0x20 || b[lo] == 0x09 || b[lo] == 0x0D || b[lo] == 0x0A { lo += 1 }
        while hi > lo, b[hi - 1] == 0x20 || b[hi - 1] == 0x09 || b[hi - 1] == 0x0D || b[hi - 1] == 0x0A { hi -= 1 }
        // U+3000 IDEOGRAPHIC SPACE (E3 80 80), which Chinese input methods leave behind.
        while hi - lo >= 3, b[lo] == 0xE3, b[lo + 1] == 0x80, b[lo + 2] == 0x80 { lo += 3 }
        while hi - lo >= 3, b[hi - 3] == 0xE3, b[hi - 2] == 0x80, b[hi - 1] == 0x80 { hi -= 3 }
        return UnsafeBufferPointer(rebasing: b[lo..<hi])
    }

    /// Text that is safe to store: valid UTF-8, no NUL or other control characters, no undecodable bytes.
    static func text(_ raw: UnsafeBufferPointer<UInt8>, maxLength: Int = 64) throws(FieldProblem) -> String? {
        let b = trimmed(raw)
        if b.isEmpty { return nil }
        var ascii = true
        for (i, c) in b.enumerated() {
            if c == 0 { throw FieldProblem(reason: "contains a NUL byte (the file may be damaged)") }
            if c < 0x20 || c == 0x7F { throw FieldProblem(reason: "contains a control character or line break") }
            if c >= 0x80 {
                ascii = false
                if c == 0xEF, i + 2 < b.count, b[i + 1] == 0xBF, b[i + 2] == 0xBD { throw undecodable }
            }
        }
        let s: String
        if ascii {
            s = String(decoding: b, as: UTF8.self)
            if b.count > maxLength { throw FieldProblem(reason: "is \(b.count) characters long; at most \(maxLength) are allowed") }
        } else {
            guard let v = String(validating: b, as: UTF8.self) else { throw undecodable }
            s = v
            if b.count > maxLength, s.unicodeScalars.count > maxLength {
                throw FieldProblem(reason: "is \(s.unicodeScalars.count) characters long; at most \(maxLength) are allowed")
            }
        }
        return s
    }

    static let undecodable = FieldProblem(reason: "contains bytes that are not valid text (the file may be damaged or mix encodings)")

    /// A decimal number in thousandths, exactly: "-0.375" → -375. Accepts "+", "-", "−" (U+2212), a trailing
    /// "D"/"DS"/"DC" unit and up to three decimals (further decimals must be zeros).
    /// Returns `.some(nil)` for an empty field and nil for something that is not such a number.
    ///
    /// `units` are further units a value may be written with (`cm`, `°`); one of them is dropped from the end.
    static func milli(_ raw: UnsafeBufferPointer<UInt8>, units: [[UInt8]]) -> Int?? {
        let b = trimmed(raw)
        var hi = b.count
        if let unit = units.first(where: { u in hi > u.count && (0..<u.count).allSatisfy { b[hi - u.count + $0] == u[$0] } }) {
            hi -= unit.count
            while hi > 0, b[hi - 1] == 0x20 { hi -= 1 }
        }
        return milli(UnsafeBufferPointer(rebasing: b[..<hi]))
    }

    /// `milli` without further units: the hot path of every acuity and refraction value.
    static func milli(_ raw: UnsafeBufferPointer<UInt8>) -> Int?? {
        let b = trimmed(raw)
        if b.isEmpty { return .some(nil) }
        var lo = 0, hi = b.count
        var negative = false
        if hi >= 3, b[0] == 0xE2, b[1] == 0x88, b[2] == 0x92 { negative = true; lo = 3 }
        else if b[0] == UInt8(ascii: "-") { negative = true; lo = 1 }
        else if b[0] == UInt8(ascii: "+") { lo = 1 }
        // A unit written after the number: D, DS, DC (any case) and spaces.
        while hi > lo, isUnitLetter(b[hi - 1]) { hi -= 1 }
        var whole = 0, frac = 0, fracDigits = 0, digits = 0, seenDot = false
        for i in lo..<hi {
            let c = b[i]
            if c == UInt8(ascii: ".") {
                if seenDot { return nil }
                seenDot = true
            } else if c >= 0x30 && c <= 0x39 {
                digits += 1
                if seenDot {
                    fracDigits += 1
                    if fracDigits > 3 { if c != 0x30 { return nil } else { continue } }
                    frac = frac * 10 + Int(c - 0x30)
                } else {
                    whole = whole * 10 + Int(c - 0x30)
                    if whole > 1_000_000 { return nil }
                }
            } else {
                return nil
            }
        }
        if digits == 0 { return nil }
        while fracDigits < 3 { frac *= 10; fracDigits += 1 }
        let v = whole * 1000 + frac
        return .some(negative ? -v : v)
    }

    /// Units values are written with (the common-disease export writes `152.3cm`, `45.2kg`, `90°`).
    enum Units {
        static let degrees: [[UInt8]] = ["°", "度", "º"].map { Array($0.utf8) }
        static let centimetres: [[UInt8]] = ["cm", "CM", "厘米"].map { Array($0.utf8) }
        static let kilograms: [[UInt8]] = ["kg", "KG", "Kg", "公斤", "千克"].map { Array($0.utf8) }
        static let seconds: [[UInt8]] = ["秒", "s"].map { Array($0.utf8) }
        static let counts: [[UInt8]] = ["ml", "mL", "ML", "毫升", "次", "个"].map { Array($0.utf8) }
        static let points: [[UInt8]] = ["分"].map { Array($0.utf8) }
    }

    @inline(__always)
    static func isUnitLetter(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "D"), UInt8(ascii: "d"), UInt8(ascii: "S"), UInt8(ascii: "s"), UInt8(ascii: "C"), UInt8(ascii: "c"), 0x20: return true
        default: return false
        }
    }

    /// A non-negative integer written only with ASCII digits, or nil.
    static func digits(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !b.isEmpty, b.count <= 18 else { return nil }
        var v = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    static func display(_ raw: UnsafeBufferPointer<UInt8>) -> String { String(decoding: trimmed(raw), as: UTF8.self) }

    // MARK: domain values

    /// A student ID kept as text. An ID that Excel turned into a number is refused, never stored.
    static func studentID(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> StudentID? {
        let b = trimmed(raw)
        if b.isEmpty { return nil }
        var letters = 0, dots = 0, plus = 0, other = false
        var e = false
        for c in b {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): break
            case UInt8(ascii: "E"), UInt8(ascii: "e"): e = true; letters += 1
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): letters += 1
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: "+"): plus += 1
            case UInt8(ascii: "-"): break
            default: other = true
            }
        }
        if e && letters == 1 && dots <= 1 && !other, let first = b.first, first >= 0x30 && first <= 0x39,
           plus == 1 || b.contains(UInt8(ascii: ".")) {
            throw FieldProblem(reason: "is in scientific notation: Excel turned the student ID into a number and its last digits are lost. Format the column as Text in Excel and export again")
        }
        if dots > 0 && letters == 0 && plus == 0 && !other {
            throw FieldProblem(reason: "looks like a number with decimals: the ID was probably reformatted by a spreadsheet. Format the column as Text and export again")
        }
        if other || dots > 0 || plus > 0 {
            _ = try text(raw)   // a damaged byte or control character gets its own message
            throw FieldProblem(reason: "may contain only letters, digits and '-'")
        }
        guard b.count <= 32 else { throw FieldProblem(reason: "is \(b.count) characters long; a student ID has at most 32") }
        return StudentID(String(decoding: b, as: UTF8.self))
    }

    static func sex(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> Sex? {
        let b = trimmed(raw)
        if b.count == 1 {
            switch b[0] {
            case UInt8(ascii: "1"), UInt8(ascii: "M"), UInt8(ascii: "m"): return .male
            case UInt8(ascii: "2"), UInt8(ascii: "F"), UInt8(ascii: "f"): return .female
            default: break
            }
        }
        guard let s = try text(raw) else { return nil }
        switch s.lowercased() {
        case "1", "男", "m", "male", "男性": return .male
        case "2", "女", "f", "female", "女性": return .female
        default: throw FieldProblem(reason: "is not a sex code: use 1 or 男 or M for boys, 2 or 女 or F for girls")
        }
    }

    /// Dates as 2024-09-01, 2024/9/1, 2024.9.1, 2024年9月1日, 20240901 (a time after the date is ignored),
    /// or an Excel serial day number (45536 = 2024-09-01).
    static func date(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> CivilDate? {
        let b = trimmed(raw)
        // Fast path: 2024-09-01, 2024/9/1, 20240901.
        if b.count == 8, let n = digits(b), n > 1_000_000 {
            if let d = CivilDate(year: n / 10000, month: n / 100 % 100, day: n % 100), (1950...2099).contains(n / 10000) { return d }
        } else if b.count >= 8, b.count <= 10, let y = digits(UnsafeBufferPointer(rebasing: b[0..<4])), b[4] == UInt8(ascii: "-") || b[4] == UInt8(ascii: "/") {
            let sep = b[4]
            if let second = b[5...].firstIndex(of: sep),
               let m = digits(UnsafeBufferPointer(rebasing: b[5..<second])),
               let d = digits(UnsafeBufferPointer(rebasing: b[(second + 1)...])),
               (1950...2099).contains(y), let date = CivilDate(year: y, month: m, day: d) {
                return date
            }
        }
        guard let s = try text(raw) else { return nil }
        return try date(string: s)
    }

    static func date(string: String) throws(FieldProblem) -> CivilDate {
        var s = string
        if let space = s.firstIndex(where: { $0 == " " || $0 == "T" }) { s = String(s[..<space]) }
        let bad = FieldProblem(reason: "is not a date: write it as 2024-09-01, 2024/9/1 or 20240901")
        var parts: [Int]
        if s.allSatisfy(\.isASCIIDigit) {
            switch s.count {
            case 8:
                let n = Int(s)!
                parts = [n / 10000, n / 100 % 100, n % 100]
            case 4, 5:
                // Excel serial day number: days since 1899-12-30.
                let serial = Int(s)!
                guard serial >= 18264, serial <= 73051 else { throw FieldProblem(reason: "looks like an Excel day number but is outside 1950–2099") }
                return CivilDate(daysSinceEpoch: serial - 25569)
            default: throw bad
            }
        } else if s.hasSuffix(".0"), s.dropLast(2).allSatisfy(\.isASCIIDigit), s.count <= 7 {
            return try date(string: String(s.dropLast(2)))
        } else {
            let pieces = s.split(whereSeparator: { "-/.年月日".contains($0) }).map(String.init)
            guard pieces.count == 3, pieces.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { throw bad }
            parts = pieces.map { Int($0)! }
            guard pieces[0].count == 4 else { throw FieldProblem(reason: "is not a date with a four-digit year first: write it as 2024-09-01") }
        }
        guard let d = CivilDate(year: parts[0], month: parts[1], day: parts[2]), (1950...2099).contains(parts[0]) else {
            throw FieldProblem(reason: "is not a real calendar date")
        }
        return d
    }

    static func grade(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> GradeCode? {
        if let n = digits(trimmed(raw)), let g = GradeCode(n) { return g }
        guard let s = try text(raw) else { return nil }
        if let n = Int(s) {
            guard let g = GradeCode(n) else {
                throw FieldProblem(reason: "is not a national grade code (11–16 primary, 21–24 junior, 31–33 senior)")
            }
            return g
        }
        guard let code = gradeNames[s] else { throw FieldProblem(reason: "is not a grade: use the national code (11–16, 21–24, 31–33) or a name such as 三年级, 初一, 高二") }
        return GradeCode(code)
    }

    static let gradeNames: [String: Int] = [
        "一年级": 11, "二年级": 12, "三年级": 13, "四年级": 14, "五年级": 15, "六年级": 16,
        "小学一年级": 11, "小学二年级": 12, "小学三年级": 13, "小学四年级": 14, "小学五年级": 15, "小学六年级": 16,
        "初一": 21, "初二": 22, "初三": 23, "初四": 24, "七年级": 21, "八年级": 22, "九年级": 23,
        "初中一年级": 21, "初中二年级": 22, "初中三年级": 23,
        "高一": 31, "高二": 32, "高三": 33, "高中一年级": 31, "高中二年级": 32, "高中三年级": 33,
    ]

    static func glasses(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> GlassesType? {
        let b = trimmed(raw)
        if b.count == 1, b[0] >= 0x30, b[0] <= 0x33 { return GlassesType(rawValue: Int(b[0] - 0x30)) }
        guard let s = try text(raw) else { return nil }
        switch s.lowercased() {
        case "0", "不戴镜", "不佩戴眼镜", "未佩戴眼镜", "无", "否", "未戴镜", "none", "no glasses", "no": return GlassesType.none
        case "1", "框架眼镜", "佩戴框架眼镜", "框架镜", "框架", "frame", "frames", "glasses", "spectacles": return .frame
        case "2", "隐形眼镜", "佩戴隐形眼镜", "隐形", "contact", "contact lens", "contact lenses", "contacts": return .contactLens
        case "3", "夜戴角膜塑形镜", "角膜塑形镜", "佩戴角膜塑形镜", "ok镜", "塑形镜", "orthokeratology", "ortho-k", "orthok", "ortho k",
             "ok", "ok lens", "ok-lens", "ok lenses":
            return .orthokeratology
        default: throw FieldProblem(reason: "is not a glasses type: use 0 不戴镜, 1 框架眼镜, 2 隐形眼镜 or 3 角膜塑形镜 (or none, frame, contact, ortho-k)")
        }
    }

    /// A yes/no column: 是/否, yes/no, y/n, 1/0 (a layout's own codes are rewritten to these first).
    static func yesNo(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> Bool? {
        guard let s = try text(raw) else { return nil }
        switch s.lowercased() {
        case "是", "1", "y", "yes", "true", "有": return true
        case "否", "0", "n", "no", "false", "无": return false
        default: throw FieldProblem(reason: "is not 是 or 否")
        }
    }

    /// A grade and class in one cell (年级情况: 一年级1班, 初二(3)班, 高一3班): the grade by its name at the start,
    /// the class as the rest.
    static func gradeAndClass(_ raw: UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> (GradeCode, String?)? {
        guard let s = try text(raw) else { return nil }
        for (name, code) in gradeNames.sorted(by: { $0.key.count > $1.key.count }) where s.hasPrefix(name) {
            let rest = String(s.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)
            return (GradeCode(code)!, rest.isEmpty ? nil : rest)
        }
        throw FieldProblem(reason: "does not start with a grade name such as 一年级, 初一, 高二 (e.g. 一年级1班)")
    }

    static func dioptres(_ raw: UnsafeBufferPointer<UInt8>, bounds: VisionRules.Range, what: String) throws(FieldProblem) -> Dioptres? {
        guard let parsed = milli(raw) else { throw FieldProblem(reason: "is not a number of dioptres (e.g. -1.25)") }
        guard let m = parsed else { return nil }
        let d = Dioptres(milli: m)
        guard bounds.contains(d.value) else {
            throw FieldProblem(reason: "is outside the \(what) range a refractometer measures (\(bounds.min) to \(bounds.max) D)")
        }
        return d
    }

    static func axis(_ raw: UnsafeBufferPointer<UInt8>, bounds: VisionRules.Range) throws(FieldProblem) -> Int? {
        guard let parsed = milli(raw, units: Units.degrees) else { throw FieldProblem(reason: "is not an axis in whole degrees (0–180)") }
        guard let m = parsed else { return nil }
        guard m % 1000 == 0, bounds.contains(Double(m / 1000)) else {
            throw FieldProblem(reason: "is not an axis in whole degrees from \(Int(bounds.min)) to \(Int(bounds.max))")
        }
        return m / 1000
    }
}

/// The notation an acuity value was written in.
enum AcuityNotation: String { case fivePoint = "5-point", decimal }

/// The acceptable acuity values, precomputed from the rules once per file (a class: each value's parser
/// captures it, and a reference costs less than a copy of its table).
final class AcuityScale: Sendable {
    let fivePointMilli: ClosedRange<Int>
    /// Decimal chart lines in thousandths → 5-point tenths.
    let decimal: [Int: Int]
    let decimalMax: Int
    let chartText: String
    let rangeText: ReasonText

    init(rules: VisionRules) {
        let lo = Int((rules.bounds.fivePoint.min * 1000).rounded()), hi = Int((rules.bounds.fivePoint.max * 1000).rounded())
        fivePointMilli = lo...hi
        var table: [Int: Int] = [:]
        for v in rules.decimalChart { table[Int((v * 1000).rounded())] = Int(((5 + log10(v)) * 10).rounded()) }
        decimal = table
        decimalMax = table.keys.max() ?? 0
        chartText = rules.decimalChart.map { String($0) }.joined(separator: ", ")
        rangeText = "5-point \(rules.bounds.fivePoint.min)–\(rules.bounds.fivePoint.max) or decimal \(rules.decimalChart.min() ?? 0)–\(rules.decimalChart.max() ?? 0)"
    }
}

extension FieldParsers {
    /// Acuity in 5-point (4.0–5.3) or decimal (0.1–2.0) notation, returned on the 5-point scale.
    /// The two ranges do not overlap, so each value says which notation it is in.
    static func acuity(_ raw: UnsafeBufferPointer<UInt8>, scale: AcuityScale) throws(FieldProblem) -> (Acuity, AcuityNotation)? {
        let b = trimmed(raw)
        // "<3.0" (or ＜3): below the chart's lowest line; a layout's own code for it is rewritten to this.
        if let first = b.first, first == UInt8(ascii: "<") || (b.count >= 3 && b[0] == 0xEF && b[1] == 0xBC && b[2] == 0x9C) {
            let rest = UnsafeBufferPointer(rebasing: b[(first == UInt8(ascii: "<") ? 1 : 3)...])
            if let m = milli(rest), m == 3000 { return (.belowChart, .fivePoint) }
            throw FieldProblem(reason: "is not an acuity: below the chart is written <3.0")
        }
        guard let parsed = milli(raw) else { throw FieldProblem(reason: "is not an acuity: use \(scale.rangeText)") }
        guard let m = parsed else { return nil }
        if scale.fivePointMilli.contains(m) {
            guard m % 100 == 0 else { throw FieldProblem(reason: "has more than one decimal: 5-point acuity is read in steps of 0.1 (e.g. 4.9)") }
            return (Acuity(tenths: m / 100), .fivePoint)
        }
        if m > 0 && m <= scale.decimalMax {
            guard let tenths = scale.decimal[m] else {
                throw FieldProblem(reason: "is not a line of the decimal chart (\(scale.chartText))")
            }
            return (Acuity(tenths: tenths), .decimal)
        }
        throw FieldProblem(reason: "is outside both acuity notations: \(scale.rangeText)")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension CivilDate {
    /// A date as the importer reads one (2024-09-01, 2024/9/1, 20240901, 2024年9月1日), or nil with the reason.
    public static func parse(_ text: String) -> Result<CivilDate, DateError> {
        do { return .success(try FieldParsers.date(string: text)) } catch { return .failure(DateError(reason: error.reason.text)) }
    }

    public struct DateError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }
}

