internal import HealthStorage
public import HealthCore
public import HealthRisk
internal import GRDB
import Foundation

/// A notice to parents as issued: what was printed (the screening's values at the time), when, by whom; a
/// re-issue points at the original. The clinic's result belongs to the original.
public struct NoticeRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var findings: ScreeningFindings
    /// Finding ids of the follow-up rules.
    public var findingIDs: [String]
    public var expectsResult: Bool
    public var ruleVersion: String
    public var issuedAt: Int
    public var issuedBy: String
    public var reissueOf: Int64?
    public var reissueReason: String?
    /// How many times the original was re-issued (on the original's row).
    public var reissues = 0
    /// The clinic's answer (on the original's row).
    public var result: ClinicResult?

    /// The notice whose result and re-issues this one shares.
    public var originalID: Int64 { reissueOf ?? id }
}

/// A clinic's result for a notice.
public struct ClinicResult: Sendable, Equatable, Codable {
    public var noticeID: Int64
    public var resultDate: String
    public var provider: String
    public var outcome: ClinicOutcome
    public var seRightMdpt: Int?
    public var seLeftMdpt: Int?
    public var cobbX10: Int?
    public var ruleVersion: String
    public var recordedAt: Int = 0
    public var batch: Int64?
    public var line: Int?

    public init(noticeID: Int64, resultDate: String, provider: String, outcome: ClinicOutcome, seRightMdpt: Int? = nil, seLeftMdpt: Int? = nil,
                cobbX10: Int? = nil, ruleVersion: String, line: Int? = nil) {
        self.noticeID = noticeID; self.resultDate = resultDate; self.provider = provider; self.outcome = outcome
        self.seRightMdpt = seRightMdpt; self.seLeftMdpt = seLeftMdpt; self.cobbX10 = cobbX10; self.ruleVersion = ruleVersion; self.line = line
    }

    /// Same answer (ignoring when and from which file it was recorded).
    func sameAnswer(_ o: ClinicResult) -> Bool {
        (resultDate, provider, outcome, seRightMdpt, seLeftMdpt, cobbX10) == (o.resultDate, o.provider, o.outcome, o.seRightMdpt, o.seLeftMdpt, o.cobbX10)
    }
}

/// A notice to issue.
public struct NewNotice: Sendable {
    public var findings: ScreeningFindings
    public var findingIDs: [String]
    public var expectsResult: Bool
    public var ruleVersion: String
    public init(findings: ScreeningFindings, findingIDs: [String], expectsResult: Bool, ruleVersion: String) {
        self.findings = findings; self.findingIDs = findingIDs; self.expectsResult = expectsResult; self.ruleVersion = ruleVersion
    }
}

/// What saving a file of results changed.
public struct ClinicResultChange: Sendable, Equatable {
    public var batch: Int64 = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var alreadyImported: Int64?
}

public enum NoticeError: Error, Equatable, Sendable {
    case noSuchNotice(Int64)
    /// The notice belongs to another school than the actor's.
    case otherSchool(Int64)
}

extension Store {
    // MARK: - Screenings as the loop reads them

