public import HealthCore
public import HealthRisk
internal import CSQLite
internal import GRDB
import Foundation

/// Column values of the screening tables, in the order of `ScreeningTable.vision` / `.spine` / `.fitness`.
extension ImportSession {
    /// Fills the row's values in column order without building an intermediate array.
    private struct Filler {
        let values: UnsafeMutablePointer<StoreValue>
        var next = 0
        mutating func callAsFunction(_ value: StoreValue) { values[next] = value; next += 1 }
    }

    private static func acuity(_ a: Acuity?) -> StoreValue { a.map { .int(Int64($0.tenths)) } ?? .null }
    private static func dioptres(_ d: Dioptres?) -> StoreValue { d.map { .int(Int64($0.milli)) } ?? .null }

    /// Writes one vision screening found at `line` of the source file.
    public func write(vision s: VisionScreening, classification c: VisionClassification, schoolYear: Int, line: Int) throws(StoreError) -> WriteOutcome {
        var put = Filler(values: values)
        put(.text(s.studentID.rawValue)); put(.text(s.screeningDate.description))
        put(.int(Int64(schoolYear))); put(.text(s.schoolCode)); put(.int(Int64(s.grade.rawValue))); put(Self.text(s.className))
        put(.int(Int64(s.sex.rawValue))); put(Self.text(s.birthDate?.description)); put(.int(Int64(s.glasses.rawValue)))
        put(Self.acuity(s.right.ucva)); put(Self.acuity(s.left.ucva))
        put(Self.dioptres(s.right.sphere)); put(Self.dioptres(s.right.cylinder)); put(Self.int(s.right.axis))
        put(Self.dioptres(s.left.sphere)); put(Self.dioptres(s.left.cylinder)); put(Self.int(s.left.axis))
        put(Self.acuity(s.right.corrected)); put(Self.acuity(s.left.corrected))
        put(Self.bool(c.myopic)); put(Self.int(c.poorVision?.code)); put(Self.int(c.grade?.code)); put(.int(c.complete ? 1 : 0))
        put(Self.text(s.classCode)); put(Self.bool(s.orthokeratology))
        precondition(put.next == table.columns.count, "vision row has \(put.next) values for \(table.columns.count) columns")
        return try writeValues(line: line)
    }
    /// The order of the score_* columns.
    private static let scoreColumns: [FitnessItem] = [.bmi, .vitalCapacity, .run50m, .sitAndReach, .ropeSkip, .sitUp, .shuttle50x8,
                                                      .standingLongJump, .pullUp, .run800m, .run1000m]
    private static func int(_ i: Int?) -> StoreValue { i.map { .int(Int64($0)) } ?? .null }
    private static func bool(_ b: Bool?) -> StoreValue { b.map { .int($0 ? 1 : 0) } ?? .null }
    private static func text(_ t: String?) -> StoreValue { t.map { .text($0) } ?? .null }

    /// Writes one spine screening found at `line` of the source file.
    public func write(spine s: SpineScreening, classification c: SpineClassification, schoolYear: Int, line: Int) throws(StoreError) -> WriteOutcome {
        let segments = SpineSegment.allCases.map { s.segments[$0] ?? SegmentFinding() }
        var put = Filler(values: values)
        put(.text(s.studentID.rawValue)); put(.text(s.screeningDate.description))
        put(.int(Int64(schoolYear))); put(.text(s.schoolCode)); put(.int(Int64(s.grade.rawValue))); put(Self.text(s.className))
        put(.int(Int64(s.sex.rawValue))); put(Self.text(s.birthDate?.description))
        put(Self.text(s.generalInspection.isEmpty ? nil : s.generalInspection.map(String.init).joined(separator: ",")))
        for f in segments { put(Self.int(f.side?.rawValue)) }
        for f in segments { put(Self.int(f.atrTenths)) }
        for f in segments { put(Self.bool(f.atrAtLeastFive)) }
        put(Self.bool(s.motionTestDone)); put(Self.int(s.sagittalInspection?.rawValue)); put(Self.int(s.proneTest?.rawValue))
        put(Self.text(s.history.isEmpty ? nil : s.history.map(String.init).joined(separator: ",")))
        for segment in SpineSegment.allCases { put(Self.int(c.atrBands[segment])) }
        put(Self.int(c.maxAtrTenths)); put(Self.bool(c.lateralFinding)); put(Self.bool(c.lateralPositive)); put(Self.int(c.grade))
        put(Self.bool(c.gradeConfirmed)); put(.int(Int64(c.sagittal.rawValue))); put(Self.bool(c.sagittalAbnormal)); put(Self.bool(c.abnormal))
        put(.int(Int64(c.suggestion.rawValue))); put(.int(c.complete ? 1 : 0))
        // v5
        put(Self.text(s.classCode))
        for f in segments { put(Self.int(f.degree)) }
        for f in segments { put(Self.int(f.atrBand)) }
        put(Self.bool(s.motionTestPersisted))
        for f in segments { put(Self.int(f.atrAfterTenths)) }
        for f in segments { put(Self.int(f.atrAfterBand)) }
        put(Self.int(s.sagittalResult?.rawValue)); put(Self.int(s.sagittalDegree))
        put(Self.bool(c.postural))
        precondition(put.next == table.columns.count, "spine row has \(put.next) values for \(table.columns.count) columns")
        return try writeValues(line: line)
    }

