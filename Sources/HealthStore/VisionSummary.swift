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
