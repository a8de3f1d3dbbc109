import HealthCore
import HealthStore

/// One problem with one value of a row.
struct RowProblem: Sendable {
    var column: String
    var value: String
    var reason: ReasonText
}

/// What parsing one data row gave.
enum ParsedRow<Record: Sendable>: Sendable {
    case record(Record, line: Int)
    case rejected(line: Int, [RowProblem])
    /// Something to report about a stored row (e.g. a score in the file that disagrees with ours).
    case note(line: Int, [RowProblem])
}

/// What writing one record did.
enum RowWrite {
    case outcome(WriteOutcome)
    /// The record names no school and the student has no known enrolment.
    case unplaced(student: String)
}

/// Turns the rows of one kind of export into stored records. One conformance per screening kind;
/// everything else (decoding, headers, rejects, batches, progress) is shared by `FileImporter`.
protocol RecordImporter {
    /// A validated, classified row, ready to be written.
    associatedtype Record: Sendable
    static var kind: ScreeningKind { get }
    static var profileKind: String { get }
    /// The rule version recorded with the batch.
    static func ruleVersion(_ config: SchoolHealthConfig) -> String
    /// Fields that can come from outside the file (e.g. the school from --school).
    static func fixedFields(_ options: ImportOptions) -> Set<String>
    /// Checks the header as a whole once it is matched (e.g. a needed option is missing).
    static func check(_ map: HeaderMap, options: ImportOptions, file: String) throws(IngestError)
    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions)
    /// Parses and validates one data row (on the parser thread). May also queue notes for the row.
    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record>
    /// Notes about the row just parsed, taken by the caller after `parse`.
    mutating func takeNotes() -> [RowProblem]
    /// Writes one record (on the writer thread).
    static func write(_ record: Record, line: Int, into session: any ScreeningBatchWriter) throws -> RowWrite
    /// Notes about the whole file (e.g. a column that mixes acuity notations).
    var warnings: [ReasonText] { get }
}

extension RecordImporter {
    /// The school and the date come from the file, the school list or an option: `check` refuses a header
    /// that leaves them unknown.
    static func fixedFields(_ options: ImportOptions) -> Set<String> { [] }
    static func check(_ map: HeaderMap, options: ImportOptions, file: String) throws(IngestError) {
        try StudentColumns.check(map, options: options, file: file)
    }
    mutating func takeNotes() -> [RowProblem] { [] }
}

/// Reads the values of one row through field parsers, collecting every problem instead of stopping at the first.
///
/// A cell holding one of its column's not-measured markers (`--`, `/`, a layout's own code) is "not measured":
/// the value is nil, never a problem, and it is counted. A layout code is read as the value it stands for.
struct RowReader {
    let headers: [String]
    private let map: HeaderMap
    /// Copied out of the map: the hot path reads these without touching the (reference-counted) map.
    private let physicalCount: Int
    private let markerStarts: [ByteSet]
    private let hasCodes: [Bool]
    private let numericMarkers: [Bool]
    private(set) var problems: [RowProblem] = []
    /// Cells read as "not measured" in this file, and the marks seen (at most a few, for the summary).
    private(set) var notMeasured = 0
    private(set) var marksSeen: [String] = []

    /// "N cell(s) marked as not measured (--, 9) were stored as missing", or nil.
    var notMeasuredNote: ReasonText? {
        notMeasured == 0 ? nil : "\(notMeasured) cell(s) marked as not measured (\(marksSeen.joined(separator: ", "))) were stored as missing"
    }

    init(map: HeaderMap) {
        self.map = map
        headers = map.headers
        physicalCount = map.physicalCount
        markerStarts = map.markerStarts
        hasCodes = map.hasCodes
        numericMarkers = map.numericMarkers
    }

    /// Whether the first byte of a trimmed cell of `column` starts one of its markers (most cells: no).
    @inline(__always)
    private func mayBeMarker(_ trimmed: UnsafeBufferPointer<UInt8>, _ column: Int) -> Bool {
        markerStarts[column].contains(trimmed.first)
    }

    mutating func begin() { problems.removeAll(keepingCapacity: true) }

    /// Whether the field in `column` already has a problem on this row.
    func hasProblem(_ column: Int?) -> Bool { column.map { c in problems.contains { $0.column == headers[c] } } ?? false }

