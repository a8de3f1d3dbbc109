internal import HealthStorage
public import HealthRisk
internal import GRDB
import Foundation

/// One batch as a school's import history shows it.
public struct UploadRecord: Sendable, Codable, Equatable {
    public var batch: Int64
    public var kind: String
    public var fileName: String
    public var uploadedAt: Int
    public var uploadedBy: String
    public var rowsRead: Int
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    public var rejected: Int
}

extension Store {
    /// Records that `actor` uploaded `batch` for `school` (logged).
    public func recordUpload(batch: Int64, school: String, actor: Actor) throws {
        guard let account = actor.accountID else { throw CaseError.notPermitted("uploads are made by an account") }
        let now = Int(Date().timeIntervalSince1970)
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO batch_upload (batch_id, account_id, school_code, uploaded_at) VALUES (?, ?, ?, ?)",
                           arguments: [batch, account, school, now])
            try Ledger.append(db, store: self, at: now, actor: actor, action: "upload", caseID: nil, detail: "batch \(batch) for \(school)")
        }
    }

    /// A school's uploads, newest first (its nurse only; the listing is logged).
    public func uploads(school: String, actor: Actor, limit: Int = 100) throws -> [UploadRecord] {
        guard Access.canImport(actor, school: school) else { throw CaseError.notPermitted("a school's import history is its nurse's") }
        return try write { db in
            try Ledger.append(db, store: self, at: Int(Date().timeIntervalSince1970), actor: actor, action: "uploads listed", caseID: nil, detail: school)
            // Screenings, student lists (kind roster) and clinics' results (kind results); their batches are numbered apart.
            return try Row.fetchAll(db, sql: """
                SELECT * FROM (
                    SELECT u.batch_id, b.kind, b.file_name, u.uploaded_at, a.login, b.rows_read, b.inserted, b.updated, b.unchanged, b.rejected
                    FROM batch_upload u JOIN import_batch b ON b.id = u.batch_id JOIN account a ON a.id = u.account_id
                    WHERE u.school_code = ?
                    UNION ALL
                    SELECT r.id, 'roster', r.file_name, r.imported_at, a.login, r.rows_read, r.inserted, r.updated, r.unchanged, r.rejected
                    FROM roster_batch r JOIN account a ON a.id = r.account_id
                    WHERE r.school_code = ?
                    UNION ALL
                    SELECT c.id, 'results', c.file_name, c.imported_at, a.login, c.rows_read, c.inserted, c.updated, c.unchanged, c.rejected
                    FROM clinic_batch c JOIN account a ON a.id = c.account_id
                    WHERE c.school_code = ?
                ) ORDER BY 4 DESC, 1 DESC LIMIT ?
                """, arguments: [school, school, school, limit]).map { r in
                UploadRecord(batch: r[0], kind: r[1], fileName: r[2], uploadedAt: r[3], uploadedBy: r[4], rowsRead: r[5],
                             inserted: r[6], updated: r[7], unchanged: r[8], rejected: r[9])
            }
        }
    }
}