    /// The latest screening of `kind` ("vision", "spine", "fitness") of each student `school` screened in
    /// `schoolYear`, with the findings the import derived and the values a notice shows.
    public func screeningFindings(kind: String, school: String, schoolYear: Int) throws -> [ScreeningFindings] {
        let sql: String
        switch kind {
        case "vision":
            sql = """
                SELECT student_id, screening_date, school_code, school_year, grade, class_code, class_name, sex,
                       myopic, poor_vision, ucva_r_x10, ucva_l_x10, sph_r_mdpt, cyl_r_mdpt, sph_l_mdpt, cyl_l_mdpt
                FROM vision_screening WHERE school_code = ? AND school_year = ? ORDER BY student_id, screening_date
                """
        case "spine":
            sql = """
                SELECT student_id, screening_date, school_code, school_year, grade, class_code, class_name, sex,
                       lateral_positive, sagittal_abnormal, postural, max_atr_x10, sagittal
                FROM spine_screening WHERE school_code = ? AND school_year = ? ORDER BY student_id, screening_date
                """
        case "fitness":
            sql = """
                SELECT student_id, COALESCE(test_date, CAST(school_year AS TEXT)), school_code, school_year, grade, class_code, class_name, sex,
                       band, bmi_category, total_x100, bmi_x10
                FROM fitness_test WHERE school_code = ? AND school_year = ? AND status = 0 ORDER BY student_id
                """
        default: return []
        }
        do {
            return try queue.read { db in
                var out: [ScreeningFindings] = []
                for r in try Row.fetchAll(db, sql: sql, arguments: [school, schoolYear]) {
                    var f = ScreeningFindings(kind: kind, studentID: r[0], screeningDate: r[1], school: r[2], schoolYear: r[3], grade: r[4],
                                              classCode: r[5], className: r[6], sex: r[7])
                    switch kind {
                    case "vision":
                        if (r[8] as Int?) == 1 { f.measures.insert("myopic") }
                        if let band = r[9] as Int?, band > 0 {
                            f.measures.insert("poor_vision")
                            f.values["band"] = ["", "mild", "moderate", "severe"][min(band, 3)]
                        }
                        f.values["ucvaRight"] = Self.acuity(r[10]); f.values["ucvaLeft"] = Self.acuity(r[11])
                        f.values["seRight"] = Self.se(r[12], r[13]); f.values["seLeft"] = Self.se(r[14], r[15])
                    case "spine":
                        if (r[8] as Int?) == 1 { f.measures.insert("lateral_positive") }
                        if (r[9] as Int?) == 1 { f.measures.insert("sagittal_abnormal") }
                        if (r[10] as Int?) == 1 { f.measures.insert("postural") }
                        if let atr = r[11] as Int? { f.values["atr"] = Self.tenths(atr) }
                        if let s = r[12] as Int? { f.values["sagittal"] = String(s) }
                    default:
                        if (r[8] as Int?) == 3 { f.measures.insert("band_fail") }
                        if (r[9] as Int?) == 3 { f.measures.insert("obese") }
                        if (r[9] as Int?) == 2 { f.measures.insert("overweight") }
                        if let t = r[10] as Int? { f.values["score"] = Self.hundredths(t) }
                        if let b = r[11] as Int? { f.values["bmi"] = Self.tenths(b) }
                    }
                    // Rows are ordered by student and date: a later screening of the year replaces an earlier one.
                    if let last = out.last, last.studentID == f.studentID { out[out.count - 1] = f } else { out.append(f) }
                }
                return out
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// The year tables a school year's screenings of `kind` are in: the calendar years Y and Y + 1 (vision, spine:
    /// split by the screening date), or Y (fitness: by school year). Reading them, not the view over every year,
    /// keeps the cost to the years asked for.
    static func tables(_ db: Database, kind: String, schoolYear: Int) throws -> [String] {
        let table: ScreeningTable
        switch kind {
        case "vision": table = .vision
        case "spine": table = .spine
        case "fitness": table = .fitness
        default: return []
        }
        let wanted = table.year == .schoolYear ? [schoolYear] : [schoolYear, schoolYear + 1]
        return try Partitions.all(db, table).filter { wanted.contains($0.year) }.map(\.name)
    }

    /// Every student with a screening of `kind` in `schoolYear`, at any school (the earliest screening of the year).
    public func screenedStudents(kind: String, schoolYear: Int) throws -> [ScreenedStudent] {
        let date = kind == "fitness" ? "COALESCE(test_date, '')" : "screening_date"
        do {
            return try queue.read { db in
                var first: [String: ScreenedStudent] = [:]
                for name in try Self.tables(db, kind: kind, schoolYear: schoolYear) {
                    let rows = try Row.fetchCursor(db, sql: """
                        SELECT student_id, school_code, grade, class_code, class_name, sex, birth_date, \(date) FROM \(name) WHERE school_year = ?
                        """, arguments: [schoolYear])
                    while let r = try rows.next() {
                        let s = ScreenedStudent(studentID: r[0], school: r[1], grade: r[2], classCode: r[3], className: r[4], sex: r[5], birthDate: r[6], date: r[7])
                        if let seen = first[s.studentID], seen.date <= s.date { continue }
                        first[s.studentID] = s
                    }
                }
                return first.values.sorted { $0.studentID < $1.studentID }
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Coverage as report strata, counted in SQL: per school, grade and sex of each list of `schoolYears`, the listed
    /// students and those with a screening of `kind` that school year (at any school). Measure `coverage_<kind>`.
    public func coverageCounts(kind: String, schoolYears: [Int]) throws -> [StratumCount] {
        do {
            return try longReadQueue().read { db in   // counted apart from the pages' connection
                var out: [StratumCount] = []
                for year in schoolYears {
                    // Only the years tables that hold a screening of the year count (a kind not screened yet is left out).
                    let tables = try Self.tables(db, kind: kind, schoolYear: year).filter { t in
                        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(t) WHERE school_year = ?)", arguments: [year]) ?? false
                    }
                    guard !tables.isEmpty else { continue }
                    // The year's screened IDs as one IN list: SQLite builds it once, in memory (three times faster than a
                    // probe of each table's key index per listed student).
                    let screened = tables.map { "SELECT student_id FROM \($0) WHERE school_year = ?" }.joined(separator: " UNION ALL ")
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT r.school_code, r.grade, r.sex, COUNT(*), SUM(r.student_id IN (\(screened))) FROM roster_entry r
                        WHERE r.school_year = ? GROUP BY r.school_code, r.grade, r.sex ORDER BY 1, 2, 3
                        """, arguments: StatementArguments(tables.map { _ in year } + [year]))
                    out += rows.map { r in
                        StratumCount(measure: "coverage_" + kind, school: r[0], year: year, grade: r[1], sex: r[2], numerator: r[4], denominator: r[3])
                    }
                }
                return out
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Follow-up as report strata, counted in SQL from the original notices of `schoolYears` that ask for a result:
    /// `followup_returned_<kind>` (results ÷ notices) and `followup_confirmed_<kind>` (confirmed ÷ results); and the
    /// days from issue (county time) to each result, per school, year and kind.
    public func followUpCounts(schoolYears: ClosedRange<Int>) throws -> (strata: [StratumCount], days: [(school: String, year: Int, kind: String, days: Int)]) {
        do {
            return try longReadQueue().read { db in   // counted apart from the pages' connection
                var strata: [StratumCount] = []
                for r in try Row.fetchAll(db, sql: """
                    SELECT n.kind, n.school_code, n.school_year, n.grade, n.sex, COUNT(*), COUNT(c.notice_id),
                           SUM(c.outcome IN ('myopia', 'scoliosis'))
                    FROM notice n LEFT JOIN clinic_result c ON c.notice_id = n.id
                    WHERE n.reissue_of IS NULL AND n.expects_result = 1 AND n.kind IN ('vision', 'spine') AND n.school_year BETWEEN ? AND ?
                    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
                    """, arguments: [schoolYears.lowerBound, schoolYears.upperBound]) {
                    let kind: String = r[0], returned: Int = r[6]
                    strata.append(StratumCount(measure: "followup_returned_" + kind, school: r[1], year: r[2], grade: r[3], sex: r[4], numerator: returned, denominator: r[5]))
                    if returned > 0 {
                        strata.append(StratumCount(measure: "followup_confirmed_" + kind, school: r[1], year: r[2], grade: r[3], sex: r[4],
                                                   numerator: r[7] ?? 0, denominator: returned))
                    }
                }
                let days = try Row.fetchAll(db, sql: """
                    SELECT n.school_code, n.school_year, n.kind,
                           MAX(0, CAST(julianday(c.result_date) - julianday(date(n.issued_at, 'unixepoch', '+8 hours')) AS INTEGER))
                    FROM notice n JOIN clinic_result c ON c.notice_id = n.id
                    WHERE n.reissue_of IS NULL AND n.expects_result = 1 AND n.kind IN ('vision', 'spine') AND n.school_year BETWEEN ? AND ?
                    ORDER BY n.kind, n.school_code, n.school_year
                    """, arguments: [schoolYears.lowerBound, schoolYears.upperBound]).map { r in (school: r[0] as String, year: r[1] as Int, kind: r[2] as String, days: r[3] as Int) }
                return (strata, days)
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Every school's list for a year.
    public func roster(schoolYear: Int) throws -> [RosterEntry] {
        do {
            return try queue.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT school_year, student_id, school_code, grade, class_code, class_name, sex, birth_date FROM roster_entry
                    WHERE school_year = ? ORDER BY school_code, grade, class_code, class_name, student_id
                    """, arguments: [schoolYear]).map { r in
                    RosterEntry(schoolYear: r[0], studentID: r[1], school: r[2], grade: r[3], classCode: r[4], className: r[5], sex: r[6], birthDate: r[7])
                }
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// The school years some list covers.
    public func rosterYears() throws -> [Int] {
        do { return try queue.read { db in try Int.fetchAll(db, sql: "SELECT DISTINCT school_year FROM roster_entry ORDER BY 1") } }
        catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    static func acuity(_ x10: Int?) -> String? { x10.map { $0 < 30 ? "<3.0" : "\($0 / 10).\($0 % 10)" } }
    static func se(_ sph: Int?, _ cyl: Int?) -> String? {
        guard let sph else { return nil }
        let m = Double(sph) + Double(cyl ?? 0) / 2
        let d = (m / 250).rounded() * 0.25   // to the quarter dioptre, as a refraction is written
        return (d > 0 ? "+" : "") + String(format: "%.2f D", d)
    }
    static func tenths(_ x: Int) -> String { "\(x / 10).\(abs(x % 10))" }
    static func hundredths(_ x: Int) -> String { String(format: "%.1f", Double(x) / 100) }

    // MARK: - Notices

    /// Issues a notice for every screening in `notices` that has none yet (one per kind, student and screening
    /// date); the others are counted as already issued. One transaction, one audit event.
    /// `at`: a drill database's time (the demo), else now.
    public func issueNotices(_ notices: [NewNotice], actor: Actor, at requested: Int? = nil) throws -> (issued: [Int64], already: Int) {
        let now = try clock(requested)
        defer { reportInputsChanged() }
        do {
            return try write { db in
                var issued: [Int64] = []
                var already = 0
                let put = try db.makeStatement(sql: """
                    INSERT INTO notice (kind, student_id, screening_date, school_code, school_year, grade, class_code, class_name, sex,
                                        findings, expects_result, snapshot, rule_version, issued_at, issued_by, issued_by_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind, student_id, screening_date) WHERE reissue_of IS NULL DO NOTHING
                    """)
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                for n in notices {
                    let f = n.findings
                    let snapshot = String(decoding: try encoder.encode(f), as: UTF8.self)
                    try put.execute(arguments: [f.kind, f.studentID, f.screeningDate, f.school, f.schoolYear, f.grade, f.classCode, f.className, f.sex,
                                                n.findingIDs.joined(separator: ","), n.expectsResult, snapshot, n.ruleVersion, now, actor.accountID, actor.user])
                    if db.changesCount == 1 { issued.append(db.lastInsertedRowID) } else { already += 1 }
                }
                if !issued.isEmpty {
                    try Ledger.append(db, store: self, at: now, actor: actor, action: "notices issued", caseID: nil,
                                      detail: "\(issued.count) notice(s) \(issued.first!)–\(issued.last!), \(already) already issued")
                }
                return (issued, already)
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Issues a notice again (lost, or the parents asked): a new row marked as a re-issue of the original, with the
    /// reason. Only for the actor's school.
    public func reissueNotice(_ id: Int64, reason: String, actor: Actor, at requested: Int? = nil) throws -> Int64 {
        let now = try clock(requested)
        defer { reportInputsChanged() }
        do {
            return try write { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT COALESCE(reissue_of, id), school_code FROM notice WHERE id = ?", arguments: [id]) else {
                    throw NoticeError.noSuchNotice(id)
                }
                let original: Int64 = row[0]
                guard (row[1] as String) == actor.organisation else { throw NoticeError.otherSchool(id) }
                try db.execute(sql: """
                    INSERT INTO notice (kind, student_id, screening_date, school_code, school_year, grade, class_code, class_name, sex,
                                        findings, expects_result, snapshot, rule_version, issued_at, issued_by, issued_by_name, reissue_of, reissue_reason)
                    SELECT kind, student_id, screening_date, school_code, school_year, grade, class_code, class_name, sex,
                           findings, expects_result, snapshot, rule_version, ?, ?, ?, id, ? FROM notice WHERE id = ?
                    """, arguments: [now, actor.accountID, actor.user, reason, original])
                let new = db.lastInsertedRowID
                try Ledger.append(db, store: self, at: now, actor: actor, action: "notice reissued", caseID: nil,
                                  detail: "notice \(new) re-issues notice \(original)")
                return new
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// A school's notices (originals and re-issues, oldest first), with results and re-issue counts on the originals.
    /// `schoolYear` and `classKey` (`ClassLabel.key`: grade and class code, else name) narrow it; `school` nil: every school (reports).
    public func notices(school: String?, schoolYear: Int? = nil, classKey: String? = nil) throws -> [NoticeRecord] {
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let school { conditions.append("n.school_code = ?"); args.append(school) }
        if let schoolYear { conditions.append("n.school_year = ?"); args.append(schoolYear) }
        if let classKey { conditions.append("n.grade || ':' || COALESCE(n.class_code, n.class_name, '—') = ?"); args.append(classKey) }
        let sql = """
            SELECT n.id, n.snapshot, n.findings, n.expects_result, n.rule_version, n.issued_at, n.issued_by_name, n.reissue_of, n.reissue_reason,
                   (SELECT COUNT(*) FROM notice r WHERE r.reissue_of = n.id),
                   c.result_date, c.provider, c.outcome, c.se_r_mdpt, c.se_l_mdpt, c.cobb_x10, c.rule_version, c.recorded_at, c.batch_id, c.source_line
            FROM notice n LEFT JOIN clinic_result c ON c.notice_id = n.id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY n.id
            """
        do {
            return try queue.read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.notice) }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    public func notice(_ id: Int64) throws -> NoticeRecord? {
        do {
            return try queue.read { db in
                try Row.fetchOne(db, sql: """
                    SELECT n.id, n.snapshot, n.findings, n.expects_result, n.rule_version, n.issued_at, n.issued_by_name, n.reissue_of, n.reissue_reason,
                           (SELECT COUNT(*) FROM notice r WHERE r.reissue_of = n.id),
                           c.result_date, c.provider, c.outcome, c.se_r_mdpt, c.se_l_mdpt, c.cobb_x10, c.rule_version, c.recorded_at, c.batch_id, c.source_line
                    FROM notice n LEFT JOIN clinic_result c ON c.notice_id = COALESCE(n.reissue_of, n.id) WHERE n.id = ?
                    """, arguments: [id]).map(Self.notice)
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    static func notice(_ r: Row) throws -> NoticeRecord {
        let snapshot = try JSONDecoder().decode(ScreeningFindings.self, from: Data((r[1] as String).utf8))
        var n = NoticeRecord(id: r[0], findings: snapshot, findingIDs: (r[2] as String).split(separator: ",").map(String.init),
                             expectsResult: r[3], ruleVersion: r[4], issuedAt: r[5], issuedBy: r[6], reissueOf: r[7], reissueReason: r[8])
        n.reissues = r[9]
        if let date = r[10] as String?, let outcome = ClinicOutcome(rawValue: r[12]) {
            var c = ClinicResult(noticeID: n.originalID, resultDate: date, provider: r[11], outcome: outcome, seRightMdpt: r[13], seLeftMdpt: r[14],
                                 cobbX10: r[15], ruleVersion: r[16], line: r[19])
            c.recordedAt = r[17]
            c.batch = r[18]
            n.result = c
        }
        return n
    }

    /// Logs that the actor printed (saw) these notices.
    public func recordNoticesPrinted(_ ids: [Int64], actor: Actor, what: String) throws {
        guard !ids.isEmpty else { return }
        try recordEvent(actor: actor, action: "notices printed", detail: "\(ids.count) notice(s) of \(what)")
    }

    // MARK: - Clinic results

    /// The original notice a result for `student` and `kind` dated `date` answers: `noticeID` when given (it must be
    /// the student's and of that kind), else the latest original notice of that kind issued to the student whose
    /// screening was on or before the result's date.
    public func noticeForResult(student: String, kind: String, date: String, noticeID: Int64?, school: String?) throws -> NoticeRecord? {
        do {
            let id: Int64? = try queue.read { db in
                if let noticeID {
                    return try Int64.fetchOne(db, sql: """
                        SELECT COALESCE(reissue_of, id) FROM notice WHERE id = ? AND student_id = ? AND kind = ? AND (? IS NULL OR school_code = ?)
                        """, arguments: [noticeID, student, kind, school, school])
                }
                return try Int64.fetchOne(db, sql: """
                    SELECT id FROM notice WHERE student_id = ? AND kind = ? AND reissue_of IS NULL AND screening_date <= ? AND (? IS NULL OR school_code = ?)
                    ORDER BY screening_date DESC, id DESC LIMIT 1
                    """, arguments: [student, kind, date, school, school])
            }
            return try id.flatMap { try notice($0) }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Saves results from a file in one transaction (`beforeCommit` runs inside it). The same file again changes
    /// nothing; a result for a notice that has one replaces it when it differs.
    public func saveClinicResults(_ results: [ClinicResult], fileName: String, sha256: String, school: String?, rowsRead: Int, rejected: Int,
                                  actor: Actor?, beforeCommit: () throws -> Void) throws -> ClinicResultChange {
        let now = Int(Date().timeIntervalSince1970)
        defer { reportInputsChanged() }
        do {
            return try queue.writeWithoutTransaction { db in
                var change = ClinicResultChange()
                try db.inTransaction(.immediate) {
                    if let id = try Int64.fetchOne(db, sql: "SELECT id FROM clinic_batch WHERE sha256 = ?", arguments: [sha256]) {
                        change.alreadyImported = id
                        change.batch = id
                        return .commit
                    }
                    try db.execute(sql: """
                        INSERT INTO clinic_batch (file_name, sha256, imported_at, school_code, account_id, rows_read, inserted, updated, unchanged, rejected)
                        VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)
                        """, arguments: [fileName, sha256, now, school, actor?.accountID, rowsRead, rejected])
                    change.batch = db.lastInsertedRowID
                    for r in results {
                        switch try Self.putResult(db, r, at: now, actor: actor, batch: change.batch) {
                        case .inserted: change.inserted += 1
                        case .updated: change.updated += 1
                        case .unchanged: change.unchanged += 1
                        }
                    }
                    try db.execute(sql: "UPDATE clinic_batch SET inserted = ?, updated = ?, unchanged = ? WHERE id = ?",
                                   arguments: [change.inserted, change.updated, change.unchanged, change.batch])
                    if let actor {
                        try Ledger.append(db, store: self, at: now, actor: actor, action: "clinic results imported", caseID: nil,
                                          detail: "clinic batch \(change.batch): \(change.inserted) new, \(change.updated) changed, \(change.unchanged) unchanged")
                    }
                    try beforeCommit()
                    return .commit
                }
                return change
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Records one result entered by hand (replacing the notice's earlier one), logged.
    @discardableResult
    public func recordClinicResult(_ result: ClinicResult, actor: Actor) throws -> ResultWrite {
        let now = Int(Date().timeIntervalSince1970)
        defer { reportInputsChanged() }
        do {
            return try write { db in
                let outcome = try Self.putResult(db, result, at: now, actor: actor, batch: nil)
                try Ledger.append(db, store: self, at: now, actor: actor, action: "clinic result recorded", caseID: nil,
                                  detail: "notice \(result.noticeID): \(outcome)")
                return outcome
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    public enum ResultWrite: String, Sendable { case inserted, updated, unchanged }

    static func putResult(_ db: Database, _ r: ClinicResult, at now: Int, actor: Actor?, batch: Int64?) throws -> ResultWrite {
        let old = try Row.fetchOne(db, sql: "SELECT result_date, provider, outcome, se_r_mdpt, se_l_mdpt, cobb_x10 FROM clinic_result WHERE notice_id = ?",
                                   arguments: [r.noticeID])
        if let old, let outcome = ClinicOutcome(rawValue: old[2]),
           r.sameAnswer(ClinicResult(noticeID: r.noticeID, resultDate: old[0], provider: old[1], outcome: outcome, seRightMdpt: old[3], seLeftMdpt: old[4],
                                     cobbX10: old[5], ruleVersion: r.ruleVersion)) {
            return .unchanged
        }
        try db.execute(sql: """
            INSERT INTO clinic_result (notice_id, student_id, school_code, kind, result_date, provider, outcome, se_r_mdpt, se_l_mdpt, cobb_x10,
                                       rule_version, recorded_at, recorded_by, batch_id, source_line)
            SELECT id, student_id, school_code, kind, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM notice WHERE id = ?
            ON CONFLICT (notice_id) DO UPDATE SET result_date = excluded.result_date, provider = excluded.provider, outcome = excluded.outcome,
                se_r_mdpt = excluded.se_r_mdpt, se_l_mdpt = excluded.se_l_mdpt, cobb_x10 = excluded.cobb_x10, rule_version = excluded.rule_version,
                recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by, batch_id = excluded.batch_id, source_line = excluded.source_line
            """, arguments: [r.resultDate, r.provider, r.outcome.rawValue, r.seRightMdpt, r.seLeftMdpt, r.cobbX10, r.ruleVersion, now,
                             actor?.accountID, batch, r.line, r.noticeID])
        guard db.changesCount == 1 else { throw NoticeError.noSuchNotice(r.noticeID) }
        return old == nil ? .inserted : .updated
    }
}
