/// Counts of one report measure in one stratum: school × school year × grade × sex. Counts only.
public struct StratumCount: Sendable, Equatable, Codable {
    public var measure: String
    public var school: String
    public var year: Int
    public var grade: Int
    public var sex: Int
    public var numerator: Int
    public var denominator: Int
    public init(measure: String, school: String, year: Int, grade: Int, sex: Int, numerator: Int, denominator: Int) {
        self.measure = measure; self.school = school; self.year = year; self.grade = grade; self.sex = sex
        self.numerator = numerator; self.denominator = denominator
    }
}

/// Students followed from one school year to the next (myopia incidence), per school of the earlier year.
public struct FollowUpCount: Sendable, Equatable, Codable {
    public var school: String
    public var fromYear: Int
    /// Not myopic at a complete screening in `fromYear`.
    public var atRisk: Int
    /// Of those, with a complete screening in the next year.
    public var followed: Int
    /// Of those followed, myopic in the next year.
    public var incident: Int
    public init(school: String, fromYear: Int, atRisk: Int, followed: Int, incident: Int) {
        self.school = school; self.fromYear = fromYear; self.atRisk = atRisk; self.followed = followed; self.incident = incident
    }
}
