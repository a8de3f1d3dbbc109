import Foundation
import Testing
@testable import HealthStore
@testable import HealthCore
import GRDB
import HealthTestSupport

@Suite("Store")
struct StoreTests {
    @Test("A new database is migrated and passes the integrity check")
    func migrated() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        let store = try Store.open(path: path)
        #expect(try store.appliedMigrations() == ["v1-batches-vision-revisions", "v2-spine-fitness", "v3-psych-cases-audit", "v4-screenings-by-year",
                                                   "v5-layouts-schools", "v6-accounts-keyed-audit", "v7-uploads",
                                                   "v8-school-profiles", "v9-roster", "v10-notices-clinic-results",
                                                   "v11-report-index-tallies"])
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.debugRows("PRAGMA journal_mode")[0][0] == "wal")
        // Opening again is a no-op.
        #expect(try Store.open(path: path).appliedMigrations().count == 11)
    }

    @Test("v4 moves each screening table into one table per year: rows, revisions and the key survive; ids by year")
    func migrationToYearTables() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        let queue = try DatabaseQueue(path: path)
        try queue.inDatabase { db in try Migrations.migrate(db, path: path, upTo: "v3-psych-cases-audit") }
        try queue.write { db in
            try db.execute(sql: "INSERT INTO import_batch (id, kind, file_name, file_sha256, file_bytes, encoding, profile, rule_version, imported_at) VALUES (1, 'vision', 'f', 'x', 1, 'UTF-8', 'p', 'r', 'now')")
            for (id, student, date) in [(7, "s1", "2023-09-10"), (8, "s1", "2024-03-01"), (9, "s2", "2024-09-12")] {
                try db.execute(sql: """
                    INSERT INTO vision_screening (id, student_id, screening_date, school_year, school_code, grade, sex, glasses, complete, batch_id, source_line)
                    VALUES (?, ?, ?, 2023, 'S', 11, 1, 0, 1, 1, ?)
                    """, arguments: [id, student, date, id])
            }
            try db.execute(sql: "INSERT INTO fitness_test (id, student_id, school_year, school_code, grade, scoring_grade, sex, exempt, status, provenance, batch_id, source_line) VALUES (3, 's1', 2023, 'S', 11, 11, 1, 0, 0, 0, 1, 2)")
            try db.execute(sql: "INSERT INTO revision (table_name, row_id, replaced_by_batch, previous_batch, previous_values) VALUES ('vision_screening', 8, 1, 1, '{}')")
        }
        let store = try Store.open(path: path)
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.debugRows("SELECT id, student_id, screening_date FROM vision_screening ORDER BY id")
                == [["2023000000001", "s1", "2023-09-10"], ["2024000000001", "s1", "2024-03-01"], ["2024000000002", "s2", "2024-09-12"]])
        #expect(try store.debugRows("SELECT id FROM fitness_test") == [["2023000000001"]])
        #expect(try store.debugRows("SELECT name FROM sqlite_schema WHERE name GLOB 'vision_screening*' OR name GLOB 'fitness_test*' ORDER BY name")
                .map { $0[0]! } == ["fitness_test", "fitness_test_2023", "fitness_test_2023_key", "fitness_test_readable",
                                    "vision_screening", "vision_screening_2023", "vision_screening_2023_key",
                                    "vision_screening_2024", "vision_screening_2024_key", "vision_screening_readable"])
        #expect(try store.debugRows("SELECT v.screening_date FROM revision r JOIN vision_screening_readable v ON v.id = r.row_id") == [["2024-03-01"]])
        // The key still holds in every year's table (unique for fitness; vision's and spine's key index is a covering
        // one since v11, and the writer looks a key up before it inserts), and new rows get ids of their own year.
        try store.queue.write { db in
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO fitness_test_2023 (student_id, school_year, school_code, grade, scoring_grade, sex, exempt, status, provenance, batch_id, source_line) VALUES ('s1', 2023, 'S', 11, 11, 1, 0, 0, 0, 1, 3)")
            }
            #expect(try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'vision_screening_2024_key'")
                    == "CREATE INDEX vision_screening_2024_key ON vision_screening_2024(student_id, screening_date, school_year, school_code, grade, sex, complete, myopic, poor_vision, myopia_grade)")
            try db.execute(sql: "INSERT INTO vision_screening_2024 (student_id, screening_date, school_year, school_code, grade, sex, glasses, complete, batch_id, source_line) VALUES ('s3', '2024-03-01', 2023, 'S', 11, 1, 0, 1, 1, 9)")
            #expect(db.lastInsertedRowID == 2024_000_000_003)
        }
    }

    @Test("A database from a newer SchoolHealth is refused, naming what it does not know")
    func newerSchema() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        _ = try Store.open(path: path)
        let raw = try Store.open(path: path)
        try raw.queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')") }
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v9-from-the-future"])) { try Store.open(path: path) }
    }

    @Test("A file that is not a database gets its own clear error")
    func notADatabase() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        try String(repeating: "this is not sqlite ", count: 400).write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Store.open(path: path)
            Issue.record("expected an error")
        } catch {
            guard case .notADatabase = error else { Issue.record("got \(error)"); return }
            #expect(error.description.contains("backup"))
        }
    }

    @Test("Writing one vision row, then the same again, then a changed one")
    func writeOutcomes() throws {
        let store = try Store.inMemory()
        let screening = VisionScreening(
            studentID: StudentID("001"), sex: .female, birthDate: nil, schoolCode: "S", grade: GradeCode(11)!, className: nil,
            screeningDate: CivilDate(year: 2024, month: 9, day: 1)!, right: EyeFindings(ucva: Acuity(tenths: 50)),
            left: EyeFindings(ucva: Acuity(tenths: 49)), glasses: .none)
        let c = VisionClassification(right: .init(), left: .init(), myopic: nil, poorVision: .mild, grade: nil, complete: false, missing: [], ruleVersion: "t")
        func batch(_ sha: String, _ s: VisionScreening) throws -> WriteOutcome {
            var outcome: WriteOutcome = .unchanged
            _ = try store.importFile(BatchHeader(kind: .vision, fileName: "f", sha256: sha, fileBytes: 1, encoding: "UTF-8", profile: "p", ruleVersion: "t"),
                                     now: "now") { session in
                outcome = try session.write(vision: s, classification: c, schoolYear: 2024, line: 2)
                return .commit
            }
            return outcome
        }
        #expect(try batch("a", screening) == .inserted)
        #expect(try batch("b", screening) == .unchanged)
        var changed = screening
        changed.left.ucva = Acuity(tenths: 48)
        #expect(try batch("c", changed) == .updated)
        #expect(try store.counts() == (screenings: 1, revisions: 1, batches: 3))
        #expect(try batch("a", changed) == .unchanged)   // same SHA: not read again
        #expect(try store.counts().batches == 3)
    }
}

