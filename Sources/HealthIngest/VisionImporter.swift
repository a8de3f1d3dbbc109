import HealthCore
import HealthStore

/// Vision screenings (WS/T 663-2020): validation, notation detection and classification.
struct VisionImporter: RecordImporter {
    struct Record: Sendable {
        var screening: VisionScreening
        var classification: VisionClassification
        var schoolYear: Int
    }
    static let kind = ScreeningKind.vision
    static let profileKind = "vision"
    static func ruleVersion(_ config: SchoolHealthConfig) -> String { config.vision.versionTag }

    let map: HeaderMap
    let rules: VisionRules
    let options: ImportOptions
    let scale: AcuityScale
    private let student: StudentColumns
    private let glasses, orthok, ucvaR, ucvaL, sphR, cylR, axisR, sphL, cylL, axisL, cvaR, cvaL: Int?
    private var reader: RowReader
    /// Per column: rows in 5-point and in decimal notation.
    private var fivePointRows: [Int]
    private var decimalRows: [Int]
    private var incomplete = 0
    private var belowChart = 0
    /// The acuity and refraction columns the file has.
    private let measurementColumns: [Int]

    init(map: HeaderMap, config: SchoolHealthConfig, options: ImportOptions) {
        self.map = map
        self.rules = config.vision
        self.options = options
        scale = AcuityScale(rules: config.vision)
        reader = RowReader(map: map)
        fivePointRows = Array(repeating: 0, count: map.headers.count)
        decimalRows = Array(repeating: 0, count: map.headers.count)
        student = StudentColumns(map)
        let c = map.index
        (glasses, orthok, ucvaR, ucvaL, sphR, cylR) = (c["glasses"], c["orthok"], c["ucva_right"], c["ucva_left"], c["sphere_right"], c["cylinder_right"])
        axisR = c["axis_right"]
        (sphL, cylL, axisL, cvaR, cvaL) = (c["sphere_left"], c["cylinder_left"], c["axis_left"], c["corrected_right"], c["corrected_left"])
        measurementColumns = ["ucva_right", "ucva_left", "sphere_right", "cylinder_right", "axis_right", "sphere_left", "cylinder_left",
                              "axis_left", "corrected_right", "corrected_left"].compactMap { c[$0] }
    }

    var warnings: [ReasonText] {
        var notes = map.headers.indices.compactMap { column -> ReasonText? in
            guard fivePointRows[column] > 0, decimalRows[column] > 0 else { return nil }
            let note: ReasonText = "column \(map.headers[column]) mixes 5-point (\(fivePointRows[column]) rows) and decimal (\(decimalRows[column]) rows) acuity; both were converted to the 5-point scale"
            return note
        }
        if let note = reader.notMeasuredNote { notes.append(note) }
        if belowChart > 0 {
            notes.append("\(belowChart) eye(s) with acuity below the chart's lowest line (3.0) stored as <3.0 and banded as severe poor vision")
        }
        if incomplete > 0 {
            notes.append("\(incomplete) screening(s) lack data a valid screening needs (WS/T 663: acuity and refraction of both eyes; corrected acuity for glasses wearers); they are stored but not counted in rates")
        }
        return notes
    }

    private mutating func acuity(_ record: CSVRecord, _ column: Int?, required: Bool = false) -> Acuity? {
        let scale = self.scale
        guard let column, let (a, notation) = reader.value(record, column, required: required, { raw throws(FieldProblem) in try FieldParsers.acuity(raw, scale: scale) }) else { return nil }
        if a.isBelowChart { belowChart += 1 } else if notation == .fivePoint { fivePointRows[column] += 1 } else { decimalRows[column] += 1 }
        return a
    }

    private mutating func eye(_ record: CSVRecord, ucva: Int?, sphere: Int?, cylinder: Int?, axis: Int?, corrected: Int?, ucvaRequired: Bool) -> EyeFindings {
        let b = rules.bounds
        return EyeFindings(
            ucva: acuity(record, ucva, required: ucvaRequired),
            sphere: reader.value(record, sphere) { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.sphere, what: "sphere") },
            cylinder: reader.value(record, cylinder) { raw throws(FieldProblem) in try FieldParsers.dioptres(raw, bounds: b.cylinder, what: "cylinder") },
            axis: reader.value(record, axis) { raw throws(FieldProblem) in try FieldParsers.axis(raw, bounds: b.axis) },
            corrected: acuity(record, corrected))
    }

    static let notScreened: ReasonText = "has no measurement at all (every acuity and refraction cell is empty): the student was not screened, so nothing is stored. A cell marked -- is read as not measured and the screening is kept"

    static func write(_ record: Record, line: Int, into session: any ScreeningBatchWriter) throws -> RowWrite {
        .outcome(try session.write(vision: record.screening, classification: record.classification, schoolYear: record.schoolYear, line: line))
    }

    /// Whether every measurement cell of the row is empty (a marker counts as written).
    private func nothingMeasured(_ record: CSVRecord) -> Bool {
        // The first non-empty cell ends the scan: a screened row costs one or two looks.
        for column in measurementColumns where !FieldParsers.trimmed(reader.raw(record, column)).isEmpty { return false }
        return true
    }

    mutating func parse(_ record: CSVRecord) -> ParsedRow<Record> {
        reader.begin()
        let who = student.read(record, into: &reader, options: options, ageBounds: rules.bounds.studentAgeYears.min...rules.bounds.studentAgeYears.max)
        // No glasses column, or a cell marked not measured: not recorded (counted as no glasses for completeness).
        let glasses = reader.value(record, self.glasses, FieldParsers.glasses)
            ?? (self.glasses == nil || reader.isNotMeasured(record, self.glasses) ? .notRecorded : GlassesType.none)
        let orthokeratology = reader.value(record, orthok, FieldParsers.yesNo)
        if orthokeratology == true, glasses != .orthokeratology, glasses != .notRecorded, glasses != .none {
            reader.add(orthok, value: FieldParsers.display(reader.raw(record, orthok!)),
                       reason: "says the student wears an ortho-k lens, but \(reader.headers[self.glasses!]) says other glasses; correct one of them")
        }
        let ok = glasses == .orthokeratology || orthokeratology == true
        // A row with no measurement at all is a student who was not screened: listed with that reason, not stored.
        // (Checked before the eyes are read, so that it is one reason, not one "required" per empty cell.)
        if orthokeratology == nil, glasses != .orthokeratology, nothingMeasured(record) {
            reader.begin()
            reader.add(nil, value: "", reason: Self.notScreened)
            return .rejected(line: record.line, reader.problems)
        }
        let right = eye(record, ucva: ucvaR, sphere: sphR, cylinder: cylR, axis: axisR, corrected: cvaR, ucvaRequired: !ok)
        let left = eye(record, ucva: ucvaL, sphere: sphL, cylinder: cylL, axis: axisL, corrected: cvaL, ucvaRequired: !ok)
        guard reader.problems.isEmpty, let id = who.id, let sex = who.sex, let school = who.school, let grade = who.grade, let date = who.date else {
            return .rejected(line: record.line, reader.problems)
        }
        let screening = VisionScreening(studentID: id, sex: sex, birthDate: who.birth, schoolCode: school, grade: grade,
                                        className: who.className, classCode: who.classCode, screeningDate: date, right: right, left: left,
                                        glasses: glasses, orthokeratology: orthokeratology)
        let classification = rules.classify(screening)
        if !classification.complete { incomplete += 1 }
        return .record(Record(screening: screening, classification: classification,
                              schoolYear: date.schoolYear(startMonth: rules.schoolYearStartMonth)), line: record.line)
    }
}
