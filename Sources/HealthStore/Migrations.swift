internal import HealthStorage
internal import GRDB

/// The schema, as frozen steps of literal SQL. A step once released is never edited: add a new one.
///
/// No step reads a live Swift type (`ScreeningTable` describes today's columns for the writer and for the year
/// tables created at import time; what a step created is written down here, in the step). That keeps a fresh
/// database and an upgraded one identical however the live definitions move on.
///
/// All missing steps run in **one** `BEGIN IMMEDIATE` transaction, so that several processes opening a new
/// database at once do not race: the first migrates, the others wait for its commit and then find nothing to
/// do. (GRDB's migrator reads the applied steps before it takes the write lock, so two processes both ran v1.)
/// The bookkeeping table keeps GRDB's name, `grdb_migrations`, so databases migrated by earlier releases open.
enum Migrations {
    struct Step: Sendable {
        let id: String
        let apply: @Sendable (Database) throws -> Void
    }

    static let steps: [Step] = [
        Step(id: "v1-batches-vision-revisions", apply: v1),
        Step(id: "v2-spine-fitness", apply: v2),
        Step(id: "v3-psych-cases-audit", apply: v3),
        Step(id: "v4-screenings-by-year", apply: v4),
        Step(id: "v5-layouts-schools", apply: v5),
        Step(id: "v6-accounts-keyed-audit", apply: v6),
        Step(id: "v7-uploads", apply: v7),
        Step(id: "v8-school-profiles", apply: v8),
        Step(id: "v9-roster", apply: v9),
        Step(id: "v10-notices-clinic-results", apply: v10),
        Step(id: "v11-report-index-tallies", apply: v11),
    ]

    static var identifiers: [String] { steps.map(\.id) }

