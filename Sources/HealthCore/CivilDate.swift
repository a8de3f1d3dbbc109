/// A calendar date without a time zone, stored as days since 1970-01-01.
///
///     let d = CivilDate(year: 2024, month: 9, day: 1)!   // 2024-09-01
///     d.description                                      // "2024-09-01"
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before).
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// The county's calendar day (UTC+8, no daylight saving) of a Unix time.
    ///
    ///     CivilDate(countyTime: 1_732_060_800).description   // "2024-11-20" (16:00 UTC is midnight in the county)
    public init(countyTime t: Int) { self.init(daysSinceEpoch: Int((Double(t + 8 * 3600) / 86400).rounded(.down))) }

    /// A valid proleptic Gregorian date, or nil (e.g. 2023-02-29).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year) else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        daysSinceEpoch = era * 146_097 + doe - 719_468
    }

    public var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The school year the date falls in: a year starting in `startMonth`.
    /// With September: 2024-09-01 and 2025-03-01 both give 2024.
    public func schoolYear(startMonth: Int) -> Int {
        let c = components
        return c.month >= startMonth ? c.year : c.year - 1
    }

    /// Whole years of age on `date` for someone born on `self`.
    public func age(on date: CivilDate) -> Int {
        let b = components, d = date.components
        var age = d.year - b.year
        if (d.month, d.day) < (b.month, b.day) { age -= 1 }
        return age
    }

    /// ISO 8601, e.g. "2024-09-01" (years 0–9999).
    public var description: String {
        let c = components
        return String(unsafeUninitializedCapacity: 10) { b in
            let y = max(0, min(9999, c.year))
            b[0] = UInt8(48 + y / 1000); b[1] = UInt8(48 + y / 100 % 10); b[2] = UInt8(48 + y / 10 % 10); b[3] = UInt8(48 + y % 10)
            b[4] = 45; b[5] = UInt8(48 + c.month / 10); b[6] = UInt8(48 + c.month % 10)
            b[7] = 45; b[8] = UInt8(48 + c.day / 10); b[9] = UInt8(48 + c.day % 10)
            return 10
        }
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
}
