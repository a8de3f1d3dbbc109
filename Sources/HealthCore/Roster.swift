/// Schools' student lists (学籍名单) and who was screened: the values coverage is counted from.

/// One student on a school's list for a school year (学籍名单). A student is on one school's list per year: a list
/// that names a student another school listed moves the student (one record by 学籍号).
public struct RosterEntry: Sendable, Equatable, Codable {
    public var schoolYear: Int
    public var studentID: String
    public var school: String
    public var grade: Int
    public var classCode: String?
    public var className: String?
    public var sex: Int
    public var birthDate: String?

    public init(schoolYear: Int, studentID: String, school: String, grade: Int, classCode: String?, className: String?, sex: Int, birthDate: String?) {
        self.schoolYear = schoolYear; self.studentID = studentID; self.school = school; self.grade = grade
        self.classCode = classCode; self.className = className; self.sex = sex; self.birthDate = birthDate
    }
}

/// A student's screening of a school year, as coverage counts it.
public struct ScreenedStudent: Sendable, Equatable {
    public var studentID: String
    public var school: String
    public var grade: Int
    public var classCode: String?
    public var className: String?
    public var sex: Int
    public var birthDate: String?
    public var date: String
    public init(studentID: String, school: String, grade: Int, classCode: String?, className: String?, sex: Int, birthDate: String?, date: String) {
        self.studentID = studentID; self.school = school; self.grade = grade; self.classCode = classCode; self.className = className
        self.sex = sex; self.birthDate = birthDate; self.date = date
    }
}

