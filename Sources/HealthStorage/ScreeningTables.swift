/// A column of a screening table.
package struct Column: Sendable {
    package enum Role: Sendable { case key, payload, derived }
    package let name: String
    package let type: String
    package let role: Role
    package let notNull: Bool
}

/// The year that splits a screening table into one table per year.
package enum YearKey: Sendable {
    /// The calendar year of the screening date (so the key, student and date, never spans two tables).
    case calendarYearOfDate
    /// The school year, a key column.
    case schoolYear
}

/// One screening table as the importer writes it today: key (student, date) first, then source values ("payload")
/// and student-level values derived by the rules (per-eye findings follow from the stored acuity and refraction),
/// and the bookkeeping columns every table shares (batch_id, source_line). The rule version that produced
/// the derived values is the one of the batch that last wrote the row (`import_batch.rule_version`).
///
/// Columns added by a migration step go at the end (the step writes its own `ALTER TABLE`; see `Migrations`).
/// Tables with a `year` are stored one table per year: SQLite keeps one table per year (`vision_screening_2025`, see
/// `Partitions`) behind a view with the table's name; PostgreSQL declares partitions of one table. Both backends take
/// their columns from here.
package struct ScreeningTable: Sendable {
    package let name: String
    package let columns: [Column]
    package var year: YearKey? = nil
    /// The columns the trend report reads besides the key. When set, the key index carries them too (a
    /// covering index): the report then reads each year in key order from the index alone, sequentially,
    /// whatever order the rows were written in (a file sorted by class, not by student, had made every row a
    /// random read: 7.1 s for a million rows here against 2.2 s with the index). Such an index is not
    /// declared unique (its rows are longer than the key): the writer looks a key up before it inserts, and a
    /// bulk load checks for repeated keys after the rebuild.
    package var reportColumns: [String]? = nil

    package var keyColumns: [Column] { columns.filter { $0.role == .key } }
    package var payloadColumns: [Column] { columns.filter { $0.role == .payload } }
    /// Every column but `id`, in insert order: the values, then batch_id and source_line.
    package var storedColumns: [String] { columns.map(\.name) + ["batch_id", "source_line"] }

    /// The year whose table (SQLite) or partition (PostgreSQL) holds a row of this table, from its values in column
    /// order: the calendar year of the ISO date (`yyyy-mm-dd`: its first four bytes) or the school year; 0 for a table
    /// not stored by year; nil when the row has no four-digit year.
    package func year(ofRow values: UnsafeMutablePointer<StoreValue>) -> Int? {
        switch (year, values[1]) {
        case (nil, _):
            return 0
        case (.calendarYearOfDate?, .text(var date)):
            return date.withUTF8 { bytes -> Int? in
                guard bytes.count >= 4 else { return nil }
                var y = 0
                for b in bytes.prefix(4) {
                    guard b >= 48 && b <= 57 else { return nil }
                    y = y * 10 + Int(b - 48)
                }
                return y >= 1000 ? y : nil
            }
        case (.schoolYear?, .int(let year)):
            return (1000...9999).contains(year) ? Int(year) : nil
        default:
            return nil
        }
    }

    /// The tables stored by year.
    package static var byYear: [ScreeningTable] { [.vision, .spine, .fitness] }

    package static let vision = ScreeningTable(
        name: "vision_screening",
        columns: [
            Column(name: "student_id", type: "TEXT", role: .key, notNull: true),
            Column(name: "screening_date", type: "TEXT", role: .key, notNull: true),
            Column(name: "school_year", type: "INTEGER", role: .payload, notNull: true),
            Column(name: "school_code", type: "TEXT", role: .payload, notNull: true),
            Column(name: "grade", type: "INTEGER", role: .payload, notNull: true),
            Column(name: "class_name", type: "TEXT", role: .payload, notNull: false),
            Column(name: "sex", type: "INTEGER", role: .payload, notNull: true),
            Column(name: "birth_date", type: "TEXT", role: .payload, notNull: false),
            Column(name: "glasses", type: "INTEGER", role: .payload, notNull: true),
            Column(name: "ucva_r_x10", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "ucva_l_x10", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "sph_r_mdpt", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "cyl_r_mdpt", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "axis_r", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "sph_l_mdpt", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "cyl_l_mdpt", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "axis_l", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "cva_r_x10", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "cva_l_x10", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "myopic", type: "INTEGER", role: .derived, notNull: false),
            Column(name: "poor_vision", type: "INTEGER", role: .derived, notNull: false),
            Column(name: "myopia_grade", type: "INTEGER", role: .derived, notNull: false),
            Column(name: "complete", type: "INTEGER", role: .derived, notNull: true),
            // v5
            Column(name: "class_code", type: "TEXT", role: .payload, notNull: false),
            Column(name: "orthok", type: "INTEGER", role: .payload, notNull: false),
        ],
        year: .calendarYearOfDate,
        reportColumns: ["school_year", "school_code", "grade", "sex", "complete", "myopic", "poor_vision", "myopia_grade"])

    static func columns(_ role: Column.Role, _ specs: [(String, String)], notNull: Set<String> = []) -> [Column] {
        specs.map { Column(name: $0.0, type: $0.1, role: role, notNull: notNull.contains($0.0)) }
    }

    /// Spine screenings (GB/T 16133-2014 form, DOMAIN.md §2.2). Angles in tenths of a degree.
    package static let spine = ScreeningTable(
        name: "spine_screening",
        columns: columns(.key, [("student_id", "TEXT"), ("screening_date", "TEXT")], notNull: ["student_id", "screening_date"])
            + columns(.payload, [
                ("school_year", "INTEGER"), ("school_code", "TEXT"), ("grade", "INTEGER"), ("class_name", "TEXT"), ("sex", "INTEGER"),
                ("birth_date", "TEXT"), ("general_inspection", "TEXT"),
                ("side_thoracic", "INTEGER"), ("side_thoracolumbar", "INTEGER"), ("side_lumbar", "INTEGER"),
                ("atr_thoracic_x10", "INTEGER"), ("atr_thoracolumbar_x10", "INTEGER"), ("atr_lumbar_x10", "INTEGER"),
                ("atr5_thoracic", "INTEGER"), ("atr5_thoracolumbar", "INTEGER"), ("atr5_lumbar", "INTEGER"),
                ("motion_test", "INTEGER"), ("sagittal_inspection", "INTEGER"), ("prone_test", "INTEGER"), ("history", "TEXT"),
            ], notNull: ["school_year", "school_code", "grade", "sex"])
            + columns(.derived, [
                ("band_thoracic", "INTEGER"), ("band_thoracolumbar", "INTEGER"), ("band_lumbar", "INTEGER"), ("max_atr_x10", "INTEGER"),
                ("lateral_finding", "INTEGER"), ("lateral_positive", "INTEGER"), ("grade_roman", "INTEGER"), ("grade_confirmed", "INTEGER"),
                ("sagittal", "INTEGER"), ("sagittal_abnormal", "INTEGER"), ("abnormal", "INTEGER"), ("suggestion", "INTEGER"),
                ("complete", "INTEGER"),
            ], notNull: ["complete"])
            // v5
            + columns(.payload, [
                ("class_code", "TEXT"),
                ("degree_thoracic", "INTEGER"), ("degree_thoracolumbar", "INTEGER"), ("degree_lumbar", "INTEGER"),
                ("atr_band_thoracic", "INTEGER"), ("atr_band_thoracolumbar", "INTEGER"), ("atr_band_lumbar", "INTEGER"),
                ("motion_persisted", "INTEGER"),
                ("atr_after_thoracic_x10", "INTEGER"), ("atr_after_thoracolumbar_x10", "INTEGER"), ("atr_after_lumbar_x10", "INTEGER"),
                ("atr_after_band_thoracic", "INTEGER"), ("atr_after_band_thoracolumbar", "INTEGER"), ("atr_after_band_lumbar", "INTEGER"),
                ("sagittal_result", "INTEGER"), ("sagittal_degree", "INTEGER"),
            ])
            + columns(.derived, [("postural", "INTEGER")]),
        year: .calendarYearOfDate,
        reportColumns: ["school_year", "school_code", "grade", "sex", "complete", "lateral_positive", "sagittal_abnormal", "abnormal"])

    /// Psychological screening scores (no item text), one per student, date and instrument.
    package static let psych = ScreeningTable(
        name: "psych_screening",
        columns: columns(.key, [("student_id", "TEXT"), ("screening_date", "TEXT"), ("instrument", "TEXT")],
                         notNull: ["student_id", "screening_date", "instrument"])
            + columns(.payload, [
                ("school_year", "INTEGER"), ("school_code", "TEXT"), ("grade", "INTEGER"), ("class_name", "TEXT"), ("sex", "INTEGER"),
                ("total", "INTEGER"), ("item9", "INTEGER"), ("validity", "INTEGER"), ("item85", "INTEGER"), ("item97", "INTEGER"),
                ("positive_items", "INTEGER"), ("factor_max_x100", "INTEGER"), ("informant", "INTEGER"),
            ], notNull: ["school_year", "school_code", "grade", "sex"])
            + columns(.derived, [("tier", "TEXT"), ("rule_id", "TEXT"), ("rule_version", "TEXT")]))

    /// Physical-fitness tests (2014 standard), one per student and school year. Times in seconds
    /// (50 m in tenths), lengths in tenths of a cm, height in mm, weight in tenths of a kg, scores in
    /// hundredths where they have decimals.
    package static let fitness = ScreeningTable(
        name: "fitness_test",
        columns: columns(.key, [("student_id", "TEXT"), ("school_year", "INTEGER")], notNull: ["student_id", "school_year"])
            + columns(.payload, [
                ("test_date", "TEXT"), ("school_code", "TEXT"), ("grade", "INTEGER"), ("scoring_grade", "INTEGER"),
                ("class_code", "TEXT"), ("class_name", "TEXT"), ("sex", "INTEGER"), ("birth_date", "TEXT"), ("exempt", "INTEGER"),
                ("height_mm", "INTEGER"), ("weight_x10", "INTEGER"), ("vital_capacity", "INTEGER"), ("run_50m_x10", "INTEGER"),
                ("standing_long_jump_x10", "INTEGER"), ("sit_and_reach_x10", "INTEGER"), ("shuttle_50x8", "INTEGER"),
                ("rope_skip", "INTEGER"), ("run_800m", "INTEGER"), ("run_1000m", "INTEGER"), ("sit_up", "INTEGER"), ("pull_up", "INTEGER"),
                ("ext_standard_x100", "INTEGER"), ("ext_bonus_x100", "INTEGER"), ("ext_total_x100", "INTEGER"), ("ext_band", "INTEGER"),
            ], notNull: ["school_code", "grade", "scoring_grade", "sex", "exempt"])
            + columns(.derived, [
                ("status", "INTEGER"), ("bmi_x10", "INTEGER"), ("bmi_category", "INTEGER"),
                ("score_bmi", "INTEGER"), ("score_vital_capacity", "INTEGER"), ("score_run_50m", "INTEGER"), ("score_sit_and_reach", "INTEGER"),
                ("score_rope_skip", "INTEGER"), ("score_sit_up", "INTEGER"), ("score_shuttle_50x8", "INTEGER"),
                ("score_standing_long_jump", "INTEGER"), ("score_pull_up", "INTEGER"), ("score_run_800m", "INTEGER"), ("score_run_1000m", "INTEGER"),
                ("standard_x100", "INTEGER"), ("bonus", "INTEGER"), ("total_x100", "INTEGER"), ("band", "INTEGER"),
                ("provenance", "INTEGER"), ("item_provenance", "INTEGER"), ("missing", "TEXT"),
            ], notNull: ["status", "provenance"]),
        year: .schoolYear)
}
