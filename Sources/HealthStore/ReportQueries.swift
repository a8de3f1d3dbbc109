public import HealthCore
internal import GRDB
internal import CSQLite
import Foundation

extension Store {
    /// Numerators and denominators of every report measure, per school, year, grade and sex, and the
    /// myopia follow-ups between consecutive years. Counts only — no student is identified.
    ///
    /// When a student has several screenings in a school year, the earliest (or, with `latest`, the last)
    /// counts. Each table is read once, in key order (student, date) — each year's table along its key
    /// index, the years merged — so one pass also links each student's years for incidence; no sort, and
    /// memory holds one student at a time.
    public func reportData(fromYear: Int, toYear: Int, latest: Bool = false) throws(StoreError) -> (strata: [StratumCount], followUps: [FollowUpCount]) {
        try run { db in
            let connection = db.sqliteConnection
            var aggregate = ReportAggregator()
            func failure(_ rc: Int32) -> StoreError {
                .sqlite(path: path, code: rc, message: String(cString: sqlite3_errmsg(connection)))
            }
            /// `sql` prepared, with the report's first and last school year bound to ?1 and ?2.
            func prepared(_ sql: String) throws -> OpaquePointer {
                var statement: OpaquePointer?
                guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                    sqlite3_finalize(statement)
                    throw failure(sqlite3_errcode(connection))
                }
                sqlite3_bind_int64(statement, 1, Int64(fromYear))
                sqlite3_bind_int64(statement, 2, Int64(toYear))
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
            /// each year's table is read in its key index's order and the years are merged. A date's calendar
            /// year holds school years `year - 1` and `year`, so only the years in [fromYear, toYear + 1] are read.
            func scanInKeyOrder(_ table: ScreeningTable, _ columns: String, _ body: (OpaquePointer) -> Void) throws {
                var cursors: [OpaquePointer] = []
                defer { for c in cursors { sqlite3_finalize(c) } }
                for part in try Partitions.all(db, table) where part.year >= fromYear && part.year <= toYear + 1 {
                    cursors.append(try prepared("""
                        SELECT student_id, screening_date, \(columns) FROM \(part.name)
                        WHERE school_year BETWEEN ?1 AND ?2 ORDER BY student_id, screening_date
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

            // Vision: key order; the counted screening per (student, year); follow-ups per student.
            var student = StudentTracker()
            try scanInKeyOrder(.vision, "school_year, school_code, grade, sex, complete, myopic, poor_vision, myopia_grade") { s in
                let row = VisionRow(year: Int(sqlite3_column_int64(s, 2)), school: aggregate.intern(bytes(s, 3)), grade: Int(sqlite3_column_int64(s, 4)),
                                    sex: Int(sqlite3_column_int64(s, 5)), complete: sqlite3_column_int64(s, 6) == 1, myopic: int(s, 7),
                                    poorVision: int(s, 8), grade3: int(s, 9) == 3)
                student.add(id: bytes(s, 0), row: row, latest: latest) { rows in aggregate.vision(rows, toYear: toYear) }
            }
            student.finish { rows in aggregate.vision(rows, toYear: toYear) }

            var spine = StudentTracker()
            try scanInKeyOrder(.spine, "school_year, school_code, grade, sex, complete, lateral_positive, sagittal_abnormal, abnormal") { s in
                let row = VisionRow(year: Int(sqlite3_column_int64(s, 2)), school: aggregate.intern(bytes(s, 3)), grade: Int(sqlite3_column_int64(s, 4)),
                                    sex: Int(sqlite3_column_int64(s, 5)), complete: sqlite3_column_int64(s, 6) == 1,
                                    myopic: int(s, 7), poorVision: int(s, 8), grade3: int(s, 9) == 1)
                spine.add(id: bytes(s, 0), row: row, latest: latest) { rows in aggregate.spine(rows) }
            }
            spine.finish { rows in aggregate.spine(rows) }

            try scan("""
                SELECT school_code, school_year, scoring_grade, sex, status, band, bmi_category
                FROM fitness_test WHERE school_year BETWEEN ?1 AND ?2
                """) { s in
                aggregate.fitness(school: aggregate.intern(bytes(s, 0)), year: Int(sqlite3_column_int64(s, 1)), grade: Int(sqlite3_column_int64(s, 2)),
                                  sex: Int(sqlite3_column_int64(s, 3)), status: Int(sqlite3_column_int64(s, 4)), band: int(s, 5), bmi: int(s, 6))
            }
            return aggregate.result()
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

/// One screening as the report pass reads it (vision; spine reuses the fields).
struct VisionRow {
    var year: Int
    var school: String
    var grade: Int
    var sex: Int
    var complete: Bool
    var myopic: Int?
    var poorVision: Int?
    /// Vision: high myopia. Spine: any abnormality.
    var grade3: Bool
}

/// Groups one student's rows (read in key order) and picks the counted screening of each school year.
/// SQLite's BINARY order of two texts: memcmp, then the shorter first.
enum ByteOrder {
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }
}

struct StudentTracker {
    private var current: [UInt8] = []
    private var rows: [VisionRow] = []

    mutating func add(id: UnsafeBufferPointer<UInt8>, row: VisionRow, latest: Bool, flush: ([VisionRow]) -> Void) {
        if current.withUnsafeBufferPointer({ ByteOrder.compare($0, id) }) != 0 {
            finish(flush)
            current = Array(id)
        }
        if let last = rows.last, last.year == row.year {
            if latest { rows[rows.count - 1] = row }   // key order is date order: the later screening replaces
        } else {
            rows.append(row)
        }
    }

    mutating func finish(_ flush: ([VisionRow]) -> Void) {
        if !rows.isEmpty { flush(rows) }
        rows.removeAll(keepingCapacity: true)
    }
}

/// Adds up counted screenings into strata.
struct ReportAggregator {
    struct Key: Hashable { var school: String; var year: Int; var grade: Int; var sex: Int }
    struct FollowKey: Hashable { var school: String; var year: Int }
    // Vision: screened, myopic, high, pvScreened, pv, pv1, pv2, pv3 / spine: screened, lateral, sagittal, abnormal /
    // fitness: scored, good, pass, fail, measured, overweight, obese, tested, exempt.
    var vision: [Key: [Int]] = [:]
    var spineCounts: [Key: [Int]] = [:]
    var fitnessCounts: [Key: [Int]] = [:]
    var follow: [FollowKey: (atRisk: Int, followed: Int, incident: Int)] = [:]
    private var schools: [String] = []
    private var lastSchool: (bytes: [UInt8], string: String) = ([], "")

    /// One String per school code, not one per row.
    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if lastSchool.bytes.withUnsafeBufferPointer({ ByteOrder.compare($0, bytes) }) == 0 { return lastSchool.string }
        let s = String(decoding: bytes, as: UTF8.self)
        lastSchool = (Array(bytes), s)
        return s
    }

    mutating func vision(_ rows: [VisionRow], toYear: Int) {
        for (i, r) in rows.enumerated() {
            let key = Key(school: r.school, year: r.year, grade: r.grade, sex: r.sex)
            var c = vision[key] ?? Array(repeating: 0, count: 8)
            if r.complete {
                c[0] += 1
                if r.myopic == 1 { c[1] += 1 }
                if r.grade3 { c[2] += 1 }
                if let pv = r.poorVision {
                    c[3] += 1
                    if pv > 0 { c[4] += 1 }
                    if (1...3).contains(pv) { c[4 + pv] += 1 }
                }
            }
            vision[key] = c
            // Incidence: not myopic at a complete screening, followed to the next school year.
            if r.complete, r.myopic == 0, r.year < toYear {
                let f = FollowKey(school: r.school, year: r.year)
                var counts = follow[f] ?? (0, 0, 0)
                counts.atRisk += 1
                if i + 1 < rows.count, rows[i + 1].year == r.year + 1, rows[i + 1].complete {
                    counts.followed += 1
                    if rows[i + 1].myopic == 1 { counts.incident += 1 }
                }
                follow[f] = counts
            }
        }
    }

    mutating func spine(_ rows: [VisionRow]) {
        for r in rows {
            let key = Key(school: r.school, year: r.year, grade: r.grade, sex: r.sex)
            var c = spineCounts[key] ?? Array(repeating: 0, count: 4)
            if r.complete {
                c[0] += 1
                if r.myopic == 1 { c[1] += 1 }        // lateral_positive
                if r.poorVision == 1 { c[2] += 1 }    // sagittal_abnormal
                if r.grade3 { c[3] += 1 }             // abnormal
            }
            spineCounts[key] = c
        }
    }

    mutating func fitness(school: String, year: Int, grade: Int, sex: Int, status: Int, band: Int?, bmi: Int?) {
        let key = Key(school: school, year: year, grade: grade, sex: sex)
        var c = fitnessCounts[key] ?? Array(repeating: 0, count: 9)
        if status == 0 {
            c[0] += 1
            if let band {
                if band <= 1 { c[1] += 1 }
                if band <= 2 { c[2] += 1 }
                if band == 3 { c[3] += 1 }
            }
        }
        if let bmi {
            c[4] += 1
            if bmi == 2 { c[5] += 1 }
            if bmi == 3 { c[6] += 1 }
        }
        c[7] += 1
        if status == 2 { c[8] += 1 }
        fitnessCounts[key] = c
    }

    func result() -> (strata: [StratumCount], followUps: [FollowUpCount]) {
        var out: [StratumCount] = []
        func emit(_ table: [Key: [Int]], _ measures: [(String, Int, Int)]) {
            for (k, c) in table.sorted(by: { ($0.key.school, $0.key.year, $0.key.grade, $0.key.sex) < ($1.key.school, $1.key.year, $1.key.grade, $1.key.sex) }) {
                for (measure, num, den) in measures where c[den] > 0 || c[num] > 0 {
                    out.append(StratumCount(measure: measure, school: k.school, year: k.year, grade: k.grade, sex: k.sex, numerator: c[num], denominator: c[den]))
                }
            }
        }
        emit(vision, [("myopia", 1, 0), ("high_myopia", 2, 0), ("poor_vision", 4, 3), ("poor_vision_mild", 5, 3),
                      ("poor_vision_moderate", 6, 3), ("poor_vision_severe", 7, 3)])
        emit(spineCounts, [("spine_lateral_positive", 1, 0), ("spine_sagittal_abnormal", 2, 0), ("spine_abnormal", 3, 0)])
        emit(fitnessCounts, [("fitness_excellent_good", 1, 0), ("fitness_pass", 2, 0), ("fitness_fail", 3, 0),
                             ("overweight", 5, 4), ("obesity", 6, 4), ("fitness_exempt", 8, 7)])
        let followUps = follow.sorted { ($0.key.school, $0.key.year) < ($1.key.school, $1.key.year) }.map {
            FollowUpCount(school: $0.key.school, fromYear: $0.key.year, atRisk: $0.value.atRisk, followed: $0.value.followed, incident: $0.value.incident)
        }
        return (out, followUps)
    }
}
