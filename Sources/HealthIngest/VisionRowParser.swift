import HealthCore
import HealthStore

/// One problem with one value of a row.
struct RowProblem {
    var column: String
    var value: String
    var reason: String
}

/// What importing one data row did.
enum RowResult {
    case written(WriteOutcome)
    case rejected([RowProblem])
}

/// Turns the rows of one kind of export into stored records. One conformance per screening kind;
/// everything else (decoding, headers, rejects, batches, progress) is shared by `FileImporter`.
protocol RecordImporter {
    static var kind: ScreeningKind { get }
    static var profileKind: String { get }
    /// Fields that can come from outside the file (e.g. the school from --school).
    static func fixedFields(_ options: ImportOptions) -> Set<String>
    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions)
    var ruleVersion: String { get }
    mutating func importRow(_ record: CSVRecord, into session: ImportSession) throws -> RowResult
    /// Notes about the whole file (e.g. a column that mixes acuity notations).
    var warnings: [String] { get }
}

/// Vision screenings (WS/T 663-2020): validation, notation detection and classification.
struct VisionImporter: RecordImporter {
    static let kind = ScreeningKind.vision
    static let profileKind = "vision"
    static func fixedFields(_ options: ImportOptions) -> Set<String> { options.school == nil ? [] : ["school_code"] }

    let map: HeaderMap
    let rules: VisionRules
    let options: ImportOptions
    var ruleVersion: String { rules.versionTag }
    private var notations: [String: [AcuityNotation: Int]] = [:]
    private var problems: [RowProblem] = []
    private var incomplete = 0

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        self.map = map
        self.rules = config.vision
        self.options = options
    }

    var warnings: [String] {
        var notes = notations.keys.sorted().compactMap { column -> String? in
            let n = notations[column]!
            guard let five = n[.fivePoint], let dec = n[.decimal] else { return nil }
            return "column \(column) mixes 5-point (\(five) rows) and decimal (\(dec) rows) acuity; both were converted to the 5-point scale"
        }
        if incomplete > 0 {
            notes.append("\(incomplete) stored screening(s) lack data a valid screening needs (WS/T 663: acuity and refraction of both eyes; corrected acuity for glasses wearers); they are kept but not counted in rates")
        }
        return notes
    }

    /// Parses field `key` with `parse`; a failure is recorded as a problem and gives nil.
    private mutating func value<T>(_ record: CSVRecord, _ key: String, required: Bool = false,
                                   _ parse: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T?) -> T? {
        guard let i = map.column(key) else { return nil }
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

    private mutating func acuity(_ record: CSVRecord, _ key: String, required: Bool = false) -> Acuity? {
        let rules = self.rules
        guard let (a, notation) = value(record, key, required: required, { raw throws(FieldProblem) in try FieldParsers.acuity(raw, rules: rules) }) else { return nil }
        notations[map.header(key), default: [:]][notation, default: 0] += 1
        return a
    }

    mutating func importRow(_ record: CSVRecord, into session: ImportSession) throws -> RowResult {
        problems.removeAll(keepingCapacity: true)
        let b = rules.bounds
        let id = value(record, "student_id", required: true, FieldParsers.studentID)
        let sex = value(record, "sex", required: true, FieldParsers.sex)
        let birth = value(record, "birth_date", FieldParsers.date)
        var school = options.school
        if map.column("school_code") != nil {
            school = value(record, "school_code", required: options.school == nil) { raw throws(FieldProblem) in try FieldParsers.text(raw) } ?? options.school
        }
        let grade = value(record, "grade", required: true, FieldParsers.grade)
        let className = value(record, "class_name") { raw throws(FieldProblem) in try FieldParsers.text(raw) }
        let date = value(record, "screening_date", required: true, FieldParsers.date)
        let glasses = value(record, "glasses", FieldParsers.glasses) ?? GlassesType.none
        let ok = glasses == .orthokeratology
        let right = EyeFindings(
            ucva: acuity(record, "ucva_right", required: !ok),
            sphere: value(record, "sphere_right") { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.sphere, what: "sphere") },
            cylinder: value(record, "cylinder_right") { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.cylinder, what: "cylinder") },
            axis: value(record, "axis_right") { raw throws(FieldProblem) in try FieldParsers.axis(raw, bounds: b.axis) },
            corrected: acuity(record, "corrected_right"))
        let left = EyeFindings(
            ucva: acuity(record, "ucva_left", required: !ok),
            sphere: value(record, "sphere_left") { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.sphere, what: "sphere") },
            cylinder: value(record, "cylinder_left") { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.cylinder, what: "cylinder") },
            axis: value(record, "axis_left") { raw throws(FieldProblem) in try FieldParsers.axis(raw, bounds: b.axis) },
            corrected: acuity(record, "corrected_left"))

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
        guard problems.isEmpty, let id, let sex, let school, let grade, let date else { return .rejected(problems) }
        let screening = VisionScreening(studentID: id, sex: sex, birthDate: birth, schoolCode: school, grade: grade,
                                        className: className, screeningDate: date, right: right, left: left, glasses: glasses)
        let classification = rules.classify(screening)
        let outcome = try session.write(vision: screening, classification: classification,
                                        schoolYear: date.schoolYear(startMonth: rules.schoolYearStartMonth), line: record.line)
        if !classification.complete, outcome == .inserted || outcome == .updated { incomplete += 1 }
        return .written(outcome)
    }
}