    /// Writes one fitness test. A nil `schoolCode` is filled from the student's other records;
    /// if there are none the row is not written and `.unplaced` is returned.
    public func write(fitness f: FitnessRecord, result r: FitnessResult, line: Int) throws(StoreError) -> FitnessWriteOutcome {
        var school = f.schoolCode
        if school == nil {
            school = try schoolOf(f.studentID.rawValue)
            guard school != nil else { return .unplaced }
        }
        func result(_ item: FitnessItem, scale: Int) -> StoreValue { Self.int(f.test.results[item].map { $0 / scale }) }
        var put = Filler(values: values)
        put(.text(f.studentID.rawValue)); put(.int(Int64(f.schoolYear)))
        put(Self.text(f.testDate?.description)); put(Self.text(school)); put(.int(Int64(f.grade))); put(.int(Int64(f.test.grade)))
        put(Self.text(f.classCode)); put(Self.text(f.className)); put(.int(Int64(f.test.sex.rawValue))); put(Self.text(f.birthDate?.description))
        put(.int(f.test.exempt ? 1 : 0)); put(Self.int(f.test.heightMillimetres)); put(Self.int(f.test.weightTenthsKg))
        put(result(.vitalCapacity, scale: 10)); put(result(.run50m, scale: 1)); put(result(.standingLongJump, scale: 1)); put(result(.sitAndReach, scale: 1))
        put(result(.shuttle50x8, scale: 10)); put(result(.ropeSkip, scale: 10)); put(result(.run800m, scale: 10)); put(result(.run1000m, scale: 10))
        put(result(.sitUp, scale: 10)); put(result(.pullUp, scale: 10))
        put(Self.int(f.external.standardHundredths)); put(Self.int(f.external.bonusHundredths)); put(Self.int(f.external.totalHundredths))
        put(Self.int(f.external.band?.rawValue))
        put(.int(Int64(r.status.rawValue))); put(Self.int(r.bmiTenths)); put(Self.int(r.bmiCategory?.code))
        for item in Self.scoreColumns { put(Self.int(r.score(item))) }
        put(Self.int(r.standardHundredths)); put(Self.int(r.bonus)); put(Self.int(r.totalHundredths)); put(Self.int(r.band?.rawValue))
        put(.int(Int64(r.provenance.rawValue))); put(.int(Int64(r.itemProvenance)))
        put(Self.text(r.missingMask == 0 ? nil : r.missing.map(\.rawValue).joined(separator: ",")))
        precondition(put.next == table.columns.count, "fitness row has \(put.next) values for \(table.columns.count) columns")
        return .written(try writeValues(line: line), school: school!)
    }

    /// The school of the student's most recent record of any kind.
    func schoolOf(_ student: String) throws(StoreError) -> String? {
        if schoolLookup == nil {
            do {
                schoolLookup = try prepare("""
                    SELECT school_code FROM (
                        SELECT school_code, screening_date AS d FROM vision_screening WHERE student_id = ?1
                        UNION ALL SELECT school_code, screening_date FROM spine_screening WHERE student_id = ?1
                        UNION ALL SELECT school_code, printf('%04d-09-01', school_year) FROM fitness_test WHERE student_id = ?1 AND batch_id <> ?2
                    ) ORDER BY d DESC LIMIT 1
                    """)
            } catch let error as StoreError { throw error } catch { throw .sqlite(path: path, code: -1, message: "\(error)") }
        }
        sqlite3_reset(schoolLookup)
        StoreValue.text(student).bind(to: schoolLookup, at: 1)
        sqlite3_bind_int64(schoolLookup, 2, batch)
        defer { sqlite3_reset(schoolLookup) }
        let rc = sqlite3_step(schoolLookup)
        if rc == SQLITE_ROW, let text = sqlite3_column_text(schoolLookup, 0) { return String(cString: text) }
        guard rc == SQLITE_DONE else { throw failure(rc) }
        return nil
    }
}

