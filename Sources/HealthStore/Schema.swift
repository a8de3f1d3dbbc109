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

/// One screening table: key (student, date), source values ("payload"), values derived by the rules,
/// and the bookkeeping columns every table shares (rule_version, batch_id, source_line).
struct ScreeningTable {
    let name: String
    let columns: [Column]
    let indexes: [IndexSpec]

    var keyColumns: [Column] { columns.filter { $0.role == .key } }
    var payloadColumns: [Column] { columns.filter { $0.role == .payload } }
    /// Columns bound on insert, in order: key, payload, derived, then rule_version, batch_id, source_line.
    var writtenColumns: [Column] { columns }
    var uniqueKey: IndexSpec { indexes.first(where: \.unique)! }

    var createSQL: String {
        let cols = columns.map { "    \($0.name) \($0.type)\($0.notNull ? " NOT NULL" : "")" }
        let book = [
            "    rule_version TEXT NOT NULL",
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
            Column(name: "ucva_r", type: "REAL", role: .payload, notNull: false),
            Column(name: "ucva_l", type: "REAL", role: .payload, notNull: false),
            Column(name: "sph_r", type: "REAL", role: .payload, notNull: false),
            Column(name: "cyl_r", type: "REAL", role: .payload, notNull: false),
            Column(name: "axis_r", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "sph_l", type: "REAL", role: .payload, notNull: false),
            Column(name: "cyl_l", type: "REAL", role: .payload, notNull: false),
            Column(name: "axis_l", type: "INTEGER", role: .payload, notNull: false),
            Column(name: "cva_r", type: "REAL", role: .payload, notNull: false),
            Column(name: "cva_l", type: "REAL", role: .payload, notNull: false),
            Column(name: "se_r", type: "REAL", role: .derived, notNull: false),
            Column(name: "se_l", type: "REAL", role: .derived, notNull: false),
            Column(name: "myopic_r", type: "INTEGER", role: .derived, notNull: false),
            Column(name: "myopic_l", type: "INTEGER", role: .derived, notNull: false),
            Column(name: "myopic", type: "INTEGER", role: .derived, notNull: false),
            Column(name: "poor_vision_r", type: "TEXT", role: .derived, notNull: false),
            Column(name: "poor_vision_l", type: "TEXT", role: .derived, notNull: false),
            Column(name: "poor_vision", type: "TEXT", role: .derived, notNull: false),
            Column(name: "myopia_grade_r", type: "TEXT", role: .derived, notNull: false),
            Column(name: "myopia_grade_l", type: "TEXT", role: .derived, notNull: false),
            Column(name: "myopia_grade", type: "TEXT", role: .derived, notNull: false),
            Column(name: "complete", type: "INTEGER", role: .derived, notNull: true),
        ],
        indexes: [
            IndexSpec(name: "vision_screening_key", table: "vision_screening", columns: ["student_id", "screening_date"], unique: true),
            IndexSpec(name: "vision_screening_school_year", table: "vision_screening", columns: ["school_code", "school_year"], unique: false),
        ])
}
