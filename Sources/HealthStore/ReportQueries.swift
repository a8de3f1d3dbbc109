internal import HealthStorage
public import HealthCore
internal import GRDB
internal import CSQLite
import Foundation
import Synchronization

extension Store {
    /// Numerators and denominators of every report measure, per school, year, grade and sex, and the
    /// myopia follow-ups between consecutive years. Counts only — no student is identified.
    ///
    /// When a student has several screenings in a school year, the earliest (or, with `latest`, the last)
    /// counts. The counts of every year are kept in the database (`report_tally`) with the generation of the
    /// screenings they were counted at; while no import batch or erasure has moved it on, they are read back
    /// (a few thousand rows) instead of counted again. Counting reads each table once, in key order (student,
    /// date) along its covering key index — each year's table, the years merged — so one pass also links each
    /// student's years for incidence; no sort, and memory holds one student at a time.
    public func reportData(fromYear: Int, toYear: Int, latest: Bool = false) throws(StoreError) -> (strata: [StratumCount], followUps: [FollowUpCount]) {
        let all = try reportCounts(latest: latest)
        return (all.strata.filter { $0.year >= fromYear && $0.year <= toYear },
                all.followUps.filter { $0.fromYear >= fromYear && $0.fromYear < toYear })
    }

    /// The counts of every year: kept ones when they are of the current generation, else counted (and kept).
    func reportCounts(latest: Bool) throws(StoreError) -> ReportTally.Counts {
        let kept: (generation: Int64, counts: ReportTally.Counts?) = try run { db in
            let generation = try ReportTally.generation(db)
            return (generation, try ReportTally.read(db, latest: latest, generation: generation))
        }
        let all: ReportTally.Counts
        if let counts = kept.counts {
            all = counts
        } else {
            all = try countReport(latest: latest)
            // Kept for the next report unless the screenings moved on meanwhile (or another writer holds the lock:
            // then the next report counts again).
            do {
                try queue.write { db in
                    guard try ReportTally.generation(db) == kept.generation else { return }
                    try ReportTally.write(db, all, latest: latest, generation: kept.generation)
                }
            } catch {
                // Keeping the counts is an optimisation: a failure to keep them changes no answer.
            }
        }
        return all
    }

    /// A full count of every year, ignoring the kept counts (what the kept counts must always equal).
    package func recountReport(latest: Bool = false) throws(StoreError) -> (strata: [StratumCount], followUps: [FollowUpCount], years: [Int]) {
        let c = try countReport(latest: latest)
        return (c.strata, c.followUps, c.years)
    }

    /// Whether counts are kept at the screenings' current generation (a report then reads them instead of counting).
    package func reportCountsAreCurrent(latest: Bool = false) throws(StoreError) -> Bool {
        try run { db in try ReportTally.isKept(db, latest: latest, generation: ReportTally.generation(db)) }
    }

