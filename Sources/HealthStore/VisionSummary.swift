internal import HealthStorage
internal import GRDB

/// Screening counts per school year: what the demo prints and a quick check after an import.
/// Counts only; no student is identified.
public struct VisionYearSummary: Sendable, Equatable, Codable {
    public var schoolYear: Int
    public var schools: Int
    public var screenings: Int
    /// Complete screenings (WS/T 663 data completeness): the rate denominator.
    public var complete: Int
    /// Complete screenings classified as screening myopia.
    public var myopic: Int
    /// Complete screenings with poor vision (any band other than normal).
    public var poorVision: Int

    public var myopiaRate: Double { complete == 0 ? 0 : Double(myopic) / Double(complete) }
}

extension Store {
    /// Screenings per school year, oldest first.
    public func visionSummary() throws(StoreError) -> [VisionYearSummary] {
        try run { db in
            try Row.fetchAll(db, sql: """
                SELECT school_year, COUNT(DISTINCT school_code) AS schools, COUNT(*) AS screenings,
                       SUM(complete) AS complete,
                       SUM(CASE WHEN complete = 1 AND myopic = 1 THEN 1 ELSE 0 END) AS myopic,
                       SUM(CASE WHEN complete = 1 AND poor_vision > 0 THEN 1 ELSE 0 END) AS poor
                FROM vision_screening GROUP BY school_year ORDER BY school_year
                """).map { row in
                VisionYearSummary(schoolYear: row["school_year"], schools: row["schools"], screenings: row["screenings"],
                                  complete: row["complete"], myopic: row["myopic"], poorVision: row["poor"])
            }
        }
    }

    /// Number of rows in a screening table, and of revisions kept.
    public func counts() throws(StoreError) -> (screenings: Int, revisions: Int, batches: Int) {
        try run { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vision_screening") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM revision") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM import_batch") ?? 0)
        }
    }
}

/// Spine screenings per school year (counts only).
public struct SpineYearSummary: Sendable, Equatable, Codable {
    public var schoolYear: Int
    public var screenings: Int
    public var lateralFinding: Int
    public var lateralPositive: Int
    public var sagittalAbnormal: Int
    /// Screenings whose suggestion is 进一步检查确认 (refer).
    public var referred: Int
}

/// Fitness tests per school year (counts only).
public struct FitnessYearSummary: Sendable, Equatable, Codable {
    public var schoolYear: Int
    public var students: Int
    public var scored: Int
    public var exempt: Int
    public var incomplete: Int
    public var excellent: Int
    public var good: Int
    public var fail: Int
    /// Scored tests resting on a SINGLE SOURCE, PARTIAL or CONFLICT table row.
    public var weakProvenance: Int
}

extension Store {
    public func spineSummary() throws(StoreError) -> [SpineYearSummary] {
        try run { db in
            try Row.fetchAll(db, sql: """
                SELECT school_year, COUNT(*) AS n, SUM(lateral_finding) AS lf, SUM(lateral_positive) AS lp,
                       SUM(sagittal_abnormal) AS sa, SUM(suggestion = 2) AS referred
                FROM spine_screening GROUP BY school_year ORDER BY school_year
                """).map { r in
                SpineYearSummary(schoolYear: r["school_year"], screenings: r["n"], lateralFinding: r["lf"], lateralPositive: r["lp"],
                                 sagittalAbnormal: r["sa"], referred: r["referred"])
            }
        }
    }

    public func fitnessSummary() throws(StoreError) -> [FitnessYearSummary] {
        try run { db in
            try Row.fetchAll(db, sql: """
                SELECT school_year, COUNT(*) AS n, SUM(status = 0) AS scored, SUM(status = 2) AS exempt, SUM(status = 1) AS incomplete,
                       SUM(band = 0) AS excellent, SUM(band = 1) AS good, SUM(band = 3) AS fail,
                       SUM(status = 0 AND provenance > 0) AS weak
                FROM fitness_test GROUP BY school_year ORDER BY school_year
                """).map { r in
                FitnessYearSummary(schoolYear: r["school_year"], students: r["n"], scored: r["scored"], exempt: r["exempt"],
                                   incomplete: r["incomplete"], excellent: r["excellent"], good: r["good"], fail: r["fail"],
                                   weakProvenance: r["weak"])
            }
        }
    }
}
