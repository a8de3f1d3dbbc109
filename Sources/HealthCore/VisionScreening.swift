/// One eye's findings at a screening.
public struct EyeFindings: Hashable, Sendable {
    public var ucva: Acuity?
    public var sphere: Dioptres?
    public var cylinder: Dioptres?
    public var axis: Int?
    public var corrected: Acuity?

    public init(ucva: Acuity? = nil, sphere: Dioptres? = nil, cylinder: Dioptres? = nil, axis: Int? = nil, corrected: Acuity? = nil) {
        self.ucva = ucva; self.sphere = sphere; self.cylinder = cylinder; self.axis = axis; self.corrected = corrected
    }

    /// Spherical equivalent SE = S + C/2 (WS/T 663-2020 §3.5); a missing cylinder counts as 0.
    public var sphericalEquivalent: Dioptres? {
        guard let sphere else { return nil }
        return Dioptres(milli: sphere.milli + (cylinder?.milli ?? 0) / 2)
    }
}

/// A vision screening as exported by a school's screening software, after validation.
/// Names are never part of it: SchoolHealth does not store them.
public struct VisionScreening: Hashable, Sendable {
    public var studentID: StudentID
    public var sex: Sex
    public var birthDate: CivilDate?
    public var schoolCode: String
    public var grade: GradeCode
    public var className: String?
    /// 班级编号, when the file has it beside 班级名称 (the national template has both).
    public var classCode: String?
    public var screeningDate: CivilDate
    public var right: EyeFindings
    public var left: EyeFindings
    public var glasses: GlassesType
    /// A separate yes/no ortho-k column (是否为角膜塑形镜（OK镜）佩戴者): nil when the file has none. Its "no"
    /// says nothing about other glasses.
    public var orthokeratology: Bool?

    public init(studentID: StudentID, sex: Sex, birthDate: CivilDate?, schoolCode: String, grade: GradeCode,
                className: String?, classCode: String? = nil, screeningDate: CivilDate, right: EyeFindings, left: EyeFindings,
                glasses: GlassesType, orthokeratology: Bool? = nil) {
        self.studentID = studentID; self.sex = sex; self.birthDate = birthDate; self.schoolCode = schoolCode
        self.grade = grade; self.className = className; self.classCode = classCode; self.screeningDate = screeningDate
        self.right = right; self.left = left; self.glasses = glasses; self.orthokeratology = orthokeratology
    }

    /// The glasses the screening is classified with: an OK lens when either column says so.
    public var effectiveGlasses: GlassesType { orthokeratology == true ? .orthokeratology : glasses }

    /// Age in whole years at the screening, if the birth date is known.
    public var ageAtScreening: Int? { birthDate?.age(on: screeningDate) }
}