/// A fitness test as the national template carries it, ready to store.
public struct FitnessRecord: Sendable, Equatable {
    /// Scores or grades the file itself carries (computed elsewhere), kept and compared, never overwritten.
    public struct External: Sendable, Equatable {
        public var standardHundredths: Int?
        public var bonusHundredths: Int?
        public var totalHundredths: Int?
        public var band: FitnessBand?
        public init(standardHundredths: Int? = nil, bonusHundredths: Int? = nil, totalHundredths: Int? = nil, band: FitnessBand? = nil) {
            self.standardHundredths = standardHundredths; self.bonusHundredths = bonusHundredths
            self.totalHundredths = totalHundredths; self.band = band
        }
        public var isEmpty: Bool { standardHundredths == nil && bonusHundredths == nil && totalHundredths == nil && band == nil }
    }
    public var studentID: StudentID
    public var schoolYear: Int
    public var testDate: CivilDate?
    /// nil: take it from the student's known enrolment.
    public var schoolCode: String?
    /// The grade code as written in the file (the test's grade is the one used for scoring).
    public var grade: Int
    public var classCode: String?
    public var className: String?
    public var birthDate: CivilDate?
    public var test: FitnessTest
    public var external: External

    public init(studentID: StudentID, schoolYear: Int, testDate: CivilDate?, schoolCode: String?, grade: Int, classCode: String?,
                className: String?, birthDate: CivilDate?, test: FitnessTest, external: External) {
        self.studentID = studentID; self.schoolYear = schoolYear; self.testDate = testDate; self.schoolCode = schoolCode
        self.grade = grade; self.classCode = classCode; self.className = className; self.birthDate = birthDate
        self.test = test; self.external = external
    }
}

/// What writing a fitness test did.
public enum FitnessWriteOutcome: Equatable, Sendable {
    case written(WriteOutcome, school: String)
    /// No school given and none known for the student.
    case unplaced
}

extension ImportSession {
    /// Writes one psychological screening (scores only). When a risk rule matched a newly stored or changed
    /// result, a flag is raised: it opens the student's case or joins the open one.
    public func write(psych s: PsychScores, student: String, sex: Int, school: String, grade: Int, className: String?, date: String,
                      schoolYear: Int, rule: RiskRule?, ruleVersion: String?, deadlines: DeadlinePolicy, now: Int, line: Int) throws -> WriteOutcome {
        var put = Filler(values: values)
        put(.text(student)); put(.text(date)); put(.text(s.instrument.rawValue))
        put(.int(Int64(schoolYear))); put(.text(school)); put(.int(Int64(grade))); put(Self.text(className)); put(.int(Int64(sex)))
        put(Self.int(s.total)); put(Self.int(s.item9)); put(Self.int(s.validity)); put(Self.int(s.item85)); put(Self.int(s.item97))
        put(Self.int(s.positiveItems)); put(Self.int(s.factorMaxHundredths)); put(Self.int(s.informant))
        put(Self.text(rule?.tier.rawValue)); put(Self.text(rule?.id)); put(Self.text(ruleVersion))
        let outcome = try writeValues(line: line)
        if let rule, outcome == .inserted || outcome == .updated {
            do {
                // The deadline runs from the screening (`now` is its time); the audit event has the clock's time.
                _ = try CaseRows.flag(db, store: store, student: student, school: school, className: className, tier: rule.tier, kind: "rule",
                                      ruleID: rule.id, ruleVersion: ruleVersion,
                                      reason: "\(s.instrument.rawValue) \(rule.condition.description) (\(rule.source))",
                                      actor: .system("import batch \(batch)", organisation: school),
                                      raisedAt: now, auditAt: Int(Date().timeIntervalSince1970), policy: deadlines, batch: batch)
            } catch let error as StoreError { throw error } catch { throw StoreError(error, path: path) }
        }
        return outcome
    }
}
