internal import HealthStorage
public import HealthRisk
internal import GRDB
import Foundation
import Crypto

/// What `audit verify` found.
public struct AuditVerification: Sendable, Codable, Equatable {
    public var events: Int
    /// Events before the keyed chain began (written by schema v3–v5; covered through the first keyed event).
    public var legacyEvents: Int
    public var ok: Bool
    /// The first problem: an edited, removed, reordered or forged event, a row changed outside SchoolHealth,
    /// a log emptied or cut short.
    public var problem: String?
    /// The checkpoint given with `--expect`, when it held.
    public var checkpointEvents: Int?
}

/// A row an audit event wrote (its content digest) or removed.
struct AuditSubject {
    var table: String
    var id: Int64
    /// nil: the row was removed (erasure).
    var digest: String?
    var text: String { "\(table):\(id)=\(digest ?? "erased")" }
}

/// The audit log's rows: appending keyed events, digests of the rows they cover, verification.
enum Ledger {
    /// The columns of each covered table that a row's digest is computed over (fixed: later columns are not covered).
    static let coveredColumns: [String: [String]] = [
        "account": ["id", "login", "display_name", "role", "organisation", "password_kdf", "token_digest", "created_at", "disabled_at"],
        "psych_case": ["id", "student_id", "school_code", "class_name", "tier", "state", "opened_at", "state_entered_at", "due_at", "escalations",
                       "escalated_state", "effective_urgency", "referred_to_centre", "hospital", "closed_at"],
        "case_transition": ["id", "case_id", "from_state", "to_state", "actor_user", "actor_role", "actor_org", "at", "note", "guardian_informed",
                            "consent", "emergency_override", "feedback_attendance", "feedback_safety", "feedback_next_visit", "clock", "hospital"],
        "psych_flag": ["id", "case_id", "student_id", "tier", "kind", "rule_id", "rule_version", "reason", "raised_by", "raised_role",
                       "raised_org", "raised_at", "batch_id", "clock"],
        "override_review": ["transition_id", "case_id", "reviewed_at", "reviewer_account", "review_note"],
    ]
    static let coveredTables = coveredColumns.keys.sorted()

    static func keyedEvents(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_event WHERE keyed = 1") ?? 0
    }

    static func text(_ value: DatabaseValue) -> String? {
        switch value.storage {
        case .null: return nil
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .blob(let b): return b.map { String(format: "%02x", $0) }.joined()
        }
    }

    static func selectSQL(_ table: String) -> String {
        "SELECT rowid AS _rowid, \(coveredColumns[table]!.joined(separator: ", ")) FROM \(table)"
    }

    static func digest(_ row: Row, table: String) -> String {
        AuditChain.rowDigest(coveredColumns[table]!.map { text(row[$0] as DatabaseValue) })
    }