    /// Counts every year (the kept counts are of all years; a report picks its range from them).
    func countReport(latest: Bool) throws(StoreError) -> ReportTally.Counts {
        try runLong { db in
            let connection = db.sqliteConnection
            var aggregate = ReportAggregator()
            func failure(_ rc: Int32) -> StoreError {
                .sqlite(path: path, code: rc, message: String(cString: sqlite3_errmsg(connection)))
            }
            func prepared(_ sql: String) throws -> OpaquePointer {
                var statement: OpaquePointer?
                guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                    sqlite3_finalize(statement)
                    throw failure(sqlite3_errcode(connection))
                }
                return statement
            }
            /// Steps to the next row: false when there is none.
            func step(_ statement: OpaquePointer) throws -> Bool {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_ROW { return true }
                guard rc == SQLITE_DONE else { throw failure(rc) }
                return false
            }
            func scan(_ sql: String, _ body: (OpaquePointer) -> Void) throws {
                let statement = try prepared(sql)
                defer { sqlite3_finalize(statement) }
                while try step(statement) { body(statement) }
            }
            func int(_ s: OpaquePointer, _ i: Int32) -> Int? { sqlite3_column_type(s, i) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(s, i)) }
            func bytes(_ s: OpaquePointer, _ i: Int32) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(start: sqlite3_column_text(s, i), count: Int(sqlite3_column_bytes(s, i)))
            }
            /// Rows of a table stored by calendar year, as student_id, screening_date, then `columns`, in key order:
            /// each year's table is read along its key index (which covers `columns`) and the years are merged.
            func scanInKeyOrder(_ table: ScreeningTable, _ body: (OpaquePointer) -> Void) throws {
                var cursors: [OpaquePointer] = []
                defer { for c in cursors { sqlite3_finalize(c) } }
                let columns = (table.reportColumns ?? []).joined(separator: ", ")
                for part in try Partitions.all(db, table) {
                    cursors.append(try prepared("""
                        SELECT student_id, screening_date, \(columns) FROM \(part.name) ORDER BY student_id, screening_date
                        """))
                }
                /// A cursor on its current row, with that row's key (valid until the cursor steps).
                struct Head { let statement: OpaquePointer; var student: UnsafeBufferPointer<UInt8>; var date: UnsafeBufferPointer<UInt8> }
                func advance(_ c: OpaquePointer) throws -> Head? {
                    try step(c) ? Head(statement: c, student: bytes(c, 0), date: bytes(c, 1)) : nil
                }
                var live = try cursors.compactMap(advance)
                while !live.isEmpty {
                    var next = 0
                    for i in live.indices.dropFirst() {
                        let order = ByteOrder.compare(live[i].student, live[next].student)
                        if order < 0 || (order == 0 && ByteOrder.compare(live[i].date, live[next].date) < 0) { next = i }
                    }
                    body(live[next].statement)
                    if let head = try advance(live[next].statement) { live[next] = head } else { live.remove(at: next) }
                }
            }
            func row(_ s: OpaquePointer) -> CountedRow {
                CountedRow(year: Int32(truncatingIfNeeded: sqlite3_column_int64(s, 2)), school: aggregate.intern(bytes(s, 3)),
                           grade: Int16(truncatingIfNeeded: sqlite3_column_int64(s, 4)), sex: Int8(truncatingIfNeeded: sqlite3_column_int64(s, 5)),
                           complete: sqlite3_column_int64(s, 6) == 1, a: Int8(truncatingIfNeeded: int(s, 7) ?? -1),
                           b: Int8(truncatingIfNeeded: int(s, 8) ?? -1), c: Int8(truncatingIfNeeded: int(s, 9) ?? -1))
            }

            // Vision: key order; the counted screening per (student, year); follow-ups per student.
            var student = StudentTracker()
            try scanInKeyOrder(.vision) { s in
                student.add(id: bytes(s, 0), row: row(s), latest: latest) { rows in aggregate.vision(rows) }
            }
            student.finish { rows in aggregate.vision(rows) }

            var spine = StudentTracker()
            try scanInKeyOrder(.spine) { s in
                spine.add(id: bytes(s, 0), row: row(s), latest: latest) { rows in aggregate.spine(rows) }
            }
            spine.finish { rows in aggregate.spine(rows) }

            try scan("SELECT school_code, school_year, scoring_grade, sex, status, band, bmi_category FROM fitness_test") { s in
                aggregate.fitness(school: aggregate.intern(bytes(s, 0)), year: Int(sqlite3_column_int64(s, 1)), grade: Int(sqlite3_column_int64(s, 2)),
                                  sex: Int(sqlite3_column_int64(s, 3)), status: Int(sqlite3_column_int64(s, 4)), band: int(s, 5), bmi: int(s, 6))
            }
            return aggregate.result()
        }
    }

    /// What a report view reads before anything else, in one read: the change stamp, the years of the kept counts
    /// (nil when they are out of date) and the schools.
    public func reportState() throws(StoreError) -> (stamp: [Int64], years: [Int]?, schools: [School]) {
        let read: (Int64, [Int]?, [School]) = try run { db in
            let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
            return (version, try ReportTally.keptYears(db, latest: false), try schoolRows(db))
        }
        return ([read.0, Int64(reportGeneration.load(ordering: .acquiring))], read.1, read.2)
    }

    /// The school years present, oldest first (from the kept counts: every year a screening was counted in).
    public func reportYears() throws(StoreError) -> [Int] {
        if let kept = try run({ db in try ReportTally.keptYears(db, latest: false) }) { return kept }
        return try reportCounts(latest: false).years
    }
}

