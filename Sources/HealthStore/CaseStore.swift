public import HealthRisk
internal import GRDB
import Foundation
import Crypto

/// A flag as a role may see it.
public struct FlagView: Sendable, Codable, Equatable {
    public var id: Int64
    public var tier: Tier
    public var kind: String
    /// Full view only.
    public var ruleID: String?
    public var ruleVersion: String?
    public var reason: String?
    public var raisedBy: String?
    public var raisedRole: String
    public var raisedAt: Int
}

/// A transition as a role may see it.
public struct TransitionView: Sendable, Codable, Equatable {
    public var from: CaseState
    public var to: CaseState
    public var at: Int
    public var actorRole: String
    /// Full view only (and the hospital for its own steps).
    public var actorUser: String?
    public var actorOrg: String?
    public var note: String?
    public var guardianInformed: Bool?
    public var consent: String?
    public var emergencyOverride: String?
    public var feedback: HospitalFeedback?
}

/// A case as `Access.view(for:)` allows the actor to see it.
public struct CaseView: Sendable, Codable, Equatable {
    public var caseId: Int64
    public var studentId: String
    public var school: String?
    public var className: String?
    public var tier: Tier
    public var effectiveTier: Tier
    public var state: CaseState
    public var allowedNext: [CaseState]
    public var openedAt: Int
    public var dueAt: Int?
    public var overdueSeconds: Int
    public var escalations: Int
    public var flags: [FlagView]
    public var transitions: [TransitionView]
}

/// One line of a queue.
public struct QueueItem: Sendable, Codable, Equatable {
    public var caseId: Int64
    public var studentId: String
    public var school: String
    public var tier: Tier
    public var effectiveTier: Tier
    public var state: CaseState
    public var openedAt: Int
    public var dueAt: Int?
    public var overdueSeconds: Int
    public var escalations: Int
}

/// An audit event as `referrals audit` shows it.
public struct AuditEvent: Sendable, Codable, Equatable {
    public var seq: Int64
    public var at: Int
    public var actorUser: String
    public var actorRole: String
    public var actorOrg: String
    public var action: String
    public var caseId: Int64?
    public var detail: String
}

/// What `audit verify` found.
public struct AuditVerification: Sendable, Codable, Equatable {
    public var events: Int
    public var ok: Bool
    /// The first problem: an edited, removed or reordered event.
    public var problem: String?
}

/// Errors of the case workflow.
public enum CaseError: Error, Equatable, CustomStringConvertible {
    case notInScope(NotInScope)
    case transition(TransitionError)
    case mayNotFlag(student: String)
    case countsOnly
    case stale(caseID: Int64)

    public var description: String {
        switch self {
        case .notInScope(let e): return e.description
        case .transition(let e): return e.description
        case .mayNotFlag(let student): return "you may not raise a flag for student \(student) (mentors: own students; counsellors: own school)"
        case .countsOnly: return "the health office sees counts only, never a case (use --json counts)"
        case .stale(let id): return "case \(id) changed meanwhile; read it again"
        }
    }
}

/// Counts per tier and state, for the health office.
public struct CaseCounts: Sendable, Codable, Equatable {
    public var open: [String: Int]
    public var byState: [String: Int]
}