@Suite("Report counts")
struct ReportCountTests {
    /// The one-pass aggregation gives the same counts as plain SQL with a window function.
    @Test("reportData equals an independent SQL aggregation (earliest screening per student and year)")
    func matchesSQL() throws {
        let store = try Store.inMemory()
        let screenings: [(String, String, Int, Int?, Int)] = [   // student, date, complete, myopic, poor vision
            ("s1", "2023-09-10", 1, 1, 2), ("s1", "2024-03-01", 1, 0, 0),   // two in school year 2023: the first counts
            ("s1", "2024-09-10", 1, 1, 3), ("s2", "2023-09-12", 1, 0, 0), ("s2", "2024-09-12", 1, 1, 1),
            ("s3", "2023-09-12", 0, nil, 1), ("s3", "2024-09-12", 1, 0, 0), ("s4", "2023-09-15", 1, 0, 0),
        ]
        try store.queue.write { db in
            try db.execute(sql: "INSERT INTO import_batch (id, kind, file_name, file_sha256, file_bytes, encoding, profile, rule_version, imported_at) VALUES (1, 'vision', 'f', 'x', 1, 'UTF-8', 'p', 'r', 'now')")
            for calendarYear in Set(screenings.map { Int($0.1.prefix(4))! }) { try Partitions.create(db, .vision, year: calendarYear) }
            try Partitions.refreshView(db, .vision)
            for (i, s) in screenings.enumerated() {
                let year = Int(s.1.prefix(4))! - (Int(s.1.dropFirst(5).prefix(2))! < 9 ? 1 : 0)
                try db.execute(sql: """
                    INSERT INTO vision_screening_\(s.1.prefix(4)) (student_id, screening_date, school_year, school_code, grade, sex, glasses, myopic, poor_vision, complete, batch_id, source_line)
                    VALUES (?, ?, ?, 'S', 11, 1, 0, ?, ?, ?, 1, ?)
                    """, arguments: [s.0, s.1, year, s.3, s.4, s.2, i + 2])
            }
        }
        let data = try store.reportData(fromYear: 2023, toYear: 2024)
        let sql = try store.debugRows("""
            SELECT school_year, SUM(complete), SUM(complete = 1 AND myopic = 1), SUM(complete = 1 AND poor_vision > 0) FROM (
              SELECT *, ROW_NUMBER() OVER (PARTITION BY student_id, school_year ORDER BY screening_date) AS k FROM vision_screening)
            WHERE k = 1 GROUP BY school_year ORDER BY school_year
            """)
        for row in sql {
            let year = Int(row[0]!)!
            let myopia = data.strata.first { $0.measure == "myopia" && $0.year == year }!
            let poor = data.strata.first { $0.measure == "poor_vision" && $0.year == year }!
            #expect(myopia.denominator == Int(row[1]!)! && myopia.numerator == Int(row[2]!)!)
            #expect(poor.numerator == Int(row[3]!)!)
        }
        // Incidence 2023 → 2024: at risk s2, s4 (s1 myopic, s3 incomplete); followed s2; incident s2.
        #expect(data.followUps == [FollowUpCount(school: "S", fromYear: 2023, atRisk: 2, followed: 1, incident: 1)])
        // With the latest screening of a year: s1's 2023 is the March one (not myopic): at risk, followed, incident.
        let latest = try store.reportData(fromYear: 2023, toYear: 2024, latest: true)
        #expect(latest.followUps.first?.atRisk == 3 && latest.followUps.first?.incident == 2)
    }
}
