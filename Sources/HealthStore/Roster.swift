internal import HealthStorage
public import HealthRisk
public import HealthCore
internal import GRDB
import Foundation

/// What saving a list changed.
public struct RosterChange: Sendable, Equatable {
    public var batch: Int64 = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    /// Students listed before by another school, now on this one.
    public var moved = 0
    /// Set when the same file (SHA-256) was saved before: nothing changed.
    public var alreadyImported: (batch: Int64, at: Int)?

    public static func == (a: RosterChange, b: RosterChange) -> Bool {
        (a.batch, a.inserted, a.updated, a.unchanged, a.moved) == (b.batch, b.inserted, b.updated, b.unchanged, b.moved)
            && a.alreadyImported?.batch == b.alreadyImported?.batch
    }
}

extension Store {
    /// Saves a list in one transaction (all of it or nothing; `beforeCommit` runs inside it, so that the rejected
    /// rows are safe first). The same file again changes nothing. `actor`, when given, is logged.
    /// `rowsRead` and `rejected` are recorded with the batch; `school` is the school it was uploaded for, if one.
    public func saveRoster(_ entries: [RosterEntry], fileName: String, sha256: String, schoolYear: Int, school: String?, rowsRead: Int, rejected: Int,
                           actor: Actor?, beforeCommit: () throws -> Void) throws -> RosterChange {
        let now = Int(Date().timeIntervalSince1970)
        defer { reportInputsChanged() }
        do {
            return try queue.writeWithoutTransaction { db in
                var change = RosterChange()
                try db.inTransaction(.immediate) {
                    if let row = try Row.fetchOne(db, sql: "SELECT id, imported_at FROM roster_batch WHERE sha256 = ?", arguments: [sha256]) {
                        change.alreadyImported = (row[0], row[1])
                        change.batch = row[0]
                        return .commit
                    }
                    try db.execute(sql: """
                        INSERT INTO roster_batch (file_name, sha256, school_year, imported_at, school_code, account_id, rows_read, inserted, updated, unchanged, rejected)
                        VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?)
                        """, arguments: [fileName, sha256, schoolYear, now, school, actor?.accountID, rowsRead, rejected])
                    change.batch = db.lastInsertedRowID
                    let find = try db.makeStatement(sql: """
                        SELECT school_code, grade, class_code, class_name, sex, birth_date FROM roster_entry WHERE school_year = ? AND student_id = ?
                        """)
                    let put = try db.makeStatement(sql: """
                        INSERT INTO roster_entry (school_year, student_id, school_code, grade, class_code, class_name, sex, birth_date, batch_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (school_year, student_id) DO UPDATE SET school_code = excluded.school_code, grade = excluded.grade,
                            class_code = excluded.class_code, class_name = excluded.class_name, sex = excluded.sex,
                            birth_date = excluded.birth_date, batch_id = excluded.batch_id
                        """)
                    for e in entries {
                        if let old = try Row.fetchOne(find, arguments: [e.schoolYear, e.studentID]) {
                            let same = (old[0] as String) == e.school && (old[1] as Int) == e.grade && (old[2] as String?) == e.classCode
                                && (old[3] as String?) == e.className && (old[4] as Int) == e.sex && (old[5] as String?) == e.birthDate
                            if same { change.unchanged += 1; continue }
                            change.updated += 1
                            if (old[0] as String) != e.school { change.moved += 1 }
                        } else {
                            change.inserted += 1
                        }
                        try put.execute(arguments: [e.schoolYear, e.studentID, e.school, e.grade, e.classCode, e.className, e.sex, e.birthDate, change.batch])
                    }
                    try db.execute(sql: "UPDATE roster_batch SET inserted = ?, updated = ?, unchanged = ? WHERE id = ?",
                                   arguments: [change.inserted, change.updated, change.unchanged, change.batch])
                    if let actor {
                        try Ledger.append(db, store: self, at: now, actor: actor, action: "roster imported", caseID: nil,
                                          detail: "roster batch \(change.batch): \(entries.count) students, school year \(schoolYear)")
                    }
                    try beforeCommit()
                    return .commit
                }
                return change
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// A school's list for a year, by grade, class and student.
    public func roster(school: String, schoolYear: Int) throws -> [RosterEntry] {
        do {
            return try queue.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT school_year, student_id, school_code, grade, class_code, class_name, sex, birth_date FROM roster_entry
                    WHERE school_code = ? AND school_year = ? ORDER BY grade, class_code, class_name, student_id
                    """, arguments: [school, schoolYear]).map { r in
                    RosterEntry(schoolYear: r[0], studentID: r[1], school: r[2], grade: r[3], classCode: r[4], className: r[5], sex: r[6], birthDate: r[7])
                }
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }
}