enum Ledger {
    /// Appends an audit event chained to the previous one: hash = SHA-256(prev_hash | seq | at | actor | action | case | detail).
    static func audit(_ db: Database, at: Int, actor: Actor, action: String, caseID: Int64?, detail: String) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let prev: String = last?["hash"] ?? String(repeating: "0", count: 64)
        let hash = chainHash(prev: prev, seq: seq, at: at, user: actor.user, role: actor.role.rawValue, org: actor.organisation,
                             action: action, caseID: caseID, detail: detail)
        try db.execute(sql: """
            INSERT INTO audit_event (seq, at, actor_user, actor_role, actor_org, action, case_id, detail, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [seq, at, actor.user, actor.role.rawValue, actor.organisation, action, caseID, detail, prev, hash])
    }

    static func chainHash(prev: String, seq: Int64, at: Int, user: String, role: String, org: String, action: String, caseID: Int64?, detail: String) -> String {
        // Unit separators keep fields from running into each other.
        let text = [prev, String(seq), String(at), user, role, org, action, caseID.map(String.init) ?? "", detail].joined(separator: "\u{1F}")
        return hex(SHA256.hash(data: Data(text.utf8)))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hex(_ digest: SHA256.Digest) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func isMentor(_ db: Database, user: String, student: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM mentor_assignment WHERE mentor = ? AND student_id = ?)", arguments: [user, student]) ?? false
    }

    static func facts(_ db: Database, _ id: Int64) throws -> (CaseFacts, Row)? {
        guard let r = try Row.fetchOne(db, sql: "SELECT * FROM psych_case WHERE id = ?", arguments: [id]) else { return nil }
        let facts = CaseFacts(caseID: id, studentID: r["student_id"], school: r["school_code"], className: r["class_name"],
                              tier: Tier(rawValue: r["tier"])!, state: CaseState(rawValue: r["state"])!,
                              referredToCentre: (r["referred_to_centre"] as Int) == 1, hospital: r["hospital"])
        return (facts, r)
    }

    /// A flag opens the student's case, or joins the open one (raising its tier if more urgent).
    static func flag(_ db: Database, student: String, school: String, className: String?, tier: Tier, kind: String, ruleID: String?,
                     ruleVersion: String?, reason: String, actor: Actor, now: Int, policy: DeadlinePolicy, batch: Int64?) throws -> (caseID: Int64, flagID: Int64, opened: Bool) {
        var caseID: Int64
        var opened = false
        if let open = try Row.fetchOne(db, sql: "SELECT id, tier, state, state_entered_at FROM psych_case WHERE student_id = ? AND state <> 'closed'", arguments: [student]) {
            caseID = open["id"]
            let current = Tier(rawValue: open["tier"])!
            if tier < current {
                let state = CaseState(rawValue: open["state"])!
                let due = policy.due(tier: tier, state: state, enteredAt: open["state_entered_at"])
                try db.execute(sql: """
                    UPDATE psych_case SET tier = ?, due_at = MIN(IFNULL(due_at, ?), ?), effective_urgency = MAX(0, ? - escalations) WHERE id = ?
                    """, arguments: [tier.rawValue, due, due, tier.urgency, caseID])
            }
        } else {
            let due = policy.due(tier: tier, state: .identified, enteredAt: now)
            try db.execute(sql: """
                INSERT INTO psych_case (student_id, school_code, class_name, tier, state, opened_at, state_entered_at, due_at, effective_urgency)
                VALUES (?, ?, ?, ?, 'identified', ?, ?, ?, ?)
                """, arguments: [student, school, className, tier.rawValue, now, now, due, tier.urgency])
            caseID = db.lastInsertedRowID
            opened = true
        }
        try db.execute(sql: """
            INSERT INTO psych_flag (case_id, student_id, tier, kind, rule_id, rule_version, reason, raised_by, raised_role, raised_org, raised_at, batch_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [caseID, student, tier.rawValue, kind, ruleID, ruleVersion, reason, actor.user, actor.role.rawValue, actor.organisation, now, batch])
        let flagID = db.lastInsertedRowID
        try audit(db, at: now, actor: actor, action: opened ? "flag: case opened" : "flag: joined case", caseID: caseID,
                  detail: "\(tier.rawValue) \(kind)\(ruleID.map { " rule \($0)@\(ruleVersion ?? "")" } ?? "")")
        return (caseID, flagID, opened)
    }
}

