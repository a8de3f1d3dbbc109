internal import GRDB

/// Counts of one measure in one stratum: school × school year × grade × sex.
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
}

extension Store {
    /// Numerators and denominators of every report measure, per school, year, grade and sex.
    /// Counts only — no student is identified. When a student has several screenings in a school year,
    /// the earliest (or latest) counts.
    public func reportCounts(fromYear: Int, toYear: Int, latest: Bool = false) throws(StoreError) -> [StratumCount] {
        let order = latest ? "DESC" : "ASC"
        return try run { db in
            var out: [StratumCount] = []
            func collect(_ sql: String, _ measures: [(String, String, String)]) throws {
                let rows = try Row.fetchCursor(db, sql: sql, arguments: [fromYear, toYear])
                while let r = try rows.next() {
                    for (measure, num, den) in measures {
                        let d: Int = r[den]
                        guard d > 0 || (r[num] as Int) > 0 else { continue }
                        out.append(StratumCount(measure: measure, school: r["school_code"], year: r["school_year"], grade: r["grade"],
                                                sex: r["sex"], numerator: r[num], denominator: d))
                    }
                }
            }
            try collect("""
                SELECT school_code, school_year, grade, sex,
                       SUM(complete) AS screened, SUM(complete = 1 AND myopic = 1) AS myopic,
                       SUM(complete = 1 AND myopia_grade = 3) AS high,
                       SUM(complete = 1 AND poor_vision IS NOT NULL) AS pv_screened, SUM(complete = 1 AND poor_vision > 0) AS pv,
                       SUM(complete = 1 AND poor_vision = 1) AS pv1, SUM(complete = 1 AND poor_vision = 2) AS pv2,
                       SUM(complete = 1 AND poor_vision = 3) AS pv3
                FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY student_id, school_year ORDER BY screening_date \(order)) AS k
                      FROM vision_screening WHERE school_year BETWEEN ?1 AND ?2)
                WHERE k = 1 GROUP BY school_code, school_year, grade, sex
                """, [("myopia", "myopic", "screened"), ("high_myopia", "high", "screened"), ("poor_vision", "pv", "pv_screened"),
                      ("poor_vision_mild", "pv1", "pv_screened"), ("poor_vision_moderate", "pv2", "pv_screened"),
                      ("poor_vision_severe", "pv3", "pv_screened")])
            try collect("""
                SELECT school_code, school_year, grade, sex, SUM(complete) AS screened,
                       SUM(complete = 1 AND lateral_positive = 1) AS lateral, SUM(complete = 1 AND sagittal_abnormal = 1) AS sagittal,
                       SUM(complete = 1 AND abnormal = 1) AS abnormal
                FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY student_id, school_year ORDER BY screening_date \(order)) AS k
                      FROM spine_screening WHERE school_year BETWEEN ?1 AND ?2)
                WHERE k = 1 GROUP BY school_code, school_year, grade, sex
                """, [("spine_lateral_positive", "lateral", "screened"), ("spine_sagittal_abnormal", "sagittal", "screened"),
                      ("spine_abnormal", "abnormal", "screened")])
            try collect("""
                SELECT school_code, school_year, scoring_grade AS grade, sex,
                       SUM(status = 0) AS scored, SUM(status = 0 AND band <= 1) AS good, SUM(status = 0 AND band <= 2) AS pass,
                       SUM(status = 0 AND band = 3) AS fail, SUM(bmi_category IS NOT NULL) AS measured,
                       SUM(bmi_category = 2) AS overweight, SUM(bmi_category = 3) AS obese,
                       COUNT(*) AS tested, SUM(status = 2) AS exempt
                FROM fitness_test WHERE school_year BETWEEN ?1 AND ?2 GROUP BY school_code, school_year, scoring_grade, sex
                """, [("fitness_excellent_good", "good", "scored"), ("fitness_pass", "pass", "scored"), ("fitness_fail", "fail", "scored"),
                      ("overweight", "overweight", "measured"), ("obesity", "obese", "measured"), ("fitness_exempt", "exempt", "tested")])
            return out
        }
    }

    /// Students not myopic at one school year's counted screening, followed to the next year's.
    public func myopiaFollowUp(fromYear: Int, toYear: Int, latest: Bool = false) throws(StoreError) -> [FollowUpCount] {
        let order = latest ? "DESC" : "ASC"
        return try run { db in
            try Row.fetchAll(db, sql: """
                WITH c AS MATERIALIZED (
                    SELECT student_id, school_year, school_code, complete, myopic FROM (
                        SELECT student_id, school_year, school_code, complete, myopic,
                               ROW_NUMBER() OVER (PARTITION BY student_id, school_year ORDER BY screening_date \(order)) AS k
                        FROM vision_screening WHERE school_year BETWEEN ?1 AND ?2) WHERE k = 1)
                SELECT a.school_code, a.school_year, COUNT(*) AS at_risk,
                       SUM(b.complete = 1) AS followed, SUM(b.complete = 1 AND b.myopic = 1) AS incident
                FROM c a LEFT JOIN c b ON b.student_id = a.student_id AND b.school_year = a.school_year + 1
                WHERE a.complete = 1 AND a.myopic = 0 AND a.school_year < ?2
                GROUP BY a.school_code, a.school_year
                """, arguments: [fromYear, toYear]).map { r in
                FollowUpCount(school: r["school_code"], fromYear: r["school_year"], atRisk: r["at_risk"],
                              followed: r["followed"] ?? 0, incident: r["incident"] ?? 0)
            }
        }
    }

    /// The school years present, oldest first.
    public func reportYears() throws(StoreError) -> [Int] {
        try run { db in
            try Int.fetchAll(db, sql: """
                SELECT school_year FROM vision_screening UNION SELECT school_year FROM spine_screening
                UNION SELECT school_year FROM fitness_test ORDER BY 1
                """)
        }
    }
}
