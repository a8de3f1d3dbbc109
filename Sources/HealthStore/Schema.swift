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
            try db.execute(sql: ScreeningTable.vision.createSQL)
            for index in ScreeningTable.vision.indexes { try db.execute(sql: index.createSQL) }
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

/// One screening table: key (student, date), source values ("payload"), student-level values derived by the
/// rules (per-eye findings follow from the stored acuity and refraction),
/// and the bookkeeping columns every table shares (batch_id, source_line). The rule version that produced
/// the derived values is the one of the batch that last wrote the row (`import_batch.rule_version`).
struct ScreeningTable {
    let name: String
    let columns: [Column]
    let indexes: [IndexSpec]

    var keyColumns: [Column] { columns.filter { $0.role == .key } }
    var payloadColumns: [Column] { columns.filter { $0.role == .payload } }
    /// Columns bound on insert, in order: key, payload, derived, then batch_id, source_line.
    var writtenColumns: [Column] { columns }
    var uniqueKey: IndexSpec { indexes.first(where: \.unique)! }

    var createSQL: String {
        let cols = columns.map { "    \($0.name) \($0.type)\($0.notNull ? " NOT NULL" : "")" }
        let book = [
            "    batch_id INTEGER NOT NULL REFERENCES import_batch(id)",
            "    source_line INTEGER NOT NULL",
        ]
        return "CREATE TABLE \(name) (\n    id INTEGER PRIMARY KEY,\n" + (cols + book).joined(separator: ",\n") + "\n)"
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
        indexes: [
            // Reports scan the table (a million rows in well under a second); only the import key is indexed.
            IndexSpec(name: "vision_screening_key", table: "vision_screening", columns: ["student_id", "screening_date"], unique: true),
        ])
}
