public import HealthCore
public import HealthRisk

/// Writes the rows of one file inside its batch, which is one transaction: a backend's `importFile` hands it to the
/// importer, and keeps everything written or nothing.
///
/// The mapping from a typed record to the table's columns is written once, here (`write(vision:…)`): the importer
/// fills `values` in `ScreeningTable` column order through it and the backend stores the row. A backend may settle
/// what a row did only when the load ends (PostgreSQL merges a staged COPY): it then reports `.inserted` per row and
/// corrects `counts` in `finishLoad`, returning the repeated keys it found as `LateDuplicate`s, as SQLite's bulk load does.
public protocol ScreeningBatchWriter: AnyObject {
    /// The counts recorded with the batch; the importer keeps them up to date.
    var counts: BatchCounts { get set }
    /// How the file was read (header lines, delimiter, column mapping), as JSON, recorded with the batch.
    var layout: String? { get set }
    /// Where the row being written is put, in column order (`ScreeningTable.columns` of the batch's kind).
    var values: UnsafeMutablePointer<StoreValue> { get }
    /// Stores the row in `values`, found at `line` of the file.
    func writeValues(line: Int) throws(StoreError) -> WriteOutcome
    /// The school of the student's most recent record of any kind (for exports without a school column).
    func schoolOf(_ student: String) throws(StoreError) -> String?
    /// Ends the load: the rows whose key came earlier in the file, by line (the first occurrence stays).
    func finishLoad() throws(StoreError) -> [LateDuplicate]
    /// The tables this load bulk-loaded (for the import's trace), e.g. `["vision_screening_2025"]`.
    var bulkLoaded: [String] { get }
    /// Writes one psychological screening (scores only) and raises the flag its risk rule calls for.
    func write(psych s: PsychScores, student: String, sex: Int, school: String, grade: Int, className: String?, date: String,
               schoolYear: Int, rule: RiskRule?, ruleVersion: String?, deadlines: DeadlinePolicy, now: Int, line: Int) throws -> WriteOutcome
}

/// Where screenings are kept: the import batches, the year tables and the counts a trend report is made of. SQLite
/// (`Store`, the embedded default) and PostgreSQL (`PostgresStore`) implement it; the contract tests hold both to
/// the same answers on the same files.
public protocol ScreeningStorage: AnyObject, Sendable {
    /// Where the data is, as it may be shown (a file path, or a PostgreSQL address without its password).
    var location: String { get }
    /// The county's schools (codes, names and other spellings), to place the rows of a file.
    func schools() throws(StoreError) -> [School]
    /// Imports one file as one batch and one transaction: everything `body` wrote is kept, or nothing is. A file
    /// whose SHA-256 was imported before is not read again: the outcome names the batch that has it.
    func importFile(_ header: BatchHeader, now: String, body: (any ScreeningBatchWriter) throws -> ImportDecision) throws -> BatchOutcome
    /// Numerators and denominators of every report measure per school, year, grade and sex, and the myopia
    /// follow-ups between consecutive years (see `ReportAggregator` for which screening counts).
    func reportData(fromYear: Int, toYear: Int, latest: Bool) throws(StoreError) -> (strata: [StratumCount], followUps: [FollowUpCount])
    /// The school years that have screenings, ascending.
    func reportYears() throws(StoreError) -> [Int]
    /// Changes whenever what a report counts may have changed (a report cache compares it).
    func changeStamp() throws -> [Int64]
}

/// Fills a row's values in column order without building an intermediate array.
package struct Put {
    let values: UnsafeMutablePointer<StoreValue>
    package private(set) var next = 0
    package init(values: UnsafeMutablePointer<StoreValue>) { self.values = values }
    package mutating func callAsFunction(_ value: StoreValue) { values[next] = value; next += 1 }

    package static func acuity(_ a: Acuity?) -> StoreValue { a.map { .int(Int64($0.tenths)) } ?? .null }
    package static func dioptres(_ d: Dioptres?) -> StoreValue { d.map { .int(Int64($0.milli)) } ?? .null }
    /// The order of the score_* columns.
    package static let scoreColumns: [FitnessItem] = [.bmi, .vitalCapacity, .run50m, .sitAndReach, .ropeSkip, .sitUp, .shuttle50x8,
                                              .standingLongJump, .pullUp, .run800m, .run1000m]
    package static func int(_ i: Int?) -> StoreValue { i.map { .int(Int64($0)) } ?? .null }
    package static func bool(_ b: Bool?) -> StoreValue { b.map { .int($0 ? 1 : 0) } ?? .null }
    package static func text(_ t: String?) -> StoreValue { t.map { .text($0) } ?? .null }
}

