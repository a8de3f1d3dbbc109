internal import GRDB

/// The schema, as frozen migration steps. A step once released is never edited: add a new one.
enum Schema {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-batches-vision-revisions") { db in
            try db.execute(sql: """
                CREATE TABLE import_batch (
                    id            INTEGER PRIMARY KEY,
                    kind          TEXT    NOT NULL,
                    file_name     TEXT    NOT NULL,
                    file_sha256   TEXT    NOT NULL,
                    file_bytes    INTEGER NOT NULL,
                    encoding      TEXT    NOT NULL,
                    profile       TEXT    NOT NULL,
                    rule_version  TEXT    NOT NULL,
                    imported_at   TEXT    NOT NULL,
                    rows_read     INTEGER NOT NULL DEFAULT 0,
                    inserted      INTEGER NOT NULL DEFAULT 0,
                    updated       INTEGER NOT NULL DEFAULT 0,
                    unchanged     INTEGER NOT NULL DEFAULT 0,
                    rejected      INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (kind, file_sha256)
                );
                CREATE TABLE revision (
                    id                INTEGER PRIMARY KEY,
                    table_name        TEXT    NOT NULL,
                    row_id            INTEGER NOT NULL,
                    replaced_by_batch INTEGER NOT NULL REFERENCES import_batch(id),
                    previous_batch    INTEGER NOT NULL REFERENCES import_batch(id),
                    previous_values   TEXT    NOT NULL
                );
                CREATE INDEX revision_row ON revision(table_name, row_id);
                """)
            try db.execute(sql: ScreeningTable.vision.createSQL(named: "vision_screening"))
            try db.execute(sql: "CREATE UNIQUE INDEX vision_screening_key ON vision_screening(student_id, screening_date)")
            // Codes of the classification columns, for people reading the database directly.
            try db.execute(sql: """
                CREATE TABLE code_poor_vision (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_poor_vision VALUES (0, 'normal'), (1, 'mild'), (2, 'moderate'), (3, 'severe');
                CREATE TABLE code_myopia_grade (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_myopia_grade VALUES (0, 'none'), (1, 'low'), (2, 'moderate'), (3, 'high'), (9, 'myopic, not graded (orthokeratology)');
                CREATE TABLE code_glasses (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_glasses VALUES (0, '不戴镜 none'), (1, '框架眼镜 frame'), (2, '隐形眼镜 contact lens'), (3, '角膜塑形镜 orthokeratology');
                -- Measurements are stored as exact integers: acuity on the 5-point scale × 10 (49 = 4.9),
                -- sphere and cylinder in thousandths of a dioptre (-1250 = -1.25 D). This view shows them as
                -- decimals, with SE per eye and the rule version that classified the row (kept once per batch).
                CREATE VIEW vision_screening_readable AS
                    SELECT s.id, s.student_id, s.screening_date, s.school_year, s.school_code, s.grade, s.class_name,
                           s.sex, s.birth_date, s.glasses,
                           s.ucva_r_x10 / 10.0 AS ucva_r, s.ucva_l_x10 / 10.0 AS ucva_l,
                           s.sph_r_mdpt / 1000.0 AS sph_r, s.cyl_r_mdpt / 1000.0 AS cyl_r, s.axis_r,
                           s.sph_l_mdpt / 1000.0 AS sph_l, s.cyl_l_mdpt / 1000.0 AS cyl_l, s.axis_l,
                           s.cva_r_x10 / 10.0 AS cva_r, s.cva_l_x10 / 10.0 AS cva_l,
                           (s.sph_r_mdpt + IFNULL(s.cyl_r_mdpt, 0) / 2.0) / 1000.0 AS se_r,
                           (s.sph_l_mdpt + IFNULL(s.cyl_l_mdpt, 0) / 2.0) / 1000.0 AS se_l,
                           s.myopic, p.name AS poor_vision, g.name AS myopia_grade, s.complete,
                           b.rule_version, s.batch_id, s.source_line
                    FROM vision_screening s
                    JOIN import_batch b ON b.id = s.batch_id
                    LEFT JOIN code_poor_vision p ON p.code = s.poor_vision
                    LEFT JOIN code_myopia_grade g ON g.code = s.myopia_grade;
                """)
        }
        migrator.registerMigration("v2-spine-fitness") { db in
            try db.execute(sql: ScreeningTable.spine.createSQL(named: "spine_screening"))
            try db.execute(sql: "CREATE UNIQUE INDEX spine_screening_key ON spine_screening(student_id, screening_date)")
            try db.execute(sql: ScreeningTable.fitness.createSQL(named: "fitness_test"))
            try db.execute(sql: "CREATE UNIQUE INDEX fitness_test_key ON fitness_test(student_id, school_year)")
            try db.execute(sql: """
                CREATE TABLE code_bmi_category (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_bmi_category VALUES (0, '正常 normal'), (1, '低体重 underweight'), (2, '超重 overweight'), (3, '肥胖 obese');
                CREATE TABLE code_fitness_band (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_fitness_band VALUES (0, '优秀 excellent'), (1, '良好 good'), (2, '及格 pass'), (3, '不及格 fail');
                CREATE TABLE code_fitness_status (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_fitness_status VALUES (0, 'scored'), (1, 'incomplete: a required item is missing'), (2, '免体 exempt');
                CREATE TABLE code_provenance (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_provenance VALUES (0, 'VERIFIED'), (1, 'PARTIAL'), (2, 'SINGLE SOURCE'), (3, 'CONFLICT');
                CREATE TABLE code_spine_side (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_spine_side VALUES (1, '无侧弯 none'), (2, '左低右高 right high'), (3, '右低左高 left high');
                CREATE TABLE code_sagittal (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_sagittal VALUES (0, '正常 / 消失 normal'), (1, '前凸 lordosis'), (2, '后凸 kyphosis'), (3, '平背 flat back');
                CREATE TABLE code_spine_suggestion (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
                INSERT INTO code_spine_suggestion VALUES (0, '保持健康方式'), (1, '随访'), (2, '进一步检查确认 (full-spine radiograph)');
                -- grade_roman 1–3 = Ⅰ/Ⅱ/Ⅲ; grade_confirmed = 0 means the ATR mapping is UNCONFIRMED (GB/T 16133-2014 not seen).
                CREATE VIEW spine_screening_readable AS
                    SELECT s.*, CASE s.grade_roman WHEN 1 THEN 'Ⅰ' WHEN 2 THEN 'Ⅱ' WHEN 3 THEN 'Ⅲ' END
                               || CASE WHEN s.grade_roman IS NOT NULL AND s.grade_confirmed = 0 THEN ' (mapping unconfirmed)' ELSE '' END AS grade_label,
                           b.rule_version
                    FROM spine_screening s JOIN import_batch b ON b.id = s.batch_id;
                -- item_provenance: 2 bits per item (order of FitnessItem: bmi, vital_capacity, run_50m, sit_and_reach,
                -- rope_skip_1min, sit_up_1min, shuttle_50x8, standing_long_jump, pull_up, run_800m, run_1000m),
                -- 0 VERIFIED, 1 PARTIAL, 2 SINGLE SOURCE, 3 CONFLICT; weak_items lists the items not VERIFIED.
                CREATE VIEW fitness_test_readable AS
                    SELECT f.*, f.standard_x100 / 100.0 AS standard_score, f.total_x100 / 100.0 AS total_score,
                           band.name AS band_name, p.name AS provenance_name, \(FitnessProvenanceSQL.weakItems) AS weak_items,
                           b.rule_version
                    FROM fitness_test f JOIN import_batch b ON b.id = f.batch_id
                    LEFT JOIN code_fitness_band band ON band.code = f.band
                    LEFT JOIN code_provenance p ON p.code = f.provenance;
                """)
        }
        migrator.registerMigration("v3-psych-cases-audit") { db in
            try db.execute(sql: ScreeningTable.psych.createSQL(named: "psych_screening"))
            try db.execute(sql: "CREATE UNIQUE INDEX psych_screening_key ON psych_screening(student_id, screening_date, instrument)")
            try db.execute(sql: """
                CREATE TABLE psych_case (
                    id                  INTEGER PRIMARY KEY,
                    student_id          TEXT    NOT NULL,
                    school_code         TEXT    NOT NULL,
                    class_name          TEXT,
                    tier                TEXT    NOT NULL,
                    state               TEXT    NOT NULL,
                    opened_at           INTEGER NOT NULL,
                    state_entered_at    INTEGER NOT NULL,
                    due_at              INTEGER,
                    escalations         INTEGER NOT NULL DEFAULT 0,
                    escalated_state     TEXT,
                    -- The queue's first key: the tier's urgency (0 red, 1 orange, 2 yellow) less the escalations, at least 0.
                    effective_urgency   INTEGER NOT NULL,
                    referred_to_centre  INTEGER NOT NULL DEFAULT 0,
                    hospital            TEXT,
                    closed_at           INTEGER
                );
                CREATE UNIQUE INDEX psych_case_open ON psych_case(student_id) WHERE state <> 'closed';
                -- The queue reads each scope in order: overdue cases by due time, the others by age, per urgency.
                CREATE INDEX psych_case_school_due ON psych_case(school_code, effective_urgency, due_at) WHERE state <> 'closed';
                CREATE INDEX psych_case_school_age ON psych_case(school_code, effective_urgency, opened_at) WHERE state <> 'closed';
                CREATE INDEX psych_case_centre_due ON psych_case(effective_urgency, due_at) WHERE referred_to_centre = 1 AND state <> 'closed';
                CREATE INDEX psych_case_centre_age ON psych_case(effective_urgency, opened_at) WHERE referred_to_centre = 1 AND state <> 'closed';
                CREATE INDEX psych_case_hospital_due ON psych_case(hospital, effective_urgency, due_at) WHERE state <> 'closed';
                CREATE INDEX psych_case_hospital_age ON psych_case(hospital, effective_urgency, opened_at) WHERE state <> 'closed';
                -- Steps that may still escalate, by due time, per scope.
                CREATE INDEX psych_case_school_pending ON psych_case(school_code, due_at)
                    WHERE state <> 'closed' AND (escalated_state IS NULL OR escalated_state <> state);
                CREATE INDEX psych_case_centre_pending ON psych_case(due_at)
                    WHERE referred_to_centre = 1 AND state <> 'closed' AND (escalated_state IS NULL OR escalated_state <> state);
                CREATE INDEX psych_case_hospital_pending ON psych_case(hospital, due_at)
                    WHERE state <> 'closed' AND (escalated_state IS NULL OR escalated_state <> state);
                CREATE TABLE psych_flag (
                    id            INTEGER PRIMARY KEY,
                    case_id       INTEGER NOT NULL REFERENCES psych_case(id),
                    student_id    TEXT    NOT NULL,
                    tier          TEXT    NOT NULL,
                    kind          TEXT    NOT NULL,   -- rule | observation | disclosure | incident
                    rule_id       TEXT,
                    rule_version  TEXT,
                    reason        TEXT    NOT NULL,
                    raised_by     TEXT    NOT NULL,
                    raised_role   TEXT    NOT NULL,
                    raised_org    TEXT    NOT NULL,
                    raised_at     INTEGER NOT NULL,
                    batch_id      INTEGER REFERENCES import_batch(id)
                );
                CREATE INDEX psych_flag_case ON psych_flag(case_id);
                CREATE TABLE case_transition (
                    id                 INTEGER PRIMARY KEY,
                    case_id            INTEGER NOT NULL REFERENCES psych_case(id),
                    from_state         TEXT    NOT NULL,
                    to_state           TEXT    NOT NULL,
                    actor_user         TEXT    NOT NULL,
                    actor_role         TEXT    NOT NULL,
                    actor_org          TEXT    NOT NULL,
                    at                 INTEGER NOT NULL,
                    note               TEXT    NOT NULL,
                    guardian_informed  INTEGER NOT NULL,
                    consent            TEXT    NOT NULL,
                    emergency_override TEXT,
                    feedback_attendance TEXT,
                    feedback_safety    TEXT,
                    feedback_next_visit TEXT
                );
                CREATE INDEX case_transition_case ON case_transition(case_id);
                -- The "school – class – student" grid: who mentors or teaches whom.
                CREATE TABLE mentor_assignment (
                    school_code TEXT NOT NULL,
                    class_name  TEXT,
                    student_id  TEXT NOT NULL,
                    mentor      TEXT NOT NULL,
                    role        TEXT NOT NULL,   -- mentor | class-teacher
                    PRIMARY KEY (student_id, mentor, role)
                );
                CREATE INDEX mentor_assignment_mentor ON mentor_assignment(mentor);
                -- Append-only, hash-chained: every read and change of a case leaves one row.
                CREATE TABLE audit_event (
                    seq        INTEGER PRIMARY KEY,
                    at         INTEGER NOT NULL,
                    actor_user TEXT    NOT NULL,
                    actor_role TEXT    NOT NULL,
                    actor_org  TEXT    NOT NULL,
                    action     TEXT    NOT NULL,
                    case_id    INTEGER,
                    detail     TEXT    NOT NULL,
                    prev_hash  TEXT    NOT NULL,
                    hash       TEXT    NOT NULL
                );
                CREATE INDEX audit_event_case ON audit_event(case_id);
                CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        migrator.registerMigration("v4-screenings-by-year") { db in
            // One table per year behind a view of the old name: a new year's file is then bulk-loaded into an
            // empty table at the empty-database rate, however many years the database already holds (issue 6).
            // Each year's rows are renumbered from year × 10⁹ + 1 (in their old order) and revisions follow them.
            for table in ScreeningTable.byYear {
                let year = table.year!.expression
                try db.execute(sql: """
                    CREATE TEMP TABLE v4_ids AS
                    SELECT id AS old, \(year) AS year,
                           \(year) * 1000000000 + row_number() OVER (PARTITION BY \(year) ORDER BY id) AS new
                    FROM \(table.name);
                    CREATE UNIQUE INDEX temp.v4_ids_old ON v4_ids(old);
                    """)
                let columns = table.storedColumns.joined(separator: ", ")
                for y in try Int.fetchAll(db, sql: "SELECT DISTINCT year FROM v4_ids ORDER BY 1") {
                    let partition = try Partitions.create(db, table, year: y)
                    try db.execute(sql: """
                        INSERT INTO \(partition) (id, \(columns))
                        SELECT m.new, \(table.storedColumns.map { "t.\($0)" }.joined(separator: ", "))
                        FROM \(table.name) t JOIN v4_ids m ON m.old = t.id WHERE m.year = ? ORDER BY m.new
                        """, arguments: [y])
                }
                try db.execute(sql: """
                    UPDATE revision SET row_id = (SELECT new FROM v4_ids WHERE old = revision.row_id)
                    WHERE table_name = ? AND row_id IN (SELECT old FROM v4_ids)
                    """, arguments: [table.name])
                // Dropping the table leaves the readable views in place: they read the view of the same name.
                try db.execute(sql: "DROP TABLE \(table.name); DROP TABLE v4_ids")
                try Partitions.refreshView(db, table)
            }
        }
        return migrator
    }
}

/// A column of a screening table.
struct Column {
    enum Role { case key, payload, derived }
    let name: String
    let type: String
    let role: Role
    let notNull: Bool
}

/// An index that a bulk load may drop and rebuild inside its transaction.
struct IndexSpec {
    let name: String
    let table: String
    let columns: [String]
    let unique: Bool
    var createSQL: String {
        "CREATE \(unique ? "UNIQUE " : "")INDEX \(name) ON \(table)(\(columns.joined(separator: ", ")))"
    }
}

/// The year that splits a screening table into one table per year.
enum YearKey {
    /// The calendar year of the screening date (so the key, student and date, never spans two tables).
    case calendarYearOfDate
    /// The school year, a key column.
    case schoolYear

    /// The year as SQL over the table's columns.
    var expression: String {
        switch self {
        case .calendarYearOfDate: return "CAST(substr(screening_date, 1, 4) AS INTEGER)"
        case .schoolYear: return "school_year"
        }
    }
}

/// One screening table: key (student, date), source values ("payload"), student-level values derived by the
/// rules (per-eye findings follow from the stored acuity and refraction),
/// and the bookkeeping columns every table shares (batch_id, source_line). The rule version that produced
/// the derived values is the one of the batch that last wrote the row (`import_batch.rule_version`).
///
/// Tables with a `year` are stored one table per year (`vision_screening_2025`, see `Partitions`) behind a
/// view with the table's name; the others are one table of that name.
struct ScreeningTable {
    let name: String
    let columns: [Column]
    var year: YearKey? = nil

    var keyColumns: [Column] { columns.filter { $0.role == .key } }
    var payloadColumns: [Column] { columns.filter { $0.role == .payload } }
    /// Every column but `id`, in insert order: the values, then batch_id and source_line.
    var storedColumns: [String] { columns.map(\.name) + ["batch_id", "source_line"] }

    /// The unique key index of the physical table `physical`.
    func keyIndex(on physical: String) -> IndexSpec {
        IndexSpec(name: "\(physical)_key", table: physical, columns: keyColumns.map(\.name), unique: true)
    }

    /// The tables stored by year.
    static var byYear: [ScreeningTable] { [.vision, .spine, .fitness] }

    func createSQL(named physical: String) -> String {
        let cols = columns.map { "    \($0.name) \($0.type)\($0.notNull ? " NOT NULL" : "")" }
        let book = [
            "    batch_id INTEGER NOT NULL REFERENCES import_batch(id)",
            "    source_line INTEGER NOT NULL",
        ]
        return "CREATE TABLE \(physical) (\n    id INTEGER PRIMARY KEY,\n"
            + (cols + book).joined(separator: ",\n") + "\n)"
    }

    static let vision = ScreeningTable(
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
        ],
        // Reports scan the table (a million rows in well under a second); only the import key is indexed.
        year: .calendarYearOfDate)

    static func columns(_ role: Column.Role, _ specs: [(String, String)], notNull: Set<String> = []) -> [Column] {
        specs.map { Column(name: $0.0, type: $0.1, role: role, notNull: notNull.contains($0.0)) }
    }

    /// Spine screenings (GB/T 16133-2014 form, DOMAIN.md §2.2). Angles in tenths of a degree.
    static let spine = ScreeningTable(
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
            ], notNull: ["complete"]),
        year: .calendarYearOfDate)

    /// Psychological screening scores (no item text), one per student, date and instrument.
    static let psych = ScreeningTable(
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
    static let fitness = ScreeningTable(
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

/// The SQL that lists, from `item_provenance`, the items whose score rests on a row that is not VERIFIED.
enum FitnessProvenanceSQL {
    static let items = ["bmi", "vital_capacity", "run_50m", "sit_and_reach", "rope_skip_1min", "sit_up_1min", "shuttle_50x8",
                        "standing_long_jump", "pull_up", "run_800m", "run_1000m"]
    static var weakItems: String {
        let labels = ["", " PARTIAL", " SINGLE SOURCE", " CONFLICT"]
        let parts = items.enumerated().map { i, name in
            "CASE (f.item_provenance >> \(i * 2)) & 3 " + (1...3).map { "WHEN \($0) THEN '\(name)\(labels[$0]); '" }.joined(separator: " ") + " ELSE '' END"
        }
        return "NULLIF(" + parts.joined(separator: " || ") + ", '')"
    }
}
