internal import HealthStorage
import HealthCore
public import HealthRisk
internal import GRDB
import Foundation

/// A registered account, as `users list` shows it (never its credentials).
public struct Account: Sendable, Codable, Equatable {
    public var id: Int64
    public var login: String
    public var name: String
    public var role: Role
    public var organisation: String
    public var hasPassword: Bool
    public var hasToken: Bool
    public var createdAt: Int
    public var disabledAt: Int?
}

/// A new or reset credential, shown once.
public struct IssuedCredentials: Sendable, Equatable {
    public var account: Account
    /// The token for scripts (`SCHOOLHEALTH_TOKEN`), when one was asked for.
    public var token: String?
}

extension Store {
    /// The acting account of a token, or `CaseError.authenticationFailed` (logged, like every failure).
    public func authenticate(token: String) throws -> Actor {
        guard let key = auditKey else { throw StoreError.auditKeyMissing(path: auditKeyPath) }
        let row = try AccessToken.accountID(of: token).flatMap { id in
            try run { db in try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ?", arguments: [id]) }
        }
        guard let row, let stored: String = row["token_digest"], AccessToken.verify(token, against: stored, key: key),
              (row["disabled_at"] as Int?) == nil else {
            try auditSeparately(at: Int(Date().timeIntervalSince1970), actor: .system("authentication"), action: "login failed", caseID: nil,
                                detail: "token for account \(AccessToken.accountID(of: token).map(String.init) ?? "?")")
            throw CaseError.authenticationFailed
        }
        return Self.actor(row)
    }

    /// The acting account of a login and password, or `CaseError.authenticationFailed` (logged).
    public func authenticate(login: String, password: String) throws -> Actor {
        let row = try run { db in try Row.fetchOne(db, sql: "SELECT * FROM account WHERE login = ?", arguments: [login]) }
        // Without an account, still spend the time of one check, so that a wrong login and a wrong password look alike.
        let stored: String = row?["password_kdf"] ?? Self.decoyHash
        let matches = PasswordHash.verify(password, against: stored)
        guard let row, matches, row["password_kdf"] as String? != nil, (row["disabled_at"] as Int?) == nil else {
            try auditSeparately(at: Int(Date().timeIntervalSince1970), actor: .system("authentication"), action: "login failed", caseID: nil,
                                detail: "login \(login.prefix(64))")
            throw CaseError.authenticationFailed
        }
        return Self.actor(row)
    }

    private static let decoyHash = (try? PasswordHash.make("decoy-password-never-used")) ?? ""

    static func actor(_ row: Row) -> Actor {
        Actor(role: Role(rawValue: row["role"]) ?? .mentor, organisation: row["organisation"], user: row["login"], accountID: row["id"])
    }

    /// Whether any account exists (set-up creates the first administrator only into an empty table).
    public func hasAccounts() throws(StoreError) -> Bool {
        try run { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account)") ?? false }
    }

    /// The first administrator, at set-up: only when there is no account yet.
    public func createFirstAdministrator(login: String, name: String, password: String?, issueToken: Bool) throws -> IssuedCredentials {
        try write { db in
            guard try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account)") ?? false) else {
                throw CaseError.notPermitted("this database has accounts already; an administrator adds more with `users add`")
            }
            return try insertAccount(db, by: .system("set-up"), login: login, name: name, role: .admin, organisation: "bureau",
                                     password: password, issueToken: issueToken)
        }
    }

    /// Registers an account (administrators only). At least one credential: a password, or a token.
    public func addAccount(by admin: Actor, login: String, name: String, role: Role, organisation: String,
                           password: String?, issueToken: Bool) throws -> IssuedCredentials {
        try requireAdmin(admin, action: "add account \(login)")
        return try write { db in
            try insertAccount(db, by: admin, login: login, name: name, role: role, organisation: organisation, password: password, issueToken: issueToken)
        }
    }

    private func insertAccount(_ db: Database, by actor: Actor, login: String, name: String, role: Role, organisation: String,
                               password: String?, issueToken: Bool) throws -> IssuedCredentials {
        guard Self.validLogin(login) else { throw CaseError.invalid("a login is 2–64 letters, digits, '.', '-' or '_'") }
        let org = organisation.trimmingCharacters(in: .whitespaces)
        guard !org.isEmpty, org.count <= 64, PrintableText.escape(org) == org else { throw CaseError.invalid("an account needs an organisation (school code, centre or hospital name) without control characters") }
        guard password != nil || issueToken else { throw CaseError.invalid("give the account a password (--password-stdin, or asked on the terminal) or a token (--token)") }
        if let password { try Self.checkStrength(password) }
        guard try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account WHERE login = ?)", arguments: [login]) ?? false) else {
            throw CaseError.invalid("there is an account '\(login)' already (logins are never reused; `users list`)")
        }
        let now = Int(Date().timeIntervalSince1970)
        try db.execute(sql: "INSERT INTO account (login, display_name, role, organisation, password_kdf, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [login, String(name.prefix(100)), role.rawValue, org, try password.map { try PasswordHash.make($0) }, now])
        let id = db.lastInsertedRowID
        let token = issueToken ? try setToken(db, id: id) : nil
        try Ledger.append(db, store: self, at: now, actor: actor, action: "account added", caseID: nil,
                          detail: "\(login): \(role.rawValue) of \(org)\(token != nil ? "; token issued" : "")", subjects: [try Ledger.subject(db, "account", id)])
        return IssuedCredentials(account: try account(db, id: id)!, token: token)
    }

    private func setToken(_ db: Database, id: Int64) throws -> String {
        guard let key = auditKey else { throw StoreError.auditKeyMissing(path: auditKeyPath) }
        let token = AccessToken.make(accountID: id)
        try db.execute(sql: "UPDATE account SET token_digest = ? WHERE id = ?", arguments: [AccessToken.digest(token, key: key), id])
        return token
    }

    /// The account behind an actor, if it is still enabled (a web session ends when its account is disabled).
    public func activeAccount(of actor: Actor) throws -> Account? {
        guard let id = actor.accountID else { return nil }
        return try run { db in try account(db, id: id) }.flatMap { $0.disabledAt == nil && $0.role == actor.role && $0.organisation == actor.organisation ? $0 : nil }
    }

    /// All accounts (administrators only; logged).
    public func accounts(by admin: Actor) throws -> [Account] {
        try requireAdmin(admin, action: "list accounts")
        return try write { db in
            try Ledger.append(db, store: self, at: Int(Date().timeIntervalSince1970), actor: admin, action: "accounts listed", caseID: nil, detail: "")
            return try Row.fetchAll(db, sql: "SELECT * FROM account ORDER BY login").map(Self.account)
        }
    }

    /// Disables an account for good (its credentials stop working at once; logged).
    public func disableAccount(by admin: Actor, login: String) throws -> Account {
        try changeAccount(by: admin, login: login, action: "account disabled") { db, id in
            guard id != admin.accountID else { throw CaseError.invalid("an administrator cannot disable their own account") }
            try db.execute(sql: "UPDATE account SET disabled_at = ?, token_digest = NULL WHERE id = ?", arguments: [Int(Date().timeIntervalSince1970), id])
            return nil
        }.account
    }

    /// A new password and/or a new token; the old token stops working (logged).
    public func resetAccount(by admin: Actor, login: String, password: String?, issueToken: Bool) throws -> IssuedCredentials {
        guard password != nil || issueToken else { throw CaseError.invalid("give a new password (--password-stdin, or asked on the terminal) or --token") }
        if let password { try Self.checkStrength(password) }
        return try changeAccount(by: admin, login: login, action: "credentials reset") { db, id in
            if let password { try db.execute(sql: "UPDATE account SET password_kdf = ? WHERE id = ?", arguments: [try PasswordHash.make(password), id]) }
            try db.execute(sql: "UPDATE account SET token_digest = NULL WHERE id = ?", arguments: [id])
            return issueToken ? try setToken(db, id: id) : nil
        }
    }

    private func changeAccount(by admin: Actor, login: String, action: String,
                               _ change: (Database, Int64) throws -> String?) throws -> IssuedCredentials {
        try requireAdmin(admin, action: "\(action): \(login)")
        return try write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM account WHERE login = ?", arguments: [login]) else {
                throw CaseError.invalid("no account '\(login)' (`users list`)")
            }
            let token = try change(db, id)
            try Ledger.append(db, store: self, at: Int(Date().timeIntervalSince1970), actor: admin, action: action, caseID: nil,
                              detail: login, subjects: [try Ledger.subject(db, "account", id)])
            return IssuedCredentials(account: try account(db, id: id)!, token: token)
        }
    }

    private func requireAdmin(_ actor: Actor, action: String) throws {
        guard actor.role == .admin else {
            try auditSeparately(at: Int(Date().timeIntervalSince1970), actor: actor, action: "refused", caseID: nil, detail: action)
            throw CaseError.notPermitted("only an administrator manages accounts")
        }
    }

    private func account(_ db: Database, id: Int64) throws -> Account? {
        try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ?", arguments: [id]).map(Self.account)
    }

    static func account(_ r: Row) -> Account {
        Account(id: r["id"], login: r["login"], name: r["display_name"], role: Role(rawValue: r["role"]) ?? .mentor, organisation: r["organisation"],
                hasPassword: (r["password_kdf"] as String?) != nil, hasToken: (r["token_digest"] as String?) != nil,
                createdAt: r["created_at"], disabledAt: r["disabled_at"])
    }

    static func validLogin(_ login: String) -> Bool {
        (2...64).contains(login.count) && login.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) }
            && login.unicodeScalars.allSatisfy(\.isASCII)
    }

    static func checkStrength(_ password: String) throws {
        guard password.count >= PasswordHash.minimumLength else {
            throw CaseError.invalid("a password needs at least \(PasswordHash.minimumLength) characters")
        }
    }

    /// Whether a hospital is registered: an enabled hospital account belongs to it.
    static func isRegisteredHospital(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account WHERE role = 'hospital' AND organisation = ? AND disabled_at IS NULL)",
                          arguments: [name]) ?? false
    }
}