extension Store {
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch let e as DatabaseError { throw StoreError(e, path: path) }
    }

    /// Raises a flag by hand (observation, disclosure, incident): opens or joins the student's case.
    public func raiseFlag(actor: Actor, student: String, school: String, className: String?, tier: Tier, kind: String,
                          reason: String, now: Int, policy: DeadlinePolicy) throws -> (caseID: Int64, opened: Bool) {
        try write { db in
            guard Access.canFlag(actor, school: school, mentorOf: try Ledger.isMentor(db, user: actor.user, student: student)) else {
                throw CaseError.mayNotFlag(student: student)
            }
            let r = try Ledger.flag(db, student: student, school: school, className: className, tier: tier, kind: kind, ruleID: nil,
                                    ruleVersion: nil, reason: reason, actor: actor, now: now, policy: policy, batch: nil)
            return (r.caseID, r.opened)
        }
    }

    /// Assigns a mentor or class teacher to a student (the "school – class – student" grid).
    public func assign(school: String, className: String?, student: String, mentor: String, role: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mentor_assignment (school_code, class_name, student_id, mentor, role) VALUES (?, ?, ?, ?, ?)",
                           arguments: [school, className, student, mentor, role])
        }
    }

    /// Reads a case (and logs the read). Anything outside the actor's scope is "no case that you may see".
    public func showCase(actor: Actor, id: Int64, now: Int, purpose: String = "show") throws -> CaseView {
        try write { db in
            guard let (facts, row) = try Ledger.facts(db, id),
                  Access.canRead(actor, facts, mentorOf: try Ledger.isMentor(db, user: actor.user, student: facts.studentID)),
                  let view = Access.view(for: actor.role) else {
                throw CaseError.notInScope(NotInScope(caseID: id))
            }
            try Ledger.audit(db, at: now, actor: actor, action: "read", caseID: id, detail: purpose)
            return try caseView(db, facts: facts, row: row, view: view, now: now)
        }
    }

    private func caseView(_ db: Database, facts: CaseFacts, row: Row, view: Access.View, now: Int) throws -> CaseView {
        let entry = QueueEntry(caseID: facts.caseID, tier: facts.tier, state: facts.state, openedAt: row["opened_at"], dueAt: row["due_at"], escalations: row["escalations"])
        let flags = try Row.fetchAll(db, sql: "SELECT * FROM psych_flag WHERE case_id = ? ORDER BY id", arguments: [facts.caseID]).map { f in
            FlagView(id: f["id"], tier: Tier(rawValue: f["tier"])!, kind: f["kind"],
                     ruleID: view == .full ? f["rule_id"] : nil, ruleVersion: view == .full ? f["rule_version"] : nil,
                     reason: view == .full ? f["reason"] : nil, raisedBy: view == .full ? f["raised_by"] : nil,
                     raisedRole: f["raised_role"], raisedAt: f["raised_at"])
        }
        let transitions = try Row.fetchAll(db, sql: "SELECT * FROM case_transition WHERE case_id = ? ORDER BY id", arguments: [facts.caseID]).compactMap { t -> TransitionView? in
            let to = CaseState(rawValue: t["to_state"])!
            let from = CaseState(rawValue: t["from_state"])!
            switch view {
            case .full:
                return TransitionView(from: from, to: to, at: t["at"], actorRole: t["actor_role"], actorUser: t["actor_user"], actorOrg: t["actor_org"],
                                      note: t["note"], guardianInformed: (t["guardian_informed"] as Int) == 1, consent: t["consent"],
                                      emergencyOverride: t["emergency_override"], feedback: feedback(t))
            case .actions:
                return TransitionView(from: from, to: to, at: t["at"], actorRole: t["actor_role"], actorUser: nil, actorOrg: nil, note: nil,
                                      guardianInformed: nil, consent: nil, emergencyOverride: nil, feedback: to == .hospitalFeedback ? feedback(t) : nil)
            case .minimumNecessary:
                // The hospital sees the hand-offs and consent, and its own steps.
                guard to == .referredToHospital || to == .hospitalFeedback || to == .referredToCentre else { return nil }
                return TransitionView(from: from, to: to, at: t["at"], actorRole: t["actor_role"], actorUser: nil, actorOrg: t["actor_org"],
                                      note: to == .referredToHospital ? t["note"] : nil, guardianInformed: (t["guardian_informed"] as Int) == 1,
                                      consent: t["consent"], emergencyOverride: t["emergency_override"], feedback: feedback(t))
            }
        }
        return CaseView(caseId: facts.caseID, studentId: facts.studentID, school: view == .minimumNecessary ? nil : facts.school,
                        className: view == .full ? facts.className : nil, tier: facts.tier, effectiveTier: entry.effectiveTier,
                        state: facts.state, allowedNext: facts.state.next, openedAt: entry.openedAt, dueAt: entry.dueAt,
                        overdueSeconds: entry.overdue(at: now), escalations: entry.escalations,
                        flags: view == .minimumNecessary ? [] : flags, transitions: transitions)
    }

    private func feedback(_ t: Row) -> HospitalFeedback? {
        guard let attendance: String = t["feedback_attendance"] else { return nil }
        return HospitalFeedback(attendance: attendance, safetyAdvice: t["feedback_safety"] ?? "", nextVisit: t["feedback_next_visit"])
    }

    /// Moves a case on, after checking scope, the state machine, the role and consent; logs it.
    public func advance(actor: Actor, id: Int64, request: TransitionRequest, now: Int, policy: DeadlinePolicy) throws -> CaseView {
        try write { db in
            guard let (facts, _) = try Ledger.facts(db, id),
                  Access.canRead(actor, facts, mentorOf: try Ledger.isMentor(db, user: actor.user, student: facts.studentID)) else {
                throw CaseError.notInScope(NotInScope(caseID: id))
            }
            do { try ReferralStateMachine.check(from: facts.state, tier: facts.tier, actor: actor, request: request) } catch let error as TransitionError {
                try Ledger.audit(db, at: now, actor: actor, action: "refused transition", caseID: id, detail: "\(facts.state.rawValue) → \(request.to.rawValue): \(error)")
                throw CaseError.transition(error)
            }
            try db.execute(sql: """
                INSERT INTO case_transition (case_id, from_state, to_state, actor_user, actor_role, actor_org, at, note, guardian_informed, consent,
                                             emergency_override, feedback_attendance, feedback_safety, feedback_next_visit)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, facts.state.rawValue, request.to.rawValue, actor.user, actor.role.rawValue, actor.organisation, now, request.note,
                                 request.guardianInformed ? 1 : 0, request.consent.rawValue, request.emergencyOverride,
                                 request.feedback?.attendance, request.feedback?.safetyAdvice, request.feedback?.nextVisit])
            let due = request.to == .closed ? nil : policy.due(tier: facts.tier, state: request.to, enteredAt: now)
            try db.execute(sql: """
                UPDATE psych_case SET state = ?, state_entered_at = ?, due_at = ?,
                       referred_to_centre = referred_to_centre OR ?, hospital = COALESCE(?, hospital), closed_at = ?
                WHERE id = ?
                """, arguments: [request.to.rawValue, now, due, request.to == .referredToCentre ? 1 : 0,
                                 request.to == .referredToHospital ? (request.hospital ?? "") : nil, request.to == .closed ? now : nil, id])
            try Ledger.audit(db, at: now, actor: actor, action: "transition", caseID: id,
                             detail: "\(facts.state.rawValue) → \(request.to.rawValue); guardian informed \(request.guardianInformed ? "yes" : "no"); consent \(request.consent.rawValue)"
                                + (request.emergencyOverride.map { "; EMERGENCY OVERRIDE: \($0)" } ?? ""))
            let (after, row) = try Ledger.facts(db, id)!
            return try caseView(db, facts: after, row: row, view: Access.view(for: actor.role)!, now: now)
        }
    }

    /// The actor's queue: open cases in scope, overdue steps escalated (once per step, recorded), ordered by
    /// tier after escalation, then how overdue, then age. Each listed case is logged as read.
    public func queue(actor: Actor, now: Int, limit: Int = 50) throws -> [QueueItem] {
        try write { db in
            let scope: (String, StatementArguments)
            switch actor.role {
            case .healthOffice: throw CaseError.countsOnly
            case .counsellor: scope = ("school_code = ? AND state <> 'closed'", [actor.organisation])
            case .centre: scope = ("referred_to_centre = 1 AND state <> 'closed'", [])
            case .hospital: scope = ("hospital = ? AND state <> 'closed'", [actor.organisation])
            case .mentor: scope = ("state <> 'closed' AND student_id IN (SELECT student_id FROM mentor_assignment WHERE mentor = ?)", [actor.user])
            }
            // Overdue steps escalate once each: the case rises a tier and the escalation is logged.
            let escalated = try Row.fetchAll(db, sql: """
                UPDATE psych_case SET escalations = escalations + 1, escalated_state = state, effective_urgency = MAX(0, effective_urgency - 1)
                WHERE \(scope.0) AND (escalated_state IS NULL OR escalated_state <> state) AND due_at < ?
                RETURNING id, state, due_at
                """, arguments: scope.1 + [now])
            for r in escalated {
                try Ledger.audit(db, at: now, actor: Actor(role: actor.role, organisation: actor.organisation, user: "system"),
                                 action: "escalated", caseID: r["id"], detail: "\(r["state"] as String) overdue since \(r["due_at"] as Int)")
            }
            // Queue.order's policy, read in index order so that only the first `limit` cases leave the database:
            // per urgency after escalation (red first), the overdue cases by due time (most overdue first),
            // then the others by age.
            var rows: [Row] = []
            for urgency in 0...2 where rows.count < limit {
                rows += try Row.fetchAll(db, sql: """
                    SELECT id, student_id, school_code, tier, state, opened_at, due_at, escalations FROM psych_case
                    WHERE \(scope.0) AND effective_urgency = ? AND due_at < ? ORDER BY due_at, opened_at, id LIMIT ?
                    """, arguments: scope.1 + [urgency, now, limit - rows.count])
                guard rows.count < limit else { break }
                rows += try Row.fetchAll(db, sql: """
                    SELECT id, student_id, school_code, tier, state, opened_at, due_at, escalations FROM psych_case
                    WHERE \(scope.0) AND effective_urgency = ? AND (due_at IS NULL OR due_at >= ?) ORDER BY opened_at, id LIMIT ?
                    """, arguments: scope.1 + [urgency, now, limit - rows.count])
            }
            let listed = rows.map { r in
                QueueItem(caseId: r["id"], studentId: r["student_id"], school: r["school_code"], tier: Tier(rawValue: r["tier"])!,
                          effectiveTier: QueueEntry(caseID: r["id"], tier: Tier(rawValue: r["tier"])!, state: CaseState(rawValue: r["state"])!,
                                                    openedAt: r["opened_at"], dueAt: r["due_at"], escalations: r["escalations"]).effectiveTier,
                          state: CaseState(rawValue: r["state"])!, openedAt: r["opened_at"], dueAt: r["due_at"],
                          overdueSeconds: max(0, now - ((r["due_at"] as Int?) ?? now)), escalations: r["escalations"])
            }
            for item in listed { try Ledger.audit(db, at: now, actor: actor, action: "read", caseID: item.caseId, detail: "listed in queue") }
            return listed
        }
    }

    /// Open cases per tier and state: what the health office sees (counts only, logged).
    public func caseCounts(actor: Actor, now: Int) throws -> CaseCounts {
        try write { db in
            try Ledger.audit(db, at: now, actor: actor, action: "counts", caseID: nil, detail: "")
            let byTier = try Row.fetchAll(db, sql: "SELECT tier, COUNT(*) AS n FROM psych_case WHERE state <> 'closed' GROUP BY tier")
            let byState = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM psych_case GROUP BY state")
            return CaseCounts(open: Dictionary(uniqueKeysWithValues: byTier.map { ($0["tier"], $0["n"]) }),
                              byState: Dictionary(uniqueKeysWithValues: byState.map { ($0["state"], $0["n"]) }))
        }
    }

    /// A case's audit trail, for those allowed to see it (the counsellor of its school, the centre).
    public func auditTrail(actor: Actor, id: Int64, now: Int) throws -> [AuditEvent] {
        try write { db in
            guard let (facts, _) = try Ledger.facts(db, id), Access.canReadAudit(actor),
                  Access.canRead(actor, facts, mentorOf: false) else {
                throw CaseError.notInScope(NotInScope(caseID: id))
            }
            try Ledger.audit(db, at: now, actor: actor, action: "read audit", caseID: id, detail: "")
            return try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE case_id = ? ORDER BY seq", arguments: [id]).map { r in
                AuditEvent(seq: r["seq"], at: r["at"], actorUser: r["actor_user"], actorRole: r["actor_role"], actorOrg: r["actor_org"],
                           action: r["action"], caseId: r["case_id"], detail: r["detail"])
            }
        }
    }

    /// Recomputes the hash chain: any edited, removed or reordered event breaks it.
    public func verifyAudit() throws(StoreError) -> AuditVerification {
        try run { db in
            var prev = String(repeating: "0", count: 64)
            var expectedSeq: Int64 = 1
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_event ORDER BY seq")
            while let r = try rows.next() {
                count += 1
                let seq: Int64 = r["seq"]
                if seq != expectedSeq {
                    return AuditVerification(events: count, ok: false, problem: "event \(expectedSeq) is missing (next is \(seq)): events were removed")
                }
                let storedPrev: String = r["prev_hash"]
                if storedPrev != prev {
                    return AuditVerification(events: count, ok: false, problem: "event \(seq) does not follow event \(seq - 1): events were removed or reordered")
                }
                let hash = Ledger.chainHash(prev: prev, seq: seq, at: r["at"], user: r["actor_user"], role: r["actor_role"], org: r["actor_org"],
                                            action: r["action"], caseID: r["case_id"], detail: r["detail"])
                let stored: String = r["hash"]
                if hash != stored {
                    return AuditVerification(events: count, ok: false, problem: "event \(seq) was edited (its content no longer matches its hash)")
                }
                prev = stored
                expectedSeq += 1
            }
            return AuditVerification(events: count, ok: true, problem: nil)
        }
    }
}
