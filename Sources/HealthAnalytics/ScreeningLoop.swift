public import HealthCore

/// Coverage of one class (or grade, or school) for one kind of screening.
public struct CoverageRow: Sendable, Codable, Equatable {
    public var kind: String
    public var grade: Int
    /// The grade and the class code, else its name (`ClassLabel.key`).
    public var classKey: String
    public var classLabel: String
    public var enrolled: Int
    public var screened: Int
    public var notScreened: Int { enrolled - screened }
}

/// A screening whose 学籍号 is on no school's list for the year: probably mistyped. `suggestions` are the nearest
/// IDs of the school's list not yet screened for that kind (then of the whole list).
public struct UnmatchedScreening: Sendable, Codable, Equatable {
    public var kind: String
    public var studentID: String
    public var grade: Int
    public var classLabel: String
    public var date: String
    public var suggestions: [String]
}

/// A school's coverage for a school year: per class and kind, who on the list was not screened, and the
/// screenings that match nobody on any list.
public struct Coverage: Sendable, Codable, Equatable {
    public var school: String
    public var schoolYear: Int
    public var rows: [CoverageRow]
    /// By kind: the listed students with no screening of that kind in the year (by grade, class, ID).
    public var unscreened: [String: [RosterEntry]]
    public var unmatched: [UnmatchedScreening]

    /// Totals per kind over the school.
    public func total(_ kind: String) -> (enrolled: Int, screened: Int) {
        rows.filter { $0.kind == kind }.reduce((0, 0)) { ($0.0 + $1.enrolled, $0.1 + $1.screened) }
    }
}

/// The counts of the screening loop: coverage from the lists, and the follow-up of notices. Pure. The report
/// counts the same in SQL (`Store.coverageCounts`, `Store.followUpCounts`); these are the arithmetic the tests
/// hold the SQL to, on values a person can check by hand.
public enum ScreeningLoop {
    /// The kinds a list's coverage is counted for.
    public static let kinds = ["vision", "spine", "fitness"]

    /// A school's coverage. `roster` is the school's list; `screened` every screening of the year by kind (at any
    /// school: a student who moved and was screened at the old school counts as screened); `listed` every ID on
    /// any school's list for the year.
    ///
    /// A kind the school has no screening of at all in the year is left out (it has not screened yet).
    public static func coverage(school: String, schoolYear: Int, roster: [RosterEntry], screened: [String: [ScreenedStudent]],
                                listed: Set<String>) -> Coverage {
        var rows: [CoverageRow] = []
        var unscreened: [String: [RosterEntry]] = [:]
        var unmatched: [UnmatchedScreening] = []
        for kind in kinds {
            let all = screened[kind] ?? []
            let atSchool = all.filter { $0.school == school }
            let ids = Set(all.map(\.studentID))
            guard !atSchool.isEmpty || roster.contains(where: { ids.contains($0.studentID) }) else { continue }
            var byClass: [String: CoverageRow] = [:]
            var order: [String] = []
            for e in roster {
                let key = ClassLabel.key(grade: e.grade, classCode: e.classCode, className: e.className)
                if byClass[key] == nil {
                    order.append(key)
                    byClass[key] = CoverageRow(kind: kind, grade: e.grade, classKey: key,
                                               classLabel: ClassLabel.text(grade: e.grade, classCode: e.classCode, className: e.className), enrolled: 0, screened: 0)
                }
                byClass[key]!.enrolled += 1
                if ids.contains(e.studentID) { byClass[key]!.screened += 1 } else { unscreened[kind, default: []].append(e) }
            }
            rows += order.map { byClass[$0]! }
            let open = (unscreened[kind] ?? []).map(\.studentID)
            let everyone = roster.map(\.studentID)
            for s in atSchool where !listed.contains(s.studentID) {
                var near = NearestIDs.suggest(s.studentID, among: open)
                if near.isEmpty { near = NearestIDs.suggest(s.studentID, among: everyone) }
                unmatched.append(UnmatchedScreening(kind: kind, studentID: s.studentID, grade: s.grade,
                                                    classLabel: ClassLabel.text(grade: s.grade, classCode: s.classCode, className: s.className),
                                                    date: s.date, suggestions: near))
            }
        }
        return Coverage(school: school, schoolYear: schoolYear, rows: rows, unscreened: unscreened, unmatched: unmatched)
    }