    /// The identifiers of the steps `db` has applied (known or not), in the order they were applied.
    static func applied(_ db: Database) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }

    /// Steps `db` has applied that this version does not know (a newer SchoolHealth wrote it).
    static func unknown(in applied: [String]) -> [String] {
        let known = Set(identifiers)
        return applied.filter { !known.contains($0) }.sorted()
    }

    /// Applies every missing step up to and including `last` (default: all) in one immediate transaction.
    /// Throws `StoreError.newerSchema` (and changes nothing) when the database has steps this version does not know.
    static func migrate(_ db: Database, path: String, upTo last: String? = nil) throws {
        let wanted = last.flatMap { id in steps.firstIndex { $0.id == id } }.map { Array(steps[...$0]) } ?? steps
        // Fast path without a write lock: everything is applied already (every open after the first).
        let before = try applied(db)
        let unknownBefore = unknown(in: before)
        if !unknownBefore.isEmpty { throw StoreError.newerSchema(path: path, unknownMigrations: unknownBefore) }
        if wanted.allSatisfy({ before.contains($0.id) }) { return }

        try db.inTransaction(.immediate) {
            try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            // Read again under the lock: another process may have migrated meanwhile.
            let done = try applied(db)
            let unknownNow = unknown(in: done)
            if !unknownNow.isEmpty { throw StoreError.newerSchema(path: path, unknownMigrations: unknownNow) }
            for step in wanted where !done.contains(step.id) {
                try step.apply(db)
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [step.id])
            }
            return .commit
        }
    }

    // MARK: - v1

    static let visionColumnsV1 = """
            student_id TEXT NOT NULL,
            screening_date TEXT NOT NULL,
            school_year INTEGER NOT NULL,
            school_code TEXT NOT NULL,
            grade INTEGER NOT NULL,
            class_name TEXT,
            sex INTEGER NOT NULL,
            birth_date TEXT,
            glasses INTEGER NOT NULL,
            ucva_r_x10 INTEGER,
            ucva_l_x10 INTEGER,
            sph_r_mdpt INTEGER,
            cyl_r_mdpt INTEGER,
            axis_r INTEGER,
            sph_l_mdpt INTEGER,
            cyl_l_mdpt INTEGER,
            axis_l INTEGER,
            cva_r_x10 INTEGER,
            cva_l_x10 INTEGER,
            myopic INTEGER,
            poor_vision INTEGER,
            myopia_grade INTEGER,
            complete INTEGER NOT NULL,
            batch_id INTEGER NOT NULL REFERENCES import_batch(id),
            source_line INTEGER NOT NULL
        """

    static func v1(_ db: Database) throws {
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
            CREATE TABLE vision_screening (
                id INTEGER PRIMARY KEY,
            \(visionColumnsV1)
            );
            CREATE UNIQUE INDEX vision_screening_key ON vision_screening(student_id, screening_date);
            -- Codes of the classification columns, for people reading the database directly.
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

    // MARK: - v2

    static let spineColumnsV2 = """
            student_id TEXT NOT NULL,
            screening_date TEXT NOT NULL,
            school_year INTEGER NOT NULL,
            school_code TEXT NOT NULL,
            grade INTEGER NOT NULL,
            class_name TEXT,
            sex INTEGER NOT NULL,
            birth_date TEXT,
            general_inspection TEXT,
            side_thoracic INTEGER,
            side_thoracolumbar INTEGER,
            side_lumbar INTEGER,
            atr_thoracic_x10 INTEGER,
            atr_thoracolumbar_x10 INTEGER,
            atr_lumbar_x10 INTEGER,
            atr5_thoracic INTEGER,
            atr5_thoracolumbar INTEGER,
            atr5_lumbar INTEGER,
            motion_test INTEGER,
            sagittal_inspection INTEGER,
            prone_test INTEGER,
            history TEXT,
            band_thoracic INTEGER,
            band_thoracolumbar INTEGER,
            band_lumbar INTEGER,
            max_atr_x10 INTEGER,
            lateral_finding INTEGER,
            lateral_positive INTEGER,
            grade_roman INTEGER,
            grade_confirmed INTEGER,
            sagittal INTEGER,
            sagittal_abnormal INTEGER,
            abnormal INTEGER,
            suggestion INTEGER,
            complete INTEGER NOT NULL,
            batch_id INTEGER NOT NULL REFERENCES import_batch(id),
            source_line INTEGER NOT NULL
        """

    static let fitnessColumnsV2 = """
            student_id TEXT NOT NULL,
            school_year INTEGER NOT NULL,
            test_date TEXT,
            school_code TEXT NOT NULL,
            grade INTEGER NOT NULL,
            scoring_grade INTEGER NOT NULL,
            class_code TEXT,
            class_name TEXT,
            sex INTEGER NOT NULL,
            birth_date TEXT,
            exempt INTEGER NOT NULL,
            height_mm INTEGER,
            weight_x10 INTEGER,
            vital_capacity INTEGER,
            run_50m_x10 INTEGER,
            standing_long_jump_x10 INTEGER,
            sit_and_reach_x10 INTEGER,
            shuttle_50x8 INTEGER,
            rope_skip INTEGER,
            run_800m INTEGER,
            run_1000m INTEGER,
            sit_up INTEGER,
            pull_up INTEGER,
            ext_standard_x100 INTEGER,
            ext_bonus_x100 INTEGER,
            ext_total_x100 INTEGER,
            ext_band INTEGER,
            status INTEGER NOT NULL,
            bmi_x10 INTEGER,
            bmi_category INTEGER,
            score_bmi INTEGER,
            score_vital_capacity INTEGER,
            score_run_50m INTEGER,
            score_sit_and_reach INTEGER,
            score_rope_skip INTEGER,
            score_sit_up INTEGER,
            score_shuttle_50x8 INTEGER,
            score_standing_long_jump INTEGER,
            score_pull_up INTEGER,
            score_run_800m INTEGER,
            score_run_1000m INTEGER,
            standard_x100 INTEGER,
            bonus INTEGER,
            total_x100 INTEGER,
            band INTEGER,
            provenance INTEGER NOT NULL,
            item_provenance INTEGER,
            missing TEXT,
            batch_id INTEGER NOT NULL REFERENCES import_batch(id),
            source_line INTEGER NOT NULL
        """

    static func v2(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE spine_screening (
                id INTEGER PRIMARY KEY,
            \(spineColumnsV2)
            );
            CREATE UNIQUE INDEX spine_screening_key ON spine_screening(student_id, screening_date);
            CREATE TABLE fitness_test (
                id INTEGER PRIMARY KEY,
            \(fitnessColumnsV2)
            );
            CREATE UNIQUE INDEX fitness_test_key ON fitness_test(student_id, school_year);
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
                       band.name AS band_name, p.name AS provenance_name, \(weakItemsV2) AS weak_items,
                       b.rule_version
                FROM fitness_test f JOIN import_batch b ON b.id = f.batch_id
                LEFT JOIN code_fitness_band band ON band.code = f.band
                LEFT JOIN code_provenance p ON p.code = f.provenance;
            """)
    }

    /// The items not VERIFIED, from `item_provenance` (2 bits per item), as frozen in v2.
    static let weakItemsV2 = """
        NULLIF(CASE (f.item_provenance >> 0) & 3 WHEN 1 THEN 'bmi PARTIAL; ' WHEN 2 THEN 'bmi SINGLE SOURCE; ' WHEN 3 THEN 'bmi CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 2) & 3 WHEN 1 THEN 'vital_capacity PARTIAL; ' WHEN 2 THEN 'vital_capacity SINGLE SOURCE; ' WHEN 3 THEN 'vital_capacity CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 4) & 3 WHEN 1 THEN 'run_50m PARTIAL; ' WHEN 2 THEN 'run_50m SINGLE SOURCE; ' WHEN 3 THEN 'run_50m CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 6) & 3 WHEN 1 THEN 'sit_and_reach PARTIAL; ' WHEN 2 THEN 'sit_and_reach SINGLE SOURCE; ' WHEN 3 THEN 'sit_and_reach CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 8) & 3 WHEN 1 THEN 'rope_skip_1min PARTIAL; ' WHEN 2 THEN 'rope_skip_1min SINGLE SOURCE; ' WHEN 3 THEN 'rope_skip_1min CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 10) & 3 WHEN 1 THEN 'sit_up_1min PARTIAL; ' WHEN 2 THEN 'sit_up_1min SINGLE SOURCE; ' WHEN 3 THEN 'sit_up_1min CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 12) & 3 WHEN 1 THEN 'shuttle_50x8 PARTIAL; ' WHEN 2 THEN 'shuttle_50x8 SINGLE SOURCE; ' WHEN 3 THEN 'shuttle_50x8 CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 14) & 3 WHEN 1 THEN 'standing_long_jump PARTIAL; ' WHEN 2 THEN 'standing_long_jump SINGLE SOURCE; ' WHEN 3 THEN 'standing_long_jump CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 16) & 3 WHEN 1 THEN 'pull_up PARTIAL; ' WHEN 2 THEN 'pull_up SINGLE SOURCE; ' WHEN 3 THEN 'pull_up CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 18) & 3 WHEN 1 THEN 'run_800m PARTIAL; ' WHEN 2 THEN 'run_800m SINGLE SOURCE; ' WHEN 3 THEN 'run_800m CONFLICT; ' ELSE '' END \
        || CASE (f.item_provenance >> 20) & 3 WHEN 1 THEN 'run_1000m PARTIAL; ' WHEN 2 THEN 'run_1000m SINGLE SOURCE; ' WHEN 3 THEN 'run_1000m CONFLICT; ' ELSE '' END, '')
        """

    // MARK: - v3

    static func v3(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE psych_screening (
                id INTEGER PRIMARY KEY,
                student_id TEXT NOT NULL,
                screening_date TEXT NOT NULL,
                instrument TEXT NOT NULL,
                school_year INTEGER NOT NULL,
                school_code TEXT NOT NULL,
                grade INTEGER NOT NULL,
                class_name TEXT,
                sex INTEGER NOT NULL,
                total INTEGER,
                item9 INTEGER,
                validity INTEGER,
                item85 INTEGER,
                item97 INTEGER,
                positive_items INTEGER,
                factor_max_x100 INTEGER,
                informant INTEGER,
                tier TEXT,
                rule_id TEXT,
                rule_version TEXT,
                batch_id INTEGER NOT NULL REFERENCES import_batch(id),
                source_line INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX psych_screening_key ON psych_screening(student_id, screening_date, instrument);
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

    // MARK: - v4

    /// A table stored by year as v4 left it: its columns, the unique key, and the SQL year of a row.
    struct YearTableV4 {
        let name: String
        let columns: String
        let key: String
        let year: String
        var columnNames: [String] {
            columns.split(separator: "\n").compactMap { line in
                line.split(separator: " ").first.map(String.init)
            }.filter { !$0.isEmpty }
        }
    }

    static let yearTablesV4 = [
        YearTableV4(name: "vision_screening", columns: visionColumnsV1, key: "student_id, screening_date",
                    year: "CAST(substr(screening_date, 1, 4) AS INTEGER)"),
        YearTableV4(name: "spine_screening", columns: spineColumnsV2, key: "student_id, screening_date",
                    year: "CAST(substr(screening_date, 1, 4) AS INTEGER)"),
        YearTableV4(name: "fitness_test", columns: fitnessColumnsV2, key: "student_id, school_year", year: "school_year"),
    ]

    static func v4(_ db: Database) throws {
        // One table per year behind a view of the old name: a new year's file is then bulk-loaded into an
        // empty table at the empty-database rate, however many years the database already holds (issue 6).
        // Each year's rows are renumbered from year × 10⁹ + 1 (in their old order) and revisions follow them.
        for table in yearTablesV4 {
            try db.execute(sql: """
                CREATE TEMP TABLE v4_ids AS
                SELECT id AS old, \(table.year) AS year,
                       \(table.year) * 1000000000 + row_number() OVER (PARTITION BY \(table.year) ORDER BY id) AS new
                FROM \(table.name);
                CREATE UNIQUE INDEX temp.v4_ids_old ON v4_ids(old);
                """)
            let names = table.columnNames
            for y in try Int.fetchAll(db, sql: "SELECT DISTINCT year FROM v4_ids ORDER BY 1") {
                let partition = "\(table.name)_\(y)"
                try db.execute(sql: "CREATE TABLE \(partition) (\n    id INTEGER PRIMARY KEY,\n\(table.columns)\n)")
                try db.execute(sql: "CREATE UNIQUE INDEX \(partition)_key ON \(partition)(\(table.key))")
                try db.execute(sql: """
                    INSERT INTO \(partition) (id, \(names.joined(separator: ", ")))
                    SELECT m.new, \(names.map { "t.\($0)" }.joined(separator: ", "))
                    FROM \(table.name) t JOIN v4_ids m ON m.old = t.id WHERE m.year = ? ORDER BY m.new
                    """, arguments: [y])
            }
            try db.execute(sql: """
                UPDATE revision SET row_id = (SELECT new FROM v4_ids WHERE old = revision.row_id)
                WHERE table_name = ? AND row_id IN (SELECT old FROM v4_ids)
                """, arguments: [table.name])
            // Dropping the table leaves the readable views in place: they read the view of the same name.
            try db.execute(sql: "DROP TABLE \(table.name); DROP TABLE v4_ids")
            try Partitions.refreshView(db, table: table.name, columns: ["id"] + names)
        }
    }

    // MARK: - v5

    /// Columns v5 adds to every year's table (and the live definitions carry at their end).
    static let visionColumnsAddedV5 = [
        "class_code TEXT",          // 班级编号 beside 班级名称 (the national template has both)
        "orthok INTEGER",           // a separate 是否为角膜塑形镜佩戴者 column: 1 yes, 0 no, NULL not in the file
    ]
    static let spineColumnsAddedV5 = [
        "class_code TEXT",
        // Ⅰ/Ⅱ/Ⅲ (1–3) as a platform writes it with the side (左低右高、Ⅱ), per segment.
        "degree_thoracic INTEGER", "degree_thoracolumbar INTEGER", "degree_lumbar INTEGER",
        // The form's ATR band (0 < 5°, 1 5–7°, 2 7–10°, 3 ≥ 10°) when the file gives a band, not degrees.
        "atr_band_thoracic INTEGER", "atr_band_thoracolumbar INTEGER", "atr_band_lumbar INTEGER",
        // The result of the motion test: 1 the sign persisted (体征未消失), 0 it disappeared (体征消失).
        // (motion_test keeps whether it was done: 是/否, 做/未做.)
        "motion_persisted INTEGER",
        // ATR measured again after the motion test, in tenths of a degree or as a band.
        "atr_after_thoracic_x10 INTEGER", "atr_after_thoracolumbar_x10 INTEGER", "atr_after_lumbar_x10 INTEGER",
        "atr_after_band_thoracic INTEGER", "atr_after_band_thoracolumbar INTEGER", "atr_after_band_lumbar INTEGER",
        // 前后弯曲 as a result (无前后弯曲异常 0, 前凸异常 1, 后凸异常 2, 平背 3) and its degree (1–3).
        "sagittal_result INTEGER", "sagittal_degree INTEGER",
        // Derived: 姿态不良, a lateral finding that did not persist after the motion test.
        "postural INTEGER",
    ]

    static func v5(_ db: Database) throws {
        for (table, added) in [("vision_screening", visionColumnsAddedV5), ("spine_screening", spineColumnsAddedV5)] {
            for part in try Partitions.all(db, table: table) {
                for column in added { try db.execute(sql: "ALTER TABLE \(part.name) ADD COLUMN \(column)") }
            }
        }
        let visionV5 = ["id"] + yearTablesV4[0].columnNames + visionColumnsAddedV5.map { String($0.split(separator: " ")[0]) }
        let spineV5 = ["id"] + yearTablesV4[1].columnNames + spineColumnsAddedV5.map { String($0.split(separator: " ")[0]) }
        try Partitions.refreshView(db, table: "vision_screening", columns: visionV5)
        try Partitions.refreshView(db, table: "spine_screening", columns: spineV5)
        try db.execute(sql: """
            INSERT INTO code_glasses VALUES (9, '未记录 not recorded');
            -- Acuity below the chart's lowest line (3.0) is stored as 29; the view shows it as '<3.0'.
            DROP VIEW vision_screening_readable;
            CREATE VIEW vision_screening_readable AS
                SELECT s.id, s.student_id, s.screening_date, s.school_year, s.school_code, s.grade, s.class_code, s.class_name,
                       s.sex, s.birth_date, s.glasses, s.orthok,
                       CASE WHEN s.ucva_r_x10 < 30 THEN '<3.0' ELSE s.ucva_r_x10 / 10.0 END AS ucva_r,
                       CASE WHEN s.ucva_l_x10 < 30 THEN '<3.0' ELSE s.ucva_l_x10 / 10.0 END AS ucva_l,
                       s.sph_r_mdpt / 1000.0 AS sph_r, s.cyl_r_mdpt / 1000.0 AS cyl_r, s.axis_r,
                       s.sph_l_mdpt / 1000.0 AS sph_l, s.cyl_l_mdpt / 1000.0 AS cyl_l, s.axis_l,
                       CASE WHEN s.cva_r_x10 < 30 THEN '<3.0' ELSE s.cva_r_x10 / 10.0 END AS cva_r,
                       CASE WHEN s.cva_l_x10 < 30 THEN '<3.0' ELSE s.cva_l_x10 / 10.0 END AS cva_l,
                       (s.sph_r_mdpt + IFNULL(s.cyl_r_mdpt, 0) / 2.0) / 1000.0 AS se_r,
                       (s.sph_l_mdpt + IFNULL(s.cyl_l_mdpt, 0) / 2.0) / 1000.0 AS se_l,
                       s.myopic, p.name AS poor_vision, g.name AS myopia_grade, s.complete,
                       b.rule_version, s.batch_id, s.source_line
                FROM vision_screening s
                JOIN import_batch b ON b.id = s.batch_id
                LEFT JOIN code_poor_vision p ON p.code = s.poor_vision
                LEFT JOIN code_myopia_grade g ON g.code = s.myopia_grade;
            -- Recreated so that it is certain to show v5's columns.
            DROP VIEW spine_screening_readable;
            CREATE VIEW spine_screening_readable AS
                SELECT s.*, CASE s.grade_roman WHEN 1 THEN 'Ⅰ' WHEN 2 THEN 'Ⅱ' WHEN 3 THEN 'Ⅲ' END
                           || CASE WHEN s.grade_roman IS NOT NULL AND s.grade_confirmed = 0 THEN ' (mapping unconfirmed)' ELSE '' END AS grade_label,
                       b.rule_version
                FROM spine_screening s JOIN import_batch b ON b.id = s.batch_id;
            -- How the importer read each file: header lines, delimiter, column mapping (JSON).
            ALTER TABLE import_batch ADD COLUMN layout TEXT;
            -- The county's schools: code, name, stage, and other spellings files use for them.
            CREATE TABLE school (
                code  TEXT PRIMARY KEY,
                name  TEXT NOT NULL,
                stage TEXT
            );
            CREATE TABLE school_alias (
                alias TEXT PRIMARY KEY,   -- normalised (case, width and spaces folded)
                code  TEXT NOT NULL REFERENCES school(code),
                written TEXT NOT NULL     -- as the list wrote it
            );
            """)
    }

    // MARK: - v6

    static func v6(_ db: Database) throws {
        try db.execute(sql: """
            -- Registered accounts: every referral command acts as one. Passwords as scrypt digests, tokens as
            -- HMAC digests keyed with the audit key (outside this file).
            CREATE TABLE account (
                id            INTEGER PRIMARY KEY,
                login         TEXT    NOT NULL UNIQUE,
                display_name  TEXT    NOT NULL,
                role          TEXT    NOT NULL,   -- admin | mentor | counsellor | centre | hospital | health-office
                organisation  TEXT    NOT NULL,
                password_kdf  TEXT,
                token_digest  TEXT,
                created_at    INTEGER NOT NULL,
                disabled_at   INTEGER
            );
            -- Settings of this database: drill = 1 for a drill database (times may be set by hand).
            CREATE TABLE store_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            -- Mentors by account, not by name (two teachers may share a name). The v5 grid matched names and cannot
            -- be carried over safely: it is kept, renamed, for the school to re-enter.
            ALTER TABLE mentor_assignment RENAME TO mentor_assignment_by_name_v5;
            CREATE TABLE mentor_of (
                account_id  INTEGER NOT NULL REFERENCES account(id),
                school_code TEXT    NOT NULL,
                class_name  TEXT,
                student_id  TEXT    NOT NULL,
                role        TEXT    NOT NULL,   -- mentor | class-teacher
                PRIMARY KEY (account_id, student_id, role)
            );
            CREATE INDEX mentor_of_student ON mentor_of(student_id);
            -- One open case per student and school: a school's flag never joins another school's case.
            DROP INDEX psych_case_open;
            CREATE UNIQUE INDEX psych_case_open ON psych_case(student_id, school_code) WHERE state <> 'closed';
            CREATE INDEX psych_case_student ON psych_case(student_id);
            -- The keyed chain (AuditChain.mac) and what each event wrote.
            ALTER TABLE audit_event ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE audit_event ADD COLUMN clock TEXT NOT NULL DEFAULT 'system';
            ALTER TABLE audit_event ADD COLUMN actor_account INTEGER;
            ALTER TABLE audit_event ADD COLUMN subjects TEXT NOT NULL DEFAULT '';
            ALTER TABLE case_transition ADD COLUMN clock TEXT NOT NULL DEFAULT 'system';
            ALTER TABLE case_transition ADD COLUMN hospital TEXT;
            ALTER TABLE psych_flag ADD COLUMN clock TEXT NOT NULL DEFAULT 'system';
            -- Emergency overrides wait for the county centre's review.
            CREATE TABLE override_review (
                transition_id    INTEGER PRIMARY KEY REFERENCES case_transition(id),
                case_id          INTEGER NOT NULL REFERENCES psych_case(id),
                reviewed_at      INTEGER,
                reviewer_account INTEGER REFERENCES account(id),
                review_note      TEXT
            );
            CREATE INDEX override_review_pending ON override_review(case_id) WHERE reviewed_at IS NULL;
            """)
    }

    // MARK: - v7

    static func v7(_ db: Database) throws {
        try db.execute(sql: """
            -- Who uploaded which batch for which school (the web's uploads; a nurse sees her school's history).
            -- Accounts may now also have the role nurse.
            CREATE TABLE batch_upload (
                batch_id    INTEGER NOT NULL REFERENCES import_batch(id),
                account_id  INTEGER NOT NULL REFERENCES account(id),
                school_code TEXT    NOT NULL,
                uploaded_at INTEGER NOT NULL,
                PRIMARY KEY (batch_id, account_id)
            );
            CREATE INDEX batch_upload_school ON batch_upload(school_code, uploaded_at);
            """)
    }

    // MARK: - v8

    static func v8(_ db: Database) throws {
        try db.execute(sql: """
            -- Column profiles a school's nurse saved in the web's mapping step (YAML, as Config/profiles holds them).
            CREATE TABLE school_profile (
                school_code TEXT    NOT NULL,
                name        TEXT    NOT NULL,
                kind        TEXT    NOT NULL,
                yaml        TEXT    NOT NULL,
                account_id  INTEGER NOT NULL REFERENCES account(id),
                saved_at    INTEGER NOT NULL,
                PRIMARY KEY (school_code, name)
            );
            """)
    }

    // MARK: - v9

    static func v9(_ db: Database) throws {
        try db.execute(sql: """
            -- Schools' student lists (学籍名单) per school year: one row per student and year (by 学籍号), so a student
            -- who changed school is on the list of the school that listed them last. Names are never stored.
            CREATE TABLE roster_batch (
                id          INTEGER PRIMARY KEY,
                file_name   TEXT    NOT NULL,
                sha256      TEXT    NOT NULL UNIQUE,
                school_year INTEGER NOT NULL,
                imported_at INTEGER NOT NULL,
                -- The school it was uploaded for and by whom (the web's uploads; NULL from the command line).
                school_code TEXT,
                account_id  INTEGER REFERENCES account(id),
                rows_read   INTEGER NOT NULL,
                inserted    INTEGER NOT NULL,
                updated     INTEGER NOT NULL,
                unchanged   INTEGER NOT NULL,
                rejected    INTEGER NOT NULL
            );
            CREATE INDEX roster_batch_school ON roster_batch(school_code, imported_at);
            CREATE TABLE roster_entry (
                school_year INTEGER NOT NULL,
                student_id  TEXT    NOT NULL,
                school_code TEXT    NOT NULL,
                grade       INTEGER NOT NULL,
                class_code  TEXT,
                class_name  TEXT,
                sex         INTEGER NOT NULL,
                birth_date  TEXT,
                batch_id    INTEGER NOT NULL REFERENCES roster_batch(id),
                PRIMARY KEY (school_year, student_id)
            );
            CREATE INDEX roster_school ON roster_entry(school_code, school_year, grade);
            """)
    }

    // MARK: - v10

    static func v10(_ db: Database) throws {
        try db.execute(sql: """
            -- Notices to parents (告家长书): one per screening that found something (kind, student, screening date), and
            -- every re-issue of it as its own row pointing at the original. What was printed is kept as it was printed.
            CREATE TABLE notice (
                id             INTEGER PRIMARY KEY,
                kind           TEXT    NOT NULL,      -- vision | spine | fitness
                student_id     TEXT    NOT NULL,
                screening_date TEXT    NOT NULL,
                school_code    TEXT    NOT NULL,      -- the school that screened and issues
                school_year    INTEGER NOT NULL,
                grade          INTEGER NOT NULL,
                class_code     TEXT,
                class_name     TEXT,
                sex            INTEGER NOT NULL,
                findings       TEXT    NOT NULL,      -- finding ids of Config/rules/follow-up.yaml, comma-separated
                expects_result INTEGER NOT NULL,      -- 1: a clinic's result is asked for (counted in 复查率)
                snapshot       TEXT    NOT NULL,      -- the screening's values as printed (JSON)
                rule_version   TEXT    NOT NULL,      -- follow-up rules "<version>@<sha8>"
                issued_at      INTEGER NOT NULL,
                issued_by      INTEGER REFERENCES account(id),
                issued_by_name TEXT    NOT NULL,
                reissue_of     INTEGER REFERENCES notice(id),
                reissue_reason TEXT
            );
            CREATE UNIQUE INDEX notice_screening ON notice(kind, student_id, screening_date) WHERE reissue_of IS NULL;
            CREATE INDEX notice_school ON notice(school_code, school_year, class_code);
            CREATE INDEX notice_student ON notice(student_id, kind);
            CREATE INDEX notice_reissue ON notice(reissue_of) WHERE reissue_of IS NOT NULL;
            -- The report's follow-up counts read this, not the notices' snapshots.
            CREATE INDEX notice_counts ON notice(kind, school_code, school_year, grade, sex, expects_result, issued_at) WHERE reissue_of IS NULL;
            -- Files of clinics' results (schoolhealth results import).
            CREATE TABLE clinic_batch (
                id          INTEGER PRIMARY KEY,
                file_name   TEXT    NOT NULL,
                sha256      TEXT    NOT NULL UNIQUE,
                imported_at INTEGER NOT NULL,
                school_code TEXT,
                account_id  INTEGER REFERENCES account(id),
                rows_read   INTEGER NOT NULL,
                inserted    INTEGER NOT NULL,
                updated     INTEGER NOT NULL,
                unchanged   INTEGER NOT NULL,
                rejected    INTEGER NOT NULL
            );
            -- The clinic's answer to a notice (its original row): one per notice, the latest entry kept.
            CREATE TABLE clinic_result (
                notice_id    INTEGER PRIMARY KEY REFERENCES notice(id),
                student_id   TEXT    NOT NULL,
                school_code  TEXT    NOT NULL,
                kind         TEXT    NOT NULL,
                result_date  TEXT    NOT NULL,
                provider     TEXT    NOT NULL,
                outcome      TEXT    NOT NULL,    -- myopia | not_myopic | scoliosis | postural | normal
                se_r_mdpt    INTEGER,             -- cycloplegic spherical equivalent, millidioptres
                se_l_mdpt    INTEGER,
                cobb_x10     INTEGER,             -- radiograph's Cobb angle, tenths of a degree
                rule_version TEXT    NOT NULL,
                recorded_at  INTEGER NOT NULL,
                recorded_by  INTEGER REFERENCES account(id),
                batch_id     INTEGER REFERENCES clinic_batch(id),
                source_line  INTEGER
            );
            CREATE INDEX clinic_result_school ON clinic_result(school_code, result_date);
            """)
    }

    /// The report's columns join the key index of the vision and spine year tables (a covering index: the report
    /// reads each year in key order from the index alone, whatever order the file had), and the report's counts
    /// are kept, with the data generation they were counted at (bumped by every import batch and erasure).
    static func v11(_ db: Database) throws {
        let covering = [
            "vision_screening": "student_id, screening_date, school_year, school_code, grade, sex, complete, myopic, poor_vision, myopia_grade",
            "spine_screening": "student_id, screening_date, school_year, school_code, grade, sex, complete, lateral_positive, sagittal_abnormal, abnormal",
        ]
        for (table, columns) in covering.sorted(by: { $0.key < $1.key }) {
            for part in try Partitions.all(db, table: table) {
                try db.execute(sql: "DROP INDEX IF EXISTS \(part.name)_key")
                try db.execute(sql: "CREATE INDEX \(part.name)_key ON \(part.name)(\(columns))")
            }
        }
        try db.execute(sql: """
            -- What the report counted last, and when: generation n of the screenings (every import batch and every
            -- erasure adds one). Counts only, per stratum, as the report shows them; recounted when n has moved on.
            CREATE TABLE report_generation (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                n  INTEGER NOT NULL
            );
            INSERT INTO report_generation (id, n) VALUES (1, 0);
            CREATE TRIGGER import_batch_moves_report_generation AFTER INSERT ON import_batch
            BEGIN UPDATE report_generation SET n = n + 1 WHERE id = 1; END;
            CREATE TABLE report_tally_state (
                latest     INTEGER PRIMARY KEY,      -- 0: each student-year's first screening counts, 1: the last
                generation INTEGER NOT NULL
            );
            CREATE TABLE report_tally (
                latest      INTEGER NOT NULL,
                measure     TEXT    NOT NULL,
                school_code TEXT    NOT NULL,
                school_year INTEGER NOT NULL,
                grade       INTEGER NOT NULL,
                sex         INTEGER NOT NULL,
                numerator   INTEGER NOT NULL,
                denominator INTEGER NOT NULL
            );
            CREATE INDEX report_tally_by_year ON report_tally(latest, school_year);
            CREATE TABLE report_tally_follow (
                latest      INTEGER NOT NULL,
                school_code TEXT    NOT NULL,
                from_year   INTEGER NOT NULL,
                at_risk     INTEGER NOT NULL,
                followed    INTEGER NOT NULL,
                incident    INTEGER NOT NULL
            );
            CREATE TABLE report_tally_year (
                latest      INTEGER NOT NULL,
                school_year INTEGER NOT NULL,      -- a year some screening was counted in
                PRIMARY KEY (latest, school_year)
            );
            """)
    }
}