    /// The subject of a row as it is now.
    static func subject(_ db: Database, _ table: String, _ id: Int64) throws -> AuditSubject {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: selectSQL(table) + " WHERE rowid = ?"), arguments: [id]) else {
            return AuditSubject(table: table, id: id, digest: nil)
        }
        return AuditSubject(table: table, id: id, digest: digest(row, table: table))
    }

    /// Appends a keyed event: MAC = HMAC(key, previous MAC ‖ event). Throws `auditKeyMissing` without the key.
    static func append(_ db: Database, store: Store, at: Int, actor: Actor, action: String, caseID: Int64?, detail: String,
                       subjects: [AuditSubject] = []) throws {
        guard let key = store.auditKey else { throw StoreError.auditKeyMissing(path: store.auditKeyPath) }
        // Cached statements: a queue call appends dozens of events, an escalation sweep thousands.
        let last = try Row.fetchOne(try db.cachedStatement(sql: "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"))
        let record = AuditRecord(seq: (last?["seq"] as Int64? ?? 0) + 1, at: at, clock: store.isDrill ? "drill" : "system",
                                 actorAccount: actor.accountID, actorUser: actor.user, actorRole: actor.role.rawValue,
                                 actorOrg: actor.organisation, action: action, caseID: caseID, detail: detail,
                                 subjects: subjects.map(\.text).joined(separator: ";"))
        let prev: String = last?["hash"] ?? AuditChain.zeroHash
        try db.cachedStatement(sql: """
            INSERT INTO audit_event (seq, at, actor_user, actor_role, actor_org, action, case_id, detail, prev_hash, hash, keyed, clock, actor_account, subjects)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
            """).execute(arguments: [record.seq, record.at, record.actorUser, record.actorRole, record.actorOrg, record.action, record.caseID,
                             record.detail, prev, AuditChain.mac(prev: prev, record, key: key), record.clock, record.actorAccount,
                             record.subjects])
    }

    /// Rows written before the keyed chain (or by a bulk seeder) are adopted: events that record their digests.
    static func adopt(_ db: Database, store: Store, table: String, at: Int, ids: [Int64]? = nil) throws {
        let all = try ids ?? Int64.fetchAll(db, sql: "SELECT rowid FROM \(table) ORDER BY rowid")
        var i = 0
        while i < all.count {
            let chunk = all[i..<min(all.count, i + 200)]
            let subjects = try chunk.map { try subject(db, table, $0) }
            try append(db, store: store, at: at, actor: .system("adopt"), action: "rows adopted into the keyed log",
                       caseID: nil, detail: "\(table): \(chunk.count) row(s)", subjects: subjects)
            i += 200
        }
    }

    /// Recomputes the chain; with `expect`, also checks a signed checkpoint against it.
    static func verify(_ db: Database, key: SymmetricKey, expect: String?) throws -> AuditVerification {
        var result = AuditVerification(events: 0, legacyEvents: 0, ok: false, problem: nil, checkpointEvents: nil)
        func fail(_ problem: String) -> AuditVerification { result.problem = problem; return result }
        var prev = AuditChain.zeroHash
        var expectedSeq: Int64 = 1
        var keyedSeen = false
        var drill = false
        var latest: [String: String?] = [:]   // "table:id" → digest (nil = erased)
        var hashes: [String] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_event ORDER BY seq")
        while let r = try rows.next() {
            result.events += 1
            let seq: Int64 = r["seq"]
            if seq != expectedSeq { return fail("event \(expectedSeq) is missing (next is \(seq)): events were removed") }
            let storedPrev: String = r["prev_hash"]
            if storedPrev != prev { return fail("event \(seq) does not follow event \(seq - 1): events were removed or reordered") }
            let stored: String = r["hash"]
            if (r["keyed"] as Int) == 1 {
                let record = AuditRecord(seq: seq, at: r["at"], clock: r["clock"], actorAccount: r["actor_account"], actorUser: r["actor_user"],
                                         actorRole: r["actor_role"], actorOrg: r["actor_org"], action: r["action"], caseID: r["case_id"],
                                         detail: r["detail"], subjects: r["subjects"])
                if !keyedSeen && record.action != AuditChain.genesisAction {
                    return fail("event \(seq) is the first keyed event but not the start of the log: the log was emptied or replaced")
                }
                if !keyedSeen { drill = record.detail.contains("DRILL DATABASE") }
                keyedSeen = true
                if AuditChain.mac(prev: prev, record, key: key) != stored {
                    return fail("event \(seq) was edited or forged (its MAC does not match the audit key)")
                }
                if (record.clock == "drill") != drill {
                    return fail("event \(seq) says its time was \(record.clock == "drill" ? "set by hand" : "the clock's") but the log began as \(drill ? "a drill" : "a real") database")
                }
                for s in record.subjects.split(separator: ";") {
                    guard let eq = s.firstIndex(of: "=") else { continue }
                    let value = String(s[s.index(after: eq)...])
                    latest[String(s[..<eq])] = value == "erased" ? .some(nil) : .some(value)
                }
            } else {
                if keyedSeen { return fail("event \(seq) is unkeyed after the keyed chain began: it was inserted") }
                result.legacyEvents += 1
                let hash = AuditChain.legacyHash(prev: prev, seq: seq, at: r["at"], user: r["actor_user"], role: r["actor_role"],
                                                 org: r["actor_org"], action: r["action"], caseID: r["case_id"], detail: r["detail"])
                if hash != stored { return fail("event \(seq) was edited (its content no longer matches its hash)") }
            }
            hashes.append(stored)
            prev = stored
            expectedSeq += 1
        }
        guard keyedSeen else {
            return fail(result.events == 0 ? "the audit log is empty: it was emptied (a SchoolHealth log starts with \"\(AuditChain.genesisAction)\")"
                                           : "the log has no keyed events: it was emptied or replaced")
        }
        if let expect {
            guard let cp = AuditChain.readCheckpoint(expect, key: key) else {
                return fail("the checkpoint was not signed with this database's audit key (or was mistyped)")
            }
            if cp.count > hashes.count {
                return fail("the log has \(hashes.count) events but the checkpoint says \(cp.count): events were cut off the end")
            }
            if cp.count > 0 && hashes[cp.count - 1] != cp.head {
                return fail("event \(cp.count) is not the one the checkpoint signed: the log was rewritten since")
            }
            result.checkpointEvents = cp.count
        }
        // A database is a drill database from its start or never (times set by hand are accepted only there).
        if try Settings.drill(db, markNew: false) != drill {
            return fail("the database is marked as \(drill ? "a real" : "a drill") database, but its log began as \(drill ? "a drill" : "a real") one: the mark was changed outside SchoolHealth")
        }
        // Every covered row must be as its latest event left it; an erased row must be gone.
        for table in coveredTables {
            let cursor = try Row.fetchCursor(db, sql: selectSQL(table))
            var present = Set<String>()
            while let row = try cursor.next() {
                let id = "\(table):\(row["_rowid"] as Int64)"
                present.insert(id)
                guard let recorded = latest[id], let digest = recorded else {
                    return fail("\(id) was written outside SchoolHealth (no audit event records it)")
                }
                if digest != Ledger.digest(row, table: table) { return fail("\(id) was changed outside SchoolHealth (it no longer matches its audit event)") }
            }
            for (id, digest) in latest where id.hasPrefix(table + ":") && digest != nil && !present.contains(id) {
                return fail("\(id) was deleted outside SchoolHealth")
            }
        }
        result.ok = true
        return result
    }
}

