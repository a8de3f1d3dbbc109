import HealthCore
import HealthStore

/// One problem with one value of a row.
struct RowProblem: Sendable {
    var column: String
    var value: String
    var reason: String
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
    static func write(_ record: Record, line: Int, into session: ImportSession) throws -> RowWrite
    /// Notes about the whole file (e.g. a column that mixes acuity notations).
    var warnings: [String] { get }
}

extension RecordImporter {
    /// By default a school column may be replaced by --school.
    static func fixedFields(_ options: ImportOptions) -> Set<String> { options.school == nil ? [] : ["school_code"] }
    static func check(_ map: HeaderMap, options: ImportOptions, file: String) throws(IngestError) {}
    mutating func takeNotes() -> [RowProblem] { [] }
}

/// Reads the values of one row through field parsers, collecting every problem instead of stopping at the first.
struct RowReader {
    let headers: [String]
    private(set) var problems: [RowProblem] = []

    init(headers: [String]) { self.headers = headers }

    mutating func begin() { problems.removeAll(keepingCapacity: true) }

    /// Whether the field in `column` already has a problem on this row.
    func hasProblem(_ column: Int?) -> Bool { column.map { c in problems.contains { $0.column == headers[c] } } ?? false }

    mutating func add(_ column: Int?, value: String, reason: String) {
        problems.append(RowProblem(column: column.map { headers[$0] } ?? "(whole row)", value: value, reason: reason))
    }

    /// Parses the field in `column` with `parse`; a failure is recorded as a problem and gives nil.
    mutating func value<T>(_ record: CSVRecord, _ column: Int?, required: Bool = false,
                           _ parse: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T?) -> T? {
        guard let i = column else { return nil }
        let raw = record.field(i)
        do {
            let v = try parse(raw)
            if v == nil && required { add(i, value: "", reason: "is empty; this column is required") }
            return v
        } catch {
            add(i, value: FieldParsers.display(raw), reason: error.reason)
            return nil
        }
    }

    mutating func text(_ record: CSVRecord, _ column: Int?, required: Bool = false) -> String? {
        value(record, column, required: required) { raw throws(FieldProblem) in try FieldParsers.text(raw) }
    }
}

/// Who and when: the columns every screening export shares, and their checks.
struct StudentColumns {
    let id, sex, birth, school, grade, className, date: Int?

    init(_ map: HeaderMap, date: String = "screening_date") {
        let c = map.index
        (id, sex, birth, school, grade, className) = (c["student_id"], c["sex"], c["birth_date"], c["school_code"], c["grade"], c["class_name"])
        self.date = c[date]
    }

    struct Values {
        var id: StudentID?
        var sex: Sex?
        var birth: CivilDate?
        var school: String?
        var grade: GradeCode?
        var className: String?
        var date: CivilDate?
    }

    /// Reads the shared columns; `dateRequired` for screenings keyed by date.
    func read(_ record: CSVRecord, into reader: inout RowReader, options: ImportOptions, schoolRequired: Bool = true,
              dateRequired: Bool = true, ageBounds: ClosedRange<Double>) -> Values {
        var v = Values()
        v.id = reader.value(record, id, required: true, FieldParsers.studentID)
        v.sex = reader.value(record, sex, required: true, FieldParsers.sex)
        v.birth = reader.value(record, birth, FieldParsers.date)
        v.school = options.school
        if school != nil {
            v.school = reader.text(record, school, required: schoolRequired && options.school == nil) ?? options.school
        }
        v.grade = reader.value(record, grade, required: true, FieldParsers.grade)
        v.className = reader.text(record, className)
        v.date = reader.value(record, date, required: dateRequired, FieldParsers.date)
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
}