    /// Coverage as report strata (measure `coverage_<kind>`: screened ÷ listed, by the school, grade and sex of the
    /// list). Only kinds screened somewhere in the county that year.
    public static func coverageStrata(schoolYear: Int, roster: [RosterEntry], screened: [String: Set<String>]) -> [StratumCount] {
        var counts: [String: StratumCount] = [:]
        for kind in kinds {
            guard let ids = screened[kind], !ids.isEmpty else { continue }
            for e in roster {
                let key = "\(kind)|\(e.school)|\(e.grade)|\(e.sex)"
                var c = counts[key] ?? StratumCount(measure: "coverage_" + kind, school: e.school, year: schoolYear, grade: e.grade, sex: e.sex,
                                                    numerator: 0, denominator: 0)
                c.denominator += 1
                if ids.contains(e.studentID) { c.numerator += 1 }
                counts[key] = c
            }
        }
        return counts.keys.sorted().map { counts[$0]! }
    }

    /// One notice as the follow-up measures count it (the original; re-issues are the same notice).
    public struct NoticeOutcome: Sendable, Equatable {
        public var kind: String
        public var school: String
        public var schoolYear: Int
        public var grade: Int
        public var sex: Int
        public var expectsResult: Bool
        /// Days since 1970 (county time) when it was issued.
        public var issuedDay: Int
        /// Days since 1970 of the clinic's examination, when a result came back.
        public var resultDay: Int?
        public var confirmed: Bool
        public init(kind: String, school: String, schoolYear: Int, grade: Int, sex: Int, expectsResult: Bool, issuedDay: Int, resultDay: Int?, confirmed: Bool) {
            self.kind = kind; self.school = school; self.schoolYear = schoolYear; self.grade = grade; self.sex = sex
            self.expectsResult = expectsResult; self.issuedDay = issuedDay; self.resultDay = resultDay; self.confirmed = confirmed
        }
    }

    /// The follow-up kinds (a clinic's result is asked for).
    public static let followUpKinds = ["vision", "spine"]

    /// Follow-up as report strata: `followup_returned_<kind>` = results returned ÷ notices issued (复查率),
    /// `followup_confirmed_<kind>` = confirmed positive ÷ results returned.
    public static func followUpStrata(_ notices: [NoticeOutcome]) -> [StratumCount] {
        var counts: [String: StratumCount] = [:]
        func add(_ measure: String, _ n: NoticeOutcome, num: Bool) {
            let key = "\(measure)|\(n.school)|\(n.schoolYear)|\(n.grade)|\(n.sex)"
            var c = counts[key] ?? StratumCount(measure: measure, school: n.school, year: n.schoolYear, grade: n.grade, sex: n.sex, numerator: 0, denominator: 0)
            c.denominator += 1
            if num { c.numerator += 1 }
            counts[key] = c
        }
        for n in notices where n.expectsResult && followUpKinds.contains(n.kind) {
            add("followup_returned_" + n.kind, n, num: n.resultDay != nil)
            if n.resultDay != nil { add("followup_confirmed_" + n.kind, n, num: n.confirmed) }
        }
        return counts.keys.sorted().map { counts[$0]! }
    }

    /// Days from issue to the clinic's examination, per school, school year and kind (the report's medians).
    public static func daysToResult(_ notices: [NoticeOutcome]) -> [FollowUpDays] {
        var days: [String: FollowUpDays] = [:]
        for n in notices where n.expectsResult {
            guard let r = n.resultDay else { continue }
            let key = "\(n.school)|\(n.schoolYear)|\(n.kind)"
            days[key, default: FollowUpDays(school: n.school, year: n.schoolYear, kind: n.kind, days: [])].days.append(max(0, r - n.issuedDay))
        }
        return days.keys.sorted().map { days[$0]! }
    }
}

/// Days from notice to result of one school, year and kind (kept out of every output; the report shows medians).
public struct FollowUpDays: Sendable, Equatable {
    public var school: String
    public var year: Int
    public var kind: String
    public var days: [Int]
    public init(school: String, year: Int, kind: String, days: [Int]) { self.school = school; self.year = year; self.kind = kind; self.days = days }
}

/// The median days from notice to the clinic's result, with its 95 % interval — or suppressed.
public struct FollowUpTime: Sendable, Codable, Equatable {
    public var area: Area
    public var year: Int
    public var kind: String
    public var returned: Int?
    public var medianDays: Double?
    public var lower: Double?
    public var upper: Double?
    public var suppressed: Bool
}
