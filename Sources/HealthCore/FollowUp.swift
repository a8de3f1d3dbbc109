/// The screening loop's rules (`Config/rules/follow-up.yaml`): which findings send a notice to the parents, what a
/// clinic's answer must look like, and when an open notice is overdue.
public struct FollowUpRules: Decodable, Sendable {
    public struct Finding: Decodable, Sendable, Equatable {
        public var id: String
        /// "vision", "spine" or "fitness".
        public var kind: String
        /// The stored finding it reads (see `ScreeningFindings`).
        public var measure: String
        public var enabled: Bool
        /// Whether a clinic's result is asked for (counted in 复查率).
        public var expectsResult: Bool
    }
    public struct Bounds: Decodable, Sendable {
        public var min: Double
        public var max: Double
    }
    public struct VisionResult: Decodable, Sendable {
        public var myopiaSEAtMost: Double
        public var seRange: Bounds
    }
    public struct SpineResult: Decodable, Sendable {
        public var scoliosisCobbFrom: Double
        public var cobbRange: Bounds
    }
    public struct Results: Decodable, Sendable {
        public var vision: VisionResult
        public var spine: SpineResult
        public var earliestDaysBeforeNotice: Int
    }
    public var version: String
    public var sources: [String]
    public var findings: [Finding]
    public var results: Results
    public var openNoticeDays: Int
    /// "<version>@<sha8>", set by the loader.
    public var versionTag = ""

    enum CodingKeys: String, CodingKey { case version, sources, findings, results, openNoticeDays }

    /// The enabled findings of one screening, in the order of the rules.
    public func findings(of s: ScreeningFindings) -> [Finding] {
        findings.filter { $0.enabled && $0.kind == s.kind && s.has($0.measure) }
    }
}

/// What a screening found, as the import derived it: the values a notice says in plain words and the rules test.
public struct ScreeningFindings: Sendable, Equatable, Codable {
    public var kind: String
    public var studentID: String
    public var screeningDate: String
    public var school: String
    public var schoolYear: Int
    public var grade: Int
    public var classCode: String?
    public var className: String?
    public var sex: Int
    /// Measures present: "myopic", "poor_vision", "lateral_positive", "sagittal_abnormal", "postural", "band_fail", "obese", "overweight".
    public var measures: Set<String> = []
    /// Values shown in the notice: ucvaRight, ucvaLeft, seRight, seLeft, band, atr, sagittal, score, bmi.
    public var values: [String: String] = [:]

    public init(kind: String, studentID: String, screeningDate: String, school: String, schoolYear: Int, grade: Int,
                classCode: String?, className: String?, sex: Int) {
        self.kind = kind; self.studentID = studentID; self.screeningDate = screeningDate; self.school = school
        self.schoolYear = schoolYear; self.grade = grade; self.classCode = classCode; self.className = className; self.sex = sex
    }

    public func has(_ measure: String) -> Bool { measures.contains(measure) }
    /// "三年级 2班" style label: the class name, or the grade code and class code.
    public var classLabel: String { ClassLabel.text(grade: grade, classCode: classCode, className: className) }
}

public enum ClassLabel {
    /// The class as a nurse writes it: the class name when the file gave one, else grade and class codes.
    public static func text(grade: Int, classCode: String?, className: String?) -> String {
        if let className, !className.isEmpty { return className }
        return "年级 \(grade) · 班 \(classCode ?? "—")"
    }
    /// The key a class is found by: the grade and the class code, else its name ("16:01", "11:一年级1班"). Class codes
    /// repeat across grades in many exports (01 in every grade), so the grade is part of it.
    public static func key(grade: Int, classCode: String?, className: String?) -> String { "\(grade):" + (classCode ?? className ?? "—") }
}

/// The clinic's answer to a notice.
public enum ClinicOutcome: String, Sendable, Codable, CaseIterable {
    /// Vision: cycloplegic refraction confirms myopia.
    case myopia
    /// Vision: not myopic after cycloplegia (pseudomyopia, or another cause of poor vision).
    case notMyopic = "not_myopic"
    /// Spine: scoliosis on the radiograph (Cobb ≥ 10°).
    case scoliosis
    /// Spine: a postural abnormality, not structural scoliosis.
    case postural
    /// Spine or vision: nothing abnormal found.
    case normal

    public var kind: String {
        switch self {
        case .myopia, .notMyopic: return "vision"
        case .scoliosis, .postural: return "spine"
        case .normal: return "any"
        }
    }
    /// Whether the result confirms the screening's finding (the numerator of the confirmed rate).
    public var confirms: Bool { self == .myopia || self == .scoliosis }