extension Store {
    /// Runs `body` in one immediate write transaction (the lock is taken before the first read, so that two
    /// processes appending to the audit log never race), mapping errors to `StoreError`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Writes an audit event in a transaction of its own: for refusals, whose own transaction was rolled back.
    func auditSeparately(at: Int, actor: Actor, action: String, caseID: Int64?, detail: String) throws {
        try write { db in try Ledger.append(db, store: self, at: at, actor: actor, action: action, caseID: caseID, detail: detail) }
    }

    /// Starts the keyed chain (a new key): the genesis event, then any rows already there.
    func startChain() throws(StoreError) {
        do {
            try write { db in
                guard try Ledger.keyedEvents(db) == 0 else { return }
                let now = Int(Date().timeIntervalSince1970)
                try Ledger.append(db, store: self, at: now, actor: .system("set-up"), action: AuditChain.genesisAction, caseID: nil,
                                  detail: "schema \(try Migrations.applied(db).last ?? "?")\(isDrill ? "; DRILL DATABASE: times may be set by hand" : "")")
                for table in Ledger.coveredTables { try Ledger.adopt(db, store: self, table: table, at: now) }
            }
        } catch { throw StoreError(error, path: path) }
    }

    /// Recomputes the audit chain with the audit key; with `expect` (from `auditCheckpoint`), detects a log cut short.
    public func verifyAudit(expect: String? = nil) throws(StoreError) -> AuditVerification {
        guard let key = auditKey else { throw .auditKeyMissing(path: auditKeyPath) }
        return try run { db in try Ledger.verify(db, key: key, expect: expect) }
    }

    /// A signed statement of the log's length and head, for the bureau's weekly report (logged).
    public func auditCheckpoint(actor: Actor) throws -> String {
        guard actor.role == .admin || actor.role == .healthOffice else { throw CaseError.notPermitted("checkpoints are signed by an administrator or the health office") }
        guard let key = auditKey else { throw StoreError.auditKeyMissing(path: auditKeyPath) }
        return try write { db in
            try Ledger.append(db, store: self, at: Int(Date().timeIntervalSince1970), actor: actor, action: "checkpoint", caseID: nil, detail: "")
            // Cached statements: a queue call appends dozens of events, an escalation sweep thousands.
        let last = try Row.fetchOne(try db.cachedStatement(sql: "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"))!
            return AuditChain.checkpoint(count: Int(last["seq"] as Int64), head: last["hash"], key: key)
        }
    }

    /// Records something done outside the referral workflow (an import, an unsuppressed report, a data request).
    public func recordEvent(actor: Actor, action: String, detail: String) throws {
        try write { db in
            try Ledger.append(db, store: self, at: Int(Date().timeIntervalSince1970), actor: actor, action: action, caseID: nil, detail: detail)
        }
    }
}