/// The report's counts kept in the database (`report_tally`, v11), with the generation of the screenings they
/// were counted at. Every import batch (a trigger on `import_batch`) and every erasure moves the generation on.
enum ReportTally {
    typealias Counts = CountedReport

    static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT n FROM report_generation WHERE id = 1") ?? 0
    }

    /// Marks every kept count out of date (in the caller's transaction).
    static func moveOn(_ db: Database) throws {
        try db.execute(sql: "UPDATE report_generation SET n = n + 1 WHERE id = 1")
    }

    /// The counts kept at `generation`, or nil when there are none at it.
    static func read(_ db: Database, latest: Bool, generation: Int64) throws -> Counts? {
        guard try isKept(db, latest: latest, generation: generation) else { return nil }
        let strata = try Row.fetchAll(db, sql: """
            SELECT measure, school_code, school_year, grade, sex, numerator, denominator FROM report_tally WHERE latest = ? ORDER BY rowid
            """, arguments: [latest]).map {
            StratumCount(measure: $0[0], school: $0[1], year: $0[2], grade: $0[3], sex: $0[4], numerator: $0[5], denominator: $0[6])
        }
        let follow = try Row.fetchAll(db, sql: """
            SELECT school_code, from_year, at_risk, followed, incident FROM report_tally_follow WHERE latest = ? ORDER BY rowid
            """, arguments: [latest]).map {
            FollowUpCount(school: $0[0], fromYear: $0[1], atRisk: $0[2], followed: $0[3], incident: $0[4])
        }
        return Counts(strata: strata, followUps: follow, years: try years(db, latest: latest))
    }

    /// Whether the counts kept are of `generation`.
    static func isKept(_ db: Database, latest: Bool, generation: Int64) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT generation FROM report_tally_state WHERE latest = ?", arguments: [latest]) == generation
    }

    /// The years of the counts kept, when they are of the current generation (else nil).
    static func keptYears(_ db: Database, latest: Bool) throws -> [Int]? {
        try isKept(db, latest: latest, generation: generation(db)) ? years(db, latest: latest) : nil
    }

    private static func years(_ db: Database, latest: Bool) throws -> [Int] {
        try Int.fetchAll(db, sql: "SELECT school_year FROM report_tally_year WHERE latest = ? ORDER BY school_year", arguments: [latest])
    }

    /// What `students` add to the counts (each student's counts depend on that student's rows alone: the counted
    /// screening of each year, and the follow-up from one year to the next), read along the key indexes.
    /// Tables in `skipping` are left out (a table being bulk-loaded has no index yet, and held nothing before).
    static func add(_ db: Database, students: some Collection<String>, skipping: Set<String> = [], into aggregate: inout ReportAggregator) throws {
        let parts = [ScreeningTable.vision.name: try Partitions.all(db, .vision), ScreeningTable.spine.name: try Partitions.all(db, .spine)]
        let fitnessParts = try Partitions.all(db, .fitness)
        func rows(_ table: ScreeningTable, _ student: String, _ body: (Row) -> Void) throws {
            guard let columns = table.reportColumns else { return }
            for part in parts[table.name] ?? [] where !skipping.contains(part.name) {
                let cursor = try Row.fetchCursor(db.cachedStatement(sql: """
                    SELECT screening_date, \(columns.joined(separator: ", ")) FROM \(part.name) WHERE student_id = ? ORDER BY screening_date
                    """), arguments: [student])
                while let row = try cursor.next() { body(row) }
            }
        }
        func counted(_ row: Row) -> CountedRow {
            CountedRow(year: Int32(row[1] as Int), school: aggregate.intern(row[2] as String), grade: Int16(row[3] as Int), sex: Int8(row[4] as Int),
                       complete: (row[5] as Int) == 1, a: Int8((row[6] as Int?) ?? -1), b: Int8((row[7] as Int?) ?? -1), c: Int8((row[8] as Int?) ?? -1))
        }
        for student in students {
            let id = Array(student.utf8)
            try id.withUnsafeBufferPointer { id in
                // Each year's table in year order, each by date: the student's rows in date order.
                for (table, isVision) in [(ScreeningTable.vision, true), (.spine, false)] {
                    var tracker = StudentTracker()
                    func flush(_ rows: [CountedRow]) { if isVision { aggregate.vision(rows) } else { aggregate.spine(rows) } }
                    try rows(table, student) { row in
                        let r = counted(row)
                        tracker.add(id: id, row: r, latest: false, flush: flush)
                    }
                    tracker.finish(flush)
                }
            }
            for part in fitnessParts where !skipping.contains(part.name) {
                let cursor = try Row.fetchCursor(db.cachedStatement(sql: """
                    SELECT school_code, school_year, scoring_grade, sex, status, band, bmi_category FROM \(part.name) WHERE student_id = ?
                    """), arguments: [student])
                while let r = try cursor.next() {
                    aggregate.fitness(school: aggregate.intern(r[0] as String), year: r[1], grade: r[2], sex: r[3], status: r[4], band: r[5], bmi: r[6])
                }
            }
        }
    }


    /// Kept counts carried across a write of a few students' rows: what those students counted before the write
    /// is taken away and what they count after it is added, in the write's own transaction, so that the next
    /// report reads counts that equal a full count without making one. A write of more students than
    /// `studentLimit` (a county's whole year) leaves the counts to the next report's full count instead.
    struct Carry {
        static let studentLimit = 10_000
        /// A file larger than this (about 10,000 rows, more than a school's year) is not carried: looking up each
        /// student's counts before and after would hold the write lock longer than counting at the next report.
        static let fileBytesLimit = 1 << 20
        let kept: Counts
        private var before = ReportAggregator()
        private(set) var students: Set<String> = []

        /// The counts kept at the database's current generation, to carry (nil when none are kept at it).
        static func begin(_ db: Database) throws -> Carry? {
            guard let kept = try ReportTally.read(db, latest: false, generation: try ReportTally.generation(db)) else { return nil }
            return Carry(kept: kept)
        }

        private init(kept: Counts) { self.kept = kept }

        /// Records `student`'s counts before the write touches their rows (call before each first write of a
        /// student). False when the write has grown past the limit: stop carrying.
        mutating func touch(_ db: Database, student: String, skipping: Set<String>) throws -> Bool {
            guard !students.contains(student) else { return true }
            guard students.count < Self.studentLimit else { return false }
            students.insert(student)
            try ReportTally.add(db, students: [student], skipping: skipping, into: &before)
            return true
        }

        /// Keeps the carried counts at the database's current generation (after the write moved it on).
        func finish(_ db: Database) throws {
            var after = ReportAggregator()
            try ReportTally.add(db, students: students, into: &after)
            try ReportTally.write(db, kept.replacing(before.result(), with: after.result()), latest: false, generation: try ReportTally.generation(db))
        }
    }

    static func write(_ db: Database, _ counts: Counts, latest: Bool, generation: Int64) throws {
        try db.execute(sql: "DELETE FROM report_tally WHERE latest = ?", arguments: [latest])
        try db.execute(sql: "DELETE FROM report_tally_follow WHERE latest = ?", arguments: [latest])
        try db.execute(sql: "DELETE FROM report_tally_year WHERE latest = ?", arguments: [latest])
        for y in counts.years {
            try db.execute(sql: "INSERT INTO report_tally_year (latest, school_year) VALUES (?, ?)", arguments: [latest, y])
        }
        let stratum = try db.makeStatement(sql: """
            INSERT INTO report_tally (latest, measure, school_code, school_year, grade, sex, numerator, denominator) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for s in counts.strata {
            try stratum.execute(arguments: [latest, s.measure, s.school, s.year, s.grade, s.sex, s.numerator, s.denominator])
        }
        let follow = try db.makeStatement(sql: """
            INSERT INTO report_tally_follow (latest, school_code, from_year, at_risk, followed, incident) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for f in counts.followUps {
            try follow.execute(arguments: [latest, f.school, f.fromYear, f.atRisk, f.followed, f.incident])
        }
        try db.execute(sql: "INSERT OR REPLACE INTO report_tally_state (latest, generation) VALUES (?, ?)", arguments: [latest, generation])
    }
}