    /// The outcome a cell names, in Chinese or English (近视, 非近视, 脊柱侧弯, 姿势性, 正常 …).
    public static func parse(_ text: String) -> ClinicOutcome? {
        let t = String(text.filter { !$0.isWhitespace }).lowercased()
        switch t {
        case "myopia", "近视", "确诊近视", "近视确诊", "1": return .myopia
        case "not_myopic", "notmyopic", "非近视", "未见近视", "假性近视", "排除近视", "无近视": return .notMyopic
        case "scoliosis", "脊柱侧弯", "特发性脊柱侧弯", "侧弯", "确诊侧弯": return .scoliosis
        case "postural", "姿势性", "姿势性侧弯", "姿势性异常", "姿态不良", "姿势不良": return .postural
        case "normal", "正常", "未见异常", "无异常", "0": return .normal
        default: return nil
        }
    }
}

/// Nearest roster IDs for a screening whose 学籍号 is on no list: a likely mistyped ID.
public enum NearestIDs {
    /// Up to `limit` of `candidates` within `maxDistance` edits (insert, delete, substitute, swap two neighbours),
    /// nearest first, then in order.
    ///
    ///     NearestIDs.suggest("G2016010100000013", among: ["G2016010100000031", "G2016010100000999"])
    ///     // ["G2016010100000031"] (two digits swapped)
    public static func suggest(_ id: String, among candidates: [String], maxDistance: Int = 2, limit: Int = 3) -> [String] {
        let a = Array(id.utf8)
        var found: [(Int, String)] = []
        for c in candidates where c != id {
            let b = Array(c.utf8)
            guard abs(a.count - b.count) <= maxDistance, let d = distance(a, b, limit: maxDistance) else { continue }
            found.append((d, c))
        }
        return found.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(limit).map(\.1)
    }

    /// The optimal-string-alignment distance, or nil when it exceeds `limit`.
    public static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int? {
        let n = a.count, m = b.count
        if n == 0 || m == 0 { return max(n, m) <= limit ? max(n, m) : nil }
        var prev2 = [Int](repeating: 0, count: m + 1)
        var prev = Array(0...m)
        var cur = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            cur[0] = i
            var rowMin = cur[0]
            for j in 1...m {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { v = min(v, prev2[j - 2] + 1) }
                cur[j] = v
                rowMin = min(rowMin, v)
            }
            if rowMin > limit { return nil }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[m] <= limit ? prev[m] : nil
    }
}

/// A median and its distribution-free 95 % interval (order statistics of the binomial(n, ½)).
public struct MedianInterval: Sendable, Equatable, Codable {
    public var median: Double
    public var lower: Double?
    public var upper: Double?
    public init(median: Double, lower: Double?, upper: Double?) { self.median = median; self.lower = lower; self.upper = upper }

    /// nil for no values. The interval is (x₍ⱼ₎, x₍ₖ₎) with j = ⌊n/2 − 0.98√n⌋, k = ⌈n/2 + 1 + 0.98√n⌉ (1-based),
    /// when both lie within the sample (n ≥ 6).
    public static func of(_ values: [Int]) -> MedianInterval? {
        guard !values.isEmpty else { return nil }
        let x = values.sorted()
        let n = x.count
        let median = n % 2 == 1 ? Double(x[n / 2]) : Double(x[n / 2 - 1] + x[n / 2]) / 2
        let half = 1.959964 * Double(n).squareRoot() / 2
        let j = Int((Double(n) / 2 - half).rounded(.down)), k = Int((Double(n) / 2 + 1 + half).rounded(.up))
        guard j >= 1, k <= n else { return MedianInterval(median: median, lower: nil, upper: nil) }
        return MedianInterval(median: median, lower: Double(x[j - 1]), upper: Double(x[k - 1]))
    }
}

/// The text of the notices to parents (`Config/notices/zh-Hans.yaml`): per kind a title, an opening, advice, a
/// closing and a return slip, and a line per finding; `{placeholders}` are filled per notice.
public struct NoticeTemplate: Decodable, Sendable {
    public struct Kind: Decodable, Sendable {
        public var title: String
        public var greeting: String
        public var opening: String
        public var advice: [String]
        public var closing: String
        public var slipTitle: String
        public var slipLines: [String]
    }
    public var version: String
    public var language: String
    public var returnDays: Int
    public var reissueMark: String
    public var nameLine: String
    public var numberLabel: String
    public var clinics: [String: String]
    public var kinds: [String: Kind]
    public var findings: [String: String]
    public var bands: [String: String]
    public var sagittal: [String: String]
    /// "<version>@<sha8>", set by the loader.
    public var versionTag = ""

    enum CodingKeys: String, CodingKey { case version, language, returnDays, reissueMark, nameLine, numberLabel, clinics, kinds, findings, bands, sagittal }

    /// `text` with every `{name}` replaced by `values[name]` ("—" for a name without a value).
    ///
    ///     NoticeTemplate.fill("{school}于 {date}", ["school": "城关一小", "date": "2024-09-15"])   // "城关一小于 2024-09-15"
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        var out = ""
        var name: String?
        for ch in text {
            if var n = name {
                if ch == "}" { out += values[n] ?? "—"; name = nil } else { n.append(ch); name = n }
            } else if ch == "{" {
                name = ""
            } else {
                out.append(ch)
            }
        }
        if let n = name { out += "{" + n }
        return out
    }
}
