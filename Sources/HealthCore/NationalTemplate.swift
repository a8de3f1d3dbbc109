/// A national upload template (`Config/exports/national.yaml`): its columns in order and how it writes values.
public struct NationalTemplate: Sendable, Codable, Equatable {
    public enum Value: String, Sendable, Codable, CaseIterable {
        case grade_code, class_code, class_name, student_id, sex_code, birth_date, not_stored
        case height_cm, weight_kg, vital_capacity, run_50m, standing_long_jump, sit_and_reach
        case shuttle_50x8, rope_skip, run_800m, run_1000m, sit_up, pull_up
        case ucva_right, ucva_left, sphere_right, cylinder_right, axis_right, sphere_left, cylinder_left, axis_left, orthok

        var isVision: Bool {
            switch self {
            case .ucva_right, .ucva_left, .sphere_right, .cylinder_right, .axis_right, .sphere_left, .cylinder_left, .axis_left, .orthok: return true
            default: return false
            }
        }
    }
    public struct Column: Sendable, Codable, Equatable {
        public var header: String
        public var value: Value
    }
    public struct Exempt: Sendable, Codable, Equatable {
        public var column: String
        public var text: String
    }
    public var description: String
    public var source: String
    /// "gb18030" or "utf-8".
    public var encoding: String
    /// "crlf" or "lf".
    public var lineEnding: String
    /// Whether each row needs the student's fitness test, and their vision screening, of the school year.
    public var fitness: Bool
    public var vision: Bool
    /// How an eye below the chart's lowest line (3.0) is written.
    public var belowChart: String?
    /// "required": sphere, cylinder and axis of both eyes must be there.
    public var refraction: String?
    /// "required": both eyes' uncorrected acuity must be there (below the chart counts as there).
    public var acuity: String?
    public var exempt: Exempt?
    public var columns: [Column]

    public var headers: [String] { columns.map(\.header) }
    /// The headers of columns SchoolHealth does not keep (left empty).
    public var notStored: [String] { columns.filter { $0.value == .not_stored }.map(\.header) }
}

/// What is stored of one student for a national upload: the fitness test and the latest vision screening of the
/// school year at the school, in stored units (see `ScreeningTable`).
public struct NationalRecord: Sendable, Equatable {
    public var studentID: String
    public var grade: Int
    public var classCode: String?
    public var className: String?
    public var sex: Int
    public var birthDate: String?
    public struct Fitness: Sendable, Equatable {
        public var exempt: Bool
        /// FitnessTest.Status: 0 scored, 1 incomplete, 2 exempt.
        public var status: Int
        public var missing: String?
        public var heightMM, weightX10, vitalCapacity, run50mX10, standingLongJumpX10, sitAndReachX10: Int?
        public var shuttle50x8, ropeSkip, run800m, run1000m, sitUp, pullUp: Int?
        public init(exempt: Bool, status: Int, missing: String?) { self.exempt = exempt; self.status = status; self.missing = missing }
    }
    public struct Vision: Sendable, Equatable {
        public var screeningDate: String
        public var ucvaRight, ucvaLeft: Int?
        public var sphereRight, cylinderRight, axisRight, sphereLeft, cylinderLeft, axisLeft: Int?
        public var orthok: Bool?
        public init(screeningDate: String) { self.screeningDate = screeningDate }
    }
    public var fitness: Fitness?
    public var vision: Vision?

    public init(studentID: String, grade: Int, classCode: String?, className: String?, sex: Int, birthDate: String?) {
        self.studentID = studentID; self.grade = grade; self.classCode = classCode; self.className = className; self.sex = sex; self.birthDate = birthDate
    }
}

extension NationalTemplate {
    /// The cells of one student's row, or why it cannot be written; problems that do not leave the row out
    /// (an incomplete test) come with the cells.
    ///
    ///     template.cells(for: record)   // (["21", "01", "初一1班", "G99…", "", "", "1", …], [])
    public func cells(for r: NationalRecord) -> (cells: [String]?, problems: [NationalRowProblem]) {
        var problems: [NationalRowProblem] = []
        if fitness && r.fitness == nil { problems.append(.noFitnessTest) }
        if vision && r.vision == nil { problems.append(.noVisionScreening) }
        if let v = r.vision, vision {
            if refraction == "required" {
                var eyes: [String] = []
                if v.sphereRight == nil || v.cylinderRight == nil || v.axisRight == nil { eyes.append("right") }
                if v.sphereLeft == nil || v.cylinderLeft == nil || v.axisLeft == nil { eyes.append("left") }
                if !eyes.isEmpty { problems.append(.refractionMissing(eyes: eyes.joined(separator: " and "))) }
            }
            if acuity == "required" {
                let eyes = [v.ucvaRight == nil ? "right" : nil, v.ucvaLeft == nil ? "left" : nil].compactMap { $0 }
                if !eyes.isEmpty { problems.append(.acuityMissing(eyes: eyes.joined(separator: " and "))) }
            }
            for a in [v.ucvaRight, v.ucvaLeft].compactMap({ $0 }) where a > 53 { problems.append(.acuityOutOfRange(Acuity(tenths: a).description)) }
        }
        if problems.contains(where: \.leavesRowOut) { return (nil, problems) }
        if let f = r.fitness, fitness, f.status == 1 { problems.append(.incomplete(f.missing ?? "")) }
        let exempt = fitness && (r.fitness?.exempt ?? false)
        let cells = columns.map { column -> String in
            if exempt, let mark = self.exempt {
                if column.header == mark.column { return mark.text }
                if !column.value.isVision, Self.isMeasurement(column.value) { return "" }
            }
            return cell(column.value, r)
        }
        return (cells, problems)
    }