    mutating func add(_ column: Int?, value: String, reason: ReasonText) {
        problems.append(RowProblem(column: column.map { headers[$0] } ?? Rejection.wholeRow, value: value, reason: reason))
    }

    /// The raw bytes of `column` (a physical field, or part of one).
    @inline(__always)
    func raw(_ record: CSVRecord, _ column: Int) -> UnsafeBufferPointer<UInt8> {
        column < physicalCount ? record.field(column) : map.cell(record, column)
    }

    /// Whether `column` holds a not-measured marker on this row.
    func isNotMeasured(_ record: CSVRecord, _ column: Int?) -> Bool {
        guard let column else { return false }
        return isMarker(raw(record, column), column)
    }

    /// Whether a raw cell is one of its column's markers: decided on its first byte for almost every cell (a
    /// digit starts no marker), trimmed and compared only when it might be one.
    @inline(__always)
    private func isMarker(_ raw: UnsafeBufferPointer<UInt8>, _ column: Int) -> Bool {
        guard let first = raw.first else { return false }
        if first != 0x20 && first != 0x09 && first != 0xE3 {
            if !mayBeMarker(raw, column) { return false }
            // -1.25, +0.50: a sign then a digit is a number.
            if raw.count >= 2, case let second = raw[1], (second >= 0x30 && second <= 0x39) || second == 0x2E, !numericMarkers[column] { return false }
        }
        return trimmedIsMarker(raw, column)
    }

    @inline(never)
    private func trimmedIsMarker(_ raw: UnsafeBufferPointer<UInt8>, _ column: Int) -> Bool {
        let t = FieldParsers.trimmed(raw)
        return map.isMarker(t, column: column)
    }

    /// Parses the field in `column` with `parse`; a failure is recorded as a problem and gives nil.
    @inline(__always)
    mutating func value<T>(_ record: CSVRecord, _ column: Int?, required: Bool = false,
                           _ parse: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T?) -> T? {
        guard let i = column else { return nil }
        let raw = self.raw(record, i)
        if isMarker(raw, i) {
            noteMarker(raw)
            return nil
        }
        do {
            let v = hasCodes[i] ? try coded(raw, i, parse) : try parse(raw)
            if v == nil && required { add(i, value: "", reason: "is empty; this column is required") }
            return v
        } catch {
            add(i, value: FieldParsers.display(raw), reason: error.reason)
            return nil
        }
    }

    // The rare paths, out of line so that `value` stays small enough to inline into every importer.

    @inline(never)
    private mutating func noteMarker(_ raw: UnsafeBufferPointer<UInt8>) {
        notMeasured += 1
        if marksSeen.count < 4 {
            let mark = FieldParsers.display(raw)
            if !marksSeen.contains(mark) { marksSeen.append(mark) }
        }
    }

    /// Parses a cell of a column with layout codes: a code is read as the value it stands for.
    @inline(never)
    private func coded<T>(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int,
                          _ parse: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T?) throws(FieldProblem) -> T? {
        let t = FieldParsers.trimmed(raw)
        guard let code = map.codes[i].first(where: { $0.code.elementsEqual(t) }) else { return try parse(raw) }
        return try code.value.withUnsafeBufferPointer { b throws(FieldProblem) in try parse(b) }
    }

    mutating func text(_ record: CSVRecord, _ column: Int?, required: Bool = false) -> String? {
        value(record, column, required: required) { raw throws(FieldProblem) in try FieldParsers.text(raw) }
    }
}

/// Fields that say who and when: a not-measured marker never applies to them.
enum IdentityFields {
    static let keys: Set<String> = ["student_id", "sex", "birth_date", "school_code", "school_name", "grade", "class_name",
                                    "class_code", "grade_and_class", "screening_date", "test_date", "instrument"]
}

/// Who and when: the columns every screening export shares, and their checks.
struct StudentColumns {
    let id, sex, birth, school, schoolName, grade, className, classCode, gradeAndClass, date: Int?

    init(_ map: HeaderMap, date: String = "screening_date") {
        let c = map.index
        (id, sex, birth, school, schoolName, grade) = (c["student_id"], c["sex"], c["birth_date"], c["school_code"], c["school_name"], c["grade"])
        (className, classCode, gradeAndClass) = (c["class_name"], c["class_code"], c["grade_and_class"])
        self.date = c[date]
    }

