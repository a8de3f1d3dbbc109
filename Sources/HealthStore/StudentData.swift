internal import HealthStorage
import HealthCore
public import HealthRisk
internal import GRDB
public import Foundation

/// What `student erase` removed.
public struct ErasureReport: Sendable, Codable, Equatable {
    public var screeningRows: Int
    public var closedCases: Int
    /// Open cases are not erased while the crisis work goes on; they can be once closed.
    public var openCasesKept: Int
}

/// A student's and guardian's rights under PIPL (arts. 44–47): to see what is held, and to have it erased.
/// Served by the counsellor of a school that has the student on its records, for what that school holds.
extension Store {
    /// Tables with a student's rows per school (screenings by year, the old name-based grid), found in the schema.
    static func studentTables(_ db: Database) throws -> [String] {
        let skip: Set<String> = ["psych_case", "psych_flag", "mentor_of", "audit_event", "account"]
        return try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").filter { t in
            guard !skip.contains(t) else { return false }
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(t.quotedDatabaseIdentifier))").map { $0["name"] as String }
            return columns.contains("student_id") && columns.contains("school_code")
        }
    }

    /// Everything the actor's school holds about one student, as one JSON object (audited).
    public func exportStudent(actor: Actor, student: String, at requested: Int? = nil) throws -> Data {
        try serveDataRequest(actor: actor, student: student, at: requested, refusal: "refused export") { db, now, school in
                func rows(_ sql: String, _ args: StatementArguments) throws -> [[String: String?]] {
                    try Row.fetchAll(db, sql: sql, arguments: args).map { r in
                        Dictionary(uniqueKeysWithValues: r.columnNames.map { ($0, Ledger.text(r[$0] as DatabaseValue)) })
                    }
                }
                var screenings: [String: [[String: String?]]] = [:]
                for t in try Self.studentTables(db) {
                    let found = try rows("SELECT * FROM \(t.quotedDatabaseIdentifier) WHERE student_id = ? AND school_code = ?", [student, school])
                    if !found.isEmpty { screenings[t] = found }
                }
                let caseIDs = try Int64.fetchAll(db, sql: "SELECT id FROM psych_case WHERE student_id = ? AND school_code = ? ORDER BY id", arguments: [student, school])
                var cases: [[String: [[String: String?]]]] = []
                for id in caseIDs {
                    cases.append([
                        "case": try rows("SELECT * FROM psych_case WHERE id = ?", [id]),
                        "flags": try rows("SELECT * FROM psych_flag WHERE case_id = ? ORDER BY id", [id]),
                        "transitions": try rows("SELECT * FROM case_transition WHERE case_id = ? ORDER BY id", [id]),
                        // Who looked at the case and did what (PIPL art. 44: the right to know how data is processed).
                        "accessLog": try rows("SELECT seq, at, clock, actor_role, actor_org, action FROM audit_event WHERE case_id = ? ORDER BY seq", [id]),
                    ])
                }
                let mentors = try rows("SELECT a.login AS mentor, a.display_name AS name, m.class_name, m.role FROM mentor_of m JOIN account a ON a.id = m.account_id WHERE m.student_id = ? AND m.school_code = ?", [student, school])
                struct Export: Encodable {
                    var student: String, school: String, exportedAt: String, exportedBy: String
                    var screenings: [String: [[String: String?]]]
                    var cases: [[String: [[String: String?]]]]
                    var mentors: [[String: String?]]
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                let data = try encoder.encode(Export(student: student, school: school, exportedAt: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(now))),
                                                     exportedBy: actor.user, screenings: screenings, cases: cases, mentors: mentors))
                try Ledger.append(db, store: self, at: now, actor: actor, action: "student data exported", caseID: nil,
                                  detail: "student \(student): \(screenings.values.reduce(0) { $0 + $1.count }) screening row(s), \(cases.count) case(s)")
                return data
        }
    }

    /// Erases what the actor's school holds about a student: screenings and scores (with their revision history),
    /// closed cases with their flags and transitions, and mentor links. Open cases stay until closed. The audit
    /// log keeps a tombstone without personal data (counts and case numbers); reports simply no longer count the rows.
    public func eraseStudent(actor: Actor, student: String, at requested: Int? = nil) throws -> ErasureReport {
        defer { reportInputsChanged() }
        return try serveDataRequest(actor: actor, student: student, at: requested, refusal: "refused erasure") { db, now, school in
                var report = ErasureReport(screeningRows: 0, closedCases: 0, openCasesKept: 0)
                var carry = try ReportTally.Carry.begin(db)
                if try carry?.touch(db, student: student, skipping: []) == false { carry = nil }
                for t in try Self.studentTables(db) {
                    let ids = try Int64.fetchAll(db, sql: "SELECT rowid FROM \(t.quotedDatabaseIdentifier) WHERE student_id = ? AND school_code = ?", arguments: [student, school])
                    guard !ids.isEmpty else { continue }
                    let logical = t.range(of: #"_[0-9]{4}$"#, options: .regularExpression).map { String(t[..<$0.lowerBound]) } ?? t
                    for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min(ids.count, $0 + 500)]) }) {
                        let marks = chunk.map { _ in "?" }.joined(separator: ",")
                        try db.execute(sql: "DELETE FROM revision WHERE table_name IN (?, ?) AND row_id IN (\(marks))",
                                       arguments: StatementArguments([t, logical] as [any DatabaseValueConvertible] + chunk))
                    }
                    try db.execute(sql: "DELETE FROM \(t.quotedDatabaseIdentifier) WHERE student_id = ? AND school_code = ?", arguments: [student, school])
                    report.screeningRows += ids.count
                }
                if report.screeningRows > 0 {
                    try ReportTally.moveOn(db)
                    try carry?.finish(db)
                }
                var subjects: [AuditSubject] = []
                let closed = try Int64.fetchAll(db, sql: "SELECT id FROM psych_case WHERE student_id = ? AND school_code = ? AND state = 'closed' ORDER BY id", arguments: [student, school])
                for id in closed {
                    for (table, key) in [("override_review", "case_id"), ("case_transition", "case_id"), ("psych_flag", "case_id")] {
                        let rowids = try Int64.fetchAll(db, sql: "SELECT rowid FROM \(table) WHERE \(key) = ?", arguments: [id])
                        subjects += rowids.map { AuditSubject(table: table, id: $0, digest: nil) }
                        try db.execute(sql: "DELETE FROM \(table) WHERE \(key) = ?", arguments: [id])
                    }
                    try db.execute(sql: "DELETE FROM psych_case WHERE id = ?", arguments: [id])
                    subjects.append(AuditSubject(table: "psych_case", id: id, digest: nil))
                }
                report.closedCases = closed.count
                report.openCasesKept = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM psych_case WHERE student_id = ? AND school_code = ?", arguments: [student, school]) ?? 0
                try db.execute(sql: "DELETE FROM mentor_of WHERE student_id = ? AND school_code = ?", arguments: [student, school])
                // The tombstone: what was erased and by whom, never whose.
                try Ledger.append(db, store: self, at: now, actor: actor, action: "student data erased", caseID: nil,
                                  detail: "\(report.screeningRows) screening row(s), \(report.closedCases) closed case(s)\(closed.isEmpty ? "" : " (\(closed.map(String.init).joined(separator: ", ")))"), \(report.openCasesKept) open case(s) kept",
                                  subjects: subjects)
                return report
        }
    }

    /// Checks that the actor's school has the student on its records, runs `body` in one transaction with the
    /// time and the school, and logs a refusal in its own transaction.
    private func serveDataRequest<T>(actor: Actor, student: String, at requested: Int?, refusal: String,
                                     _ body: (Database, Int, String) throws -> T) throws -> T {
        let now = try clock(requested)
        do {
            return try write { db in
                let school = actor.organisation
                guard Access.canServeDataRequest(actor, studentKnownAtOwnSchool: try CaseRows.isKnown(db, student: student, school: school)) else {
                    throw CaseError.noSuchStudent(student)
                }
                return try body(db, now, school)
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: refusal, caseID: nil, detail: "\(error)")
            throw error
        }
    }
}
