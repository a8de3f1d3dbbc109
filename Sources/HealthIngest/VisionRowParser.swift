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
}

/// Turns the rows of one kind of export into stored records. One conformance per screening kind;
/// everything else (decoding, headers, rejects, batches, progress) is shared by `FileImporter`.
protocol RecordImporter {
    /// A validated, classified row, ready to be written.
    associatedtype Record: Sendable
    static var kind: ScreeningKind { get }
    static var profileKind: String { get }
    /// Fields that can come from outside the file (e.g. the school from --school).
    static func fixedFields(_ options: ImportOptions) -> Set<String>
    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions)
    var ruleVersion: String { get }
    /// Parses and validates one data row (on the parser thread).
    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record>
    /// Writes one record (on the writer thread).
    static func write(_ record: Record, line: Int, into session: ImportSession) throws -> WriteOutcome
    /// Notes about the whole file (e.g. a column that mixes acuity notations).
    var warnings: [String] { get }
}

/// Vision screenings (WS/T 663-2020): validation, notation detection and classification.
struct VisionImporter: RecordImporter {
    struct Record: Sendable {
        var screening: VisionScreening
        var classification: VisionClassification
        var schoolYear: Int
    }
    static let kind = ScreeningKind.vision
    static let profileKind = "vision"
    static func fixedFields(_ options: ImportOptions) -> Set<String> { options.school == nil ? [] : ["school_code"] }

    let map: HeaderMap
    let rules: VisionRules
    let options: ImportOptions
    let scale: AcuityScale
    var ruleVersion: String { rules.versionTag }
    /// Column index of each field, looked up once.
    private let col: [String: Int]
    private let id, sex, birth, school, grade, className, date, glasses: Int?
    private let ucvaR, ucvaL, sphR, cylR, axisR, sphL, cylL, axisL, cvaR, cvaL: Int?
    /// Per column: rows in 5-point and in decimal notation.
    private var fivePointRows: [Int]
    private var decimalRows: [Int]
    private var problems: [RowProblem] = []
    private var incomplete = 0

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        self.map = map
        self.rules = config.vision
        self.options = options
        scale = AcuityScale(rules: config.vision)
        fivePointRows = Array(repeating: 0, count: map.headers.count)
        decimalRows = Array(repeating: 0, count: map.headers.count)
        col = map.index
        (id, sex, birth, school, grade, className, date, glasses) = (col["student_id"], col["sex"], col["birth_date"], col["school_code"], col["grade"], col["class_name"], col["screening_date"], col["glasses"])
        (ucvaR, ucvaL, sphR, cylR, axisR) = (col["ucva_right"], col["ucva_left"], col["sphere_right"], col["cylinder_right"], col["axis_right"])
        (sphL, cylL, axisL, cvaR, cvaL) = (col["sphere_left"], col["cylinder_left"], col["axis_left"], col["corrected_right"], col["corrected_left"])
    }

    var warnings: [String] {
        var notes = map.headers.indices.compactMap { column -> String? in
            guard fivePointRows[column] > 0, decimalRows[column] > 0 else { return nil }
            return "column \(map.headers[column]) mixes 5-point (\(fivePointRows[column]) rows) and decimal (\(decimalRows[column]) rows) acuity; both were converted to the 5-point scale"
        }
        if incomplete > 0 {
            notes.append("\(incomplete) screening(s) lack data a valid screening needs (WS/T 663: acuity and refraction of both eyes; corrected acuity for glasses wearers); they are stored but not counted in rates")
        }
        return notes
    }

    /// Parses field `key` with `parse`; a failure is recorded as a problem and gives nil.
    private mutating func value<T>(_ record: CSVRecord, _ column: Int?, required: Bool = false,
                                   _ parse: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T?) -> T? {
        guard let i = column else { return nil }
        let raw = record.field(i)
        do {
            let v = try parse(raw)
            if v == nil && required {
                problems.append(RowProblem(column: map.headers[i], value: "", reason: "is empty; this column is required"))
            }
            return v
        } catch {
            problems.append(RowProblem(column: map.headers[i], value: FieldParsers.display(raw), reason: error.reason))
            return nil
        }
    }

    private mutating func acuity(_ record: CSVRecord, _ column: Int?, required: Bool = false) -> Acuity? {
        let scale = self.scale
        guard let column, let (a, notation) = value(record, column, required: required, { raw throws(FieldProblem) in try FieldParsers.acuity(raw, scale: scale) }) else { return nil }
        if notation == .fivePoint { fivePointRows[column] += 1 } else { decimalRows[column] += 1 }
        return a
    }

    static func write(_ record: Record, line: Int, into session: ImportSession) throws -> WriteOutcome {
        try session.write(vision: record.screening, classification: record.classification, schoolYear: record.schoolYear, line: line)
    }

    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record> {
        problems.removeAll(keepingCapacity: true)
        let b = rules.bounds
        let id = value(record, self.id, required: true, FieldParsers.studentID)
        let sex = value(record, self.sex, required: true, FieldParsers.sex)
        let birth = value(record, self.birth, FieldParsers.date)
        var school = options.school
        if self.school != nil {
            school = value(record, self.school, required: options.school == nil) { raw throws(FieldProblem) in try FieldParsers.text(raw) } ?? options.school
        }
        let grade = value(record, self.grade, required: true, FieldParsers.grade)
        let className = value(record, self.className) { raw throws(FieldProblem) in try FieldParsers.text(raw) }
        let date = value(record, self.date, required: true, FieldParsers.date)
        let glasses = value(record, self.glasses, FieldParsers.glasses) ?? GlassesType.none
        let ok = glasses == .orthokeratology
        let right = EyeFindings(
            ucva: acuity(record, ucvaR, required: !ok),
            sphere: value(record, sphR) { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.sphere, what: "sphere") },
            cylinder: value(record, cylR) { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.cylinder, what: "cylinder") },
            axis: value(record, axisR) { raw throws(FieldProblem) in try FieldParsers.axis(raw, bounds: b.axis) },
            corrected: acuity(record, cvaR))
        let left = EyeFindings(
            ucva: acuity(record, ucvaL, required: !ok),
            sphere: value(record, sphL) { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.sphere, what: "sphere") },
            cylinder: value(record, cylL) { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.cylinder, what: "cylinder") },
            axis: value(record, axisL) { raw throws(FieldProblem) in try FieldParsers.axis(raw, bounds: b.axis) },
            corrected: acuity(record, cvaL))

        if let date, date > options.today {
            problems.append(RowProblem(column: map.header("screening_date"), value: date.description, reason: "is in the future"))
        }
        if let birth, let date {
            let age = birth.age(on: date)
            if birth >= date || !b.studentAgeYears.contains(Double(age)) {
                problems.append(RowProblem(column: map.header("birth_date"), value: birth.description,
                                           reason: "gives an age of \(age) at the screening on \(date); expected \(Int(b.studentAgeYears.min))–\(Int(b.studentAgeYears.max)) years"))
            }
        }
        guard problems.isEmpty, let id, let sex, let school, let grade, let date else { return .rejected(line: record.line, problems) }
        let screening = VisionScreening(studentID: id, sex: sex, birthDate: birth, schoolCode: school, grade: grade,
                                        className: className, screeningDate: date, right: right, left: left, glasses: glasses)
        let classification = rules.classify(screening)
        if !classification.complete { incomplete += 1 }
        return .record(Record(screening: screening, classification: classification,
                              schoolYear: date.schoolYear(startMonth: rules.schoolYearStartMonth)), line: record.line)
    }
}