/// Column values of the screening tables, in the order of `ScreeningTable.vision` / `.spine` / `.fitness`.
extension ScreeningBatchWriter {
    /// Writes one vision screening found at `line` of the source file.
    public func write(vision s: VisionScreening, classification c: VisionClassification, schoolYear: Int, line: Int) throws(StoreError) -> WriteOutcome {
        var put = Put(values: values)
        put(.text(s.studentID.rawValue)); put(.text(s.screeningDate.description))
        put(.int(Int64(schoolYear))); put(.text(s.schoolCode)); put(.int(Int64(s.grade.rawValue))); put(Put.text(s.className))
        put(.int(Int64(s.sex.rawValue))); put(Put.text(s.birthDate?.description)); put(.int(Int64(s.glasses.rawValue)))
        put(Put.acuity(s.right.ucva)); put(Put.acuity(s.left.ucva))
        put(Put.dioptres(s.right.sphere)); put(Put.dioptres(s.right.cylinder)); put(Put.int(s.right.axis))
        put(Put.dioptres(s.left.sphere)); put(Put.dioptres(s.left.cylinder)); put(Put.int(s.left.axis))
        put(Put.acuity(s.right.corrected)); put(Put.acuity(s.left.corrected))
        put(Put.bool(c.myopic)); put(Put.int(c.poorVision?.code)); put(Put.int(c.grade?.code)); put(.int(c.complete ? 1 : 0))
        put(Put.text(s.classCode)); put(Put.bool(s.orthokeratology))
        precondition(put.next == ScreeningTable.vision.columns.count, "vision row has \(put.next) values")
        return try writeValues(line: line)
    }
    /// Writes one spine screening found at `line` of the source file.
    public func write(spine s: SpineScreening, classification c: SpineClassification, schoolYear: Int, line: Int) throws(StoreError) -> WriteOutcome {
        let segments = SpineSegment.allCases.map { s.segments[$0] ?? SegmentFinding() }
        var put = Put(values: values)
        put(.text(s.studentID.rawValue)); put(.text(s.screeningDate.description))
        put(.int(Int64(schoolYear))); put(.text(s.schoolCode)); put(.int(Int64(s.grade.rawValue))); put(Put.text(s.className))
        put(.int(Int64(s.sex.rawValue))); put(Put.text(s.birthDate?.description))
        put(Put.text(s.generalInspection.isEmpty ? nil : s.generalInspection.map(String.init).joined(separator: ",")))
        for f in segments { put(Put.int(f.side?.rawValue)) }
        for f in segments { put(Put.int(f.atrTenths)) }
        for f in segments { put(Put.bool(f.atrAtLeastFive)) }
        put(Put.bool(s.motionTestDone)); put(Put.int(s.sagittalInspection?.rawValue)); put(Put.int(s.proneTest?.rawValue))
        put(Put.text(s.history.isEmpty ? nil : s.history.map(String.init).joined(separator: ",")))
        for segment in SpineSegment.allCases { put(Put.int(c.atrBands[segment])) }
        put(Put.int(c.maxAtrTenths)); put(Put.bool(c.lateralFinding)); put(Put.bool(c.lateralPositive)); put(Put.int(c.grade))
        put(Put.bool(c.gradeConfirmed)); put(.int(Int64(c.sagittal.rawValue))); put(Put.bool(c.sagittalAbnormal)); put(Put.bool(c.abnormal))
        put(.int(Int64(c.suggestion.rawValue))); put(.int(c.complete ? 1 : 0))
        // v5
        put(Put.text(s.classCode))
        for f in segments { put(Put.int(f.degree)) }
        for f in segments { put(Put.int(f.atrBand)) }
        put(Put.bool(s.motionTestPersisted))
        for f in segments { put(Put.int(f.atrAfterTenths)) }
        for f in segments { put(Put.int(f.atrAfterBand)) }
        put(Put.int(s.sagittalResult?.rawValue)); put(Put.int(s.sagittalDegree))
        put(Put.bool(c.postural))
        precondition(put.next == ScreeningTable.spine.columns.count, "spine row has \(put.next) values")
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
        func result(_ item: FitnessItem, scale: Int) -> StoreValue { Put.int(f.test.results[item].map { $0 / scale }) }
        var put = Put(values: values)
        put(.text(f.studentID.rawValue)); put(.int(Int64(f.schoolYear)))
        put(Put.text(f.testDate?.description)); put(Put.text(school)); put(.int(Int64(f.grade))); put(.int(Int64(f.test.grade)))
        put(Put.text(f.classCode)); put(Put.text(f.className)); put(.int(Int64(f.test.sex.rawValue))); put(Put.text(f.birthDate?.description))
        put(.int(f.test.exempt ? 1 : 0)); put(Put.int(f.test.heightMillimetres)); put(Put.int(f.test.weightTenthsKg))
        put(result(.vitalCapacity, scale: 10)); put(result(.run50m, scale: 1)); put(result(.standingLongJump, scale: 1)); put(result(.sitAndReach, scale: 1))
        put(result(.shuttle50x8, scale: 10)); put(result(.ropeSkip, scale: 10)); put(result(.run800m, scale: 10)); put(result(.run1000m, scale: 10))
        put(result(.sitUp, scale: 10)); put(result(.pullUp, scale: 10))
        put(Put.int(f.external.standardHundredths)); put(Put.int(f.external.bonusHundredths)); put(Put.int(f.external.totalHundredths))
        put(Put.int(f.external.band?.rawValue))
        put(.int(Int64(r.status.rawValue))); put(Put.int(r.bmiTenths)); put(Put.int(r.bmiCategory?.code))
        for item in Put.scoreColumns { put(Put.int(r.score(item))) }
        put(Put.int(r.standardHundredths)); put(Put.int(r.bonus)); put(Put.int(r.totalHundredths)); put(Put.int(r.band?.rawValue))
        put(.int(Int64(r.provenance.rawValue))); put(.int(Int64(r.itemProvenance)))
        put(Put.text(r.missingMask == 0 ? nil : r.missing.map(\.rawValue).joined(separator: ",")))
        precondition(put.next == ScreeningTable.fitness.columns.count, "fitness row has \(put.next) values")
        return .written(try writeValues(line: line), school: school!)
    }
}
