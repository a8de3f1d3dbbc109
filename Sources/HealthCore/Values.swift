/// A national student ID (学籍号) or a school's own student number, always kept as text:
/// leading zeros and 18–19 character IDs stay exactly as written.
public struct StudentID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// Sex as coded by the national template: 1 = male, 2 = female.
public enum Sex: Int, Sendable, CaseIterable {
    case male = 1
    case female = 2
}

/// A national grade code (年级编号): 11–16 primary, 21–24 junior, 31–33 senior, 41–44 university.
public struct GradeCode: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init?(_ rawValue: Int) {
        guard GradeCode.valid.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }
    /// Codes of `shared/domain/fitness-standard-2014/grade_codes.csv` (allendhy/tizhi-new validation list).
    public static let valid: Set<Int> = [11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 31, 32, 33, 41, 42, 43, 44]

    /// School years of schooling: 11 → 1, 16 → 6, 21 → 7, 31 → 10.
    public var yearOfSchooling: Int {
        switch rawValue / 10 {
        case 1: return rawValue - 10
        case 2: return rawValue - 14
        case 3: return rawValue - 21
        default: return rawValue - 28
        }
    }
    public var description: String { String(rawValue) }
    public static func < (a: GradeCode, b: GradeCode) -> Bool { a.rawValue < b.rawValue }
}

/// Visual acuity on the 5-point logarithmic scale (GB/T 11533), held in tenths: 4.9 is 49.
///
/// The chart reads down to 3.0 (decimal 0.01, from half a metre). A student who cannot read even that line
/// is recorded as `belowChart` (stored as 29): such an eye is the worst seen, and counts as such in every band.
public struct Acuity: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let tenths: Int
    public init(tenths: Int) { self.tenths = tenths }
    /// Below the chart's lowest line, 3.0 (the national upload writes it as 0 or 9.0).
    public static let belowChart = Acuity(tenths: 29)
    public var isBelowChart: Bool { tenths < 30 }
    public var fivePoint: Double { Double(tenths) / 10 }
    public var description: String { isBelowChart ? "<3.0" : "\(tenths / 10).\(tenths % 10)" }
    public static func < (a: Acuity, b: Acuity) -> Bool { a.tenths < b.tenths }
}

/// A refraction value in dioptres, held in thousandths so that 0.125 D steps and S + C/2 stay exact.
public struct Dioptres: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let milli: Int
    public init(milli: Int) { self.milli = milli }
    public init(_ value: Double) { milli = Int((value * 1000).rounded()) }
    public var value: Double { Double(milli) / 1000 }
    public var description: String {
        let sign = milli < 0 ? "-" : "+"
        let a = abs(milli)
        let frac = String(a % 1000)
        return "\(sign)\(a / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
    public static func < (a: Dioptres, b: Dioptres) -> Bool { a.milli < b.milli }
}

/// Glasses worn at the screening (DOMAIN.md §1.4; codes of GlassesTypeEnum).
public enum GlassesType: Int, Sendable, CaseIterable {
    case none = 0
    case frame = 1
    case contactLens = 2
    case orthokeratology = 3
    /// The file says nothing about glasses (no column, or a cell marked not measured). Counted as no glasses
    /// for completeness; kept apart so that "not recorded" is never shown as "no glasses".
    case notRecorded = 9
}
