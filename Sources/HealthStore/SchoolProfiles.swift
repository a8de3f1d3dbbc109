internal import HealthStorage
public import HealthRisk
internal import GRDB
import Foundation

/// A column profile a school saved (the web's mapping step): the YAML text `Config/profiles` would hold.
public struct SchoolProfile: Sendable, Codable, Equatable {
    public var school: String
    public var name: String
    public var kind: String
    public var yaml: String
    public var savedBy: String
    public var savedAt: Int
}

extension Store {
    /// Saves (or replaces) a profile of `school`; only the school's nurse may (logged).
    public func saveSchoolProfile(school: String, name: String, kind: String, yaml: String, actor: Actor) throws {
        guard Access.canImport(actor, school: school), let account = actor.accountID else {
            throw CaseError.notPermitted("a school's column profiles are saved by its nurse")
        }
        let now = Int(Date().timeIntervalSince1970)
        try write { db in
            try db.execute(sql: """
                INSERT INTO school_profile (school_code, name, kind, yaml, account_id, saved_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (school_code, name) DO UPDATE SET kind = excluded.kind, yaml = excluded.yaml,
                    account_id = excluded.account_id, saved_at = excluded.saved_at
                """, arguments: [school, name, kind, yaml, account, now])
            try Ledger.append(db, store: self, at: now, actor: actor, action: "profile saved", caseID: nil, detail: "\(name) for \(school)")
        }
    }

    /// The profiles `school` saved, oldest first (read by its imports; they hold no student data).
    public func schoolProfiles(school: String) throws -> [SchoolProfile] {
        do {
            return try queue.read { db in try Row.fetchAll(db, sql: """
                SELECT p.school_code, p.name, p.kind, p.yaml, a.login, p.saved_at FROM school_profile p JOIN account a ON a.id = p.account_id
                WHERE p.school_code = ? ORDER BY p.saved_at, p.name
                """, arguments: [school]).map { r in
                SchoolProfile(school: r[0], name: r[1], kind: r[2], yaml: r[3], savedBy: r[4], savedAt: r[5])
            } }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }
}