    struct Values {
        var id: StudentID?
        var sex: Sex?
        var birth: CivilDate?
        var school: String?
        var grade: GradeCode?
        var className: String?
        var classCode: String?
        var date: CivilDate?
    }

    /// Reads the shared columns; `dateRequired` for screenings keyed by date. The school comes from the school
    /// column, else from a school-name column through the county's school list, else from --school; the date
    /// from the date column, else from --screening-date.
    func read(_ record: CSVRecord, into reader: inout RowReader, options: ImportOptions, schoolRequired: Bool = true,
              dateRequired: Bool = true, ageBounds: ClosedRange<Double>) -> Values {
        var v = Values()
        v.id = reader.value(record, id, required: true, FieldParsers.studentID)
        v.sex = reader.value(record, sex, required: true, FieldParsers.sex)
        v.birth = reader.value(record, birth, FieldParsers.date)
        v.school = options.school
        if school != nil {
            let written = reader.text(record, school, required: schoolRequired && options.school == nil && schoolName == nil)
            if options.onlyGivenSchool, let given = options.school, let written, written != given {
                reader.add(school, value: written,
                           reason: "is another school than \(given), the school this upload is for (a school uploads its own students only)")
            } else {
                v.school = written ?? v.school
            }
        }
        if let schoolName, v.school == nil || school == nil {
            let schools = options.schools
            if let code = reader.value(record, schoolName, required: schoolRequired && options.school == nil, { raw throws(FieldProblem) -> String? in
                guard let name = try FieldParsers.text(raw) else { return nil }
                guard let code = schools.code(for: name) else {
                    throw FieldProblem(reason: schools.isEmpty
                        ? "is a school name, but the county's school list is empty: import it first (schoolhealth schools import FILE) or pass --school CODE"
                        : "is not a school of the county's list (nor one of its other spellings): add it to the list or correct the name")
                }
                return code
            }) {
                if let given = options.school, given != code {
                    reader.add(schoolName, value: FieldParsers.display(reader.raw(record, schoolName)),
                               reason: "is school \(code) in the county's list, but --school \(given) was given")
                } else {
                    v.school = code
                }
            }
        }
        if let gradeAndClass, grade == nil {
            if let (g, c) = reader.value(record, gradeAndClass, required: true, FieldParsers.gradeAndClass) {
                v.grade = g
                v.className = c
            }
        } else {
            v.grade = reader.value(record, grade, required: true, FieldParsers.grade)
        }
        v.className = reader.text(record, className) ?? v.className
        v.classCode = reader.text(record, classCode)
        v.date = reader.value(record, date, required: dateRequired && options.screeningDate == nil, FieldParsers.date) ?? options.screeningDate
        if let date = v.date, date > options.today {
            reader.add(self.date, value: date.description, reason: "is in the future")
        }
        if let birth = v.birth, let date = v.date {
            let age = birth.age(on: date)
            if birth >= date || !ageBounds.contains(Double(age)) {
                reader.add(self.birth, value: birth.description,
                           reason: "gives an age of \(age) at the screening on \(date); expected \(Int(ageBounds.lowerBound))–\(Int(ageBounds.upperBound)) years")
            }
        }
        return v
    }

    /// Refuses a header that leaves the school or the date of every row unknown, saying which option to pass.
    static func check(_ map: HeaderMap, options: ImportOptions, file: String, needsDate: Bool = true, needsSchool: Bool = true,
                      dateField: String = "screening_date") throws(IngestError) {
        let c = map.index
        func aliases(_ keys: String...) -> [String] { keys.flatMap { map.profile.field($0)?.aliases ?? [$0] } }
        if needsSchool, c["school_code"] == nil, c["school_name"] == nil, options.school == nil {
            throw .noColumnNoOption(file: file, lines: map.layout.headerLines, field: "school_code", aliases: aliases("school_code", "school_name"),
                                    option: "--school", example: "CODE (for a file from one school; a school name column needs the county's school list)")
        }
        if needsDate, c[dateField] == nil, options.screeningDate == nil {
            throw .noColumnNoOption(file: file, lines: map.layout.headerLines, field: dateField, aliases: aliases(dateField),
                                    option: "--screening-date", example: "DATE (e.g. --screening-date 2024-09-15, the day of the screening)")
        }
    }
}