    static func isMeasurement(_ v: Value) -> Bool {
        switch v {
        case .grade_code, .class_code, .class_name, .student_id, .sex_code, .birth_date, .not_stored: return false
        default: return true
        }
    }

    func cell(_ value: Value, _ r: NationalRecord) -> String {
        let f = r.fitness, v = r.vision
        switch value {
        case .grade_code: return String(r.grade)
        case .class_code: return r.classCode ?? ""
        case .class_name: return r.className ?? ""
        case .student_id: return r.studentID
        case .sex_code: return String(r.sex)
        case .birth_date: return r.birthDate ?? ""
        case .not_stored: return ""
        case .height_cm: return Self.decimal(f?.heightMM, scale: 10, places: 1)
        case .weight_kg: return Self.decimal(f?.weightX10, scale: 10, places: 1)
        case .vital_capacity: return f?.vitalCapacity.map(String.init) ?? ""
        case .run_50m: return Self.decimal(f?.run50mX10, scale: 10, places: 1)
        case .standing_long_jump: return Self.decimal(f?.standingLongJumpX10, scale: 10, places: (f?.standingLongJumpX10 ?? 0) % 10 == 0 ? 0 : 1)
        case .sit_and_reach: return Self.decimal(f?.sitAndReachX10, scale: 10, places: 1)
        case .shuttle_50x8: return Self.minutesSeconds(f?.shuttle50x8)
        case .rope_skip: return f?.ropeSkip.map(String.init) ?? ""
        case .run_800m: return Self.minutesSeconds(f?.run800m)
        case .run_1000m: return Self.minutesSeconds(f?.run1000m)
        case .sit_up: return f?.sitUp.map(String.init) ?? ""
        case .pull_up: return f?.pullUp.map(String.init) ?? ""
        case .ucva_right: return acuity(v?.ucvaRight)
        case .ucva_left: return acuity(v?.ucvaLeft)
        case .sphere_right: return Self.dioptres(v?.sphereRight)
        case .cylinder_right: return Self.dioptres(v?.cylinderRight)
        case .axis_right: return v?.axisRight.map(String.init) ?? ""
        case .sphere_left: return Self.dioptres(v?.sphereLeft)
        case .cylinder_left: return Self.dioptres(v?.cylinderLeft)
        case .axis_left: return v?.axisLeft.map(String.init) ?? ""
        case .orthok: return v?.orthok.map { $0 ? "是" : "否" } ?? ""
        }
    }

    func acuity(_ tenths: Int?) -> String {
        guard let tenths else { return "" }
        let a = Acuity(tenths: tenths)
        return a.isBelowChart ? (belowChart ?? "") : a.description
    }

    /// 1655 at scale 10, one place: "165.5"; -30: "-3.0".
    static func decimal(_ value: Int?, scale: Int, places: Int) -> String {
        guard let value else { return "" }
        let sign = value < 0 ? "-" : ""
        let whole = abs(value) / scale, fraction = abs(value) % scale
        return places == 0 && fraction == 0 ? sign + String(whole) : sign + String(whole) + "." + String(fraction)
    }

    /// Seconds as the template's m′ss″, in ASCII: 235 → 3'55".
    static func minutesSeconds(_ seconds: Int?) -> String {
        guard let seconds else { return "" }
        let s = seconds % 60
        return "\(seconds / 60)'\(s < 10 ? "0" : "")\(s)\""
    }

    /// Thousandths of a dioptre, signed, with two decimals: -750 → "-0.75", 0 → "+0.00"; a 0.125 D step keeps
    /// its third decimal (125 → "+0.125") rather than being rounded.
    static func dioptres(_ milli: Int?) -> String {
        guard let milli else { return "" }
        let sign = milli < 0 ? "-" : "+"
        let m = abs(milli)
        let whole = m / 1000, rest = m % 1000
        if rest % 10 == 0 {
            let hundredths = rest / 10
            return "\(sign)\(whole).\(hundredths < 10 ? "0" : "")\(hundredths)"
        }
        return "\(sign)\(whole).\(String(rest + 1000).dropFirst())"
    }
}
