internal import HealthStorage
import HealthCore
public import HealthRisk
internal import GRDB
import Foundation

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
    public var clock: String
    public var actorUser: String
    public var actorRole: String
    public var actorOrg: String
    public var action: String
    public var caseId: Int64?
    public var detail: String
}

/// An emergency override waiting for (or after) the county centre's review.
public struct OverrideReview: Sendable, Codable, Equatable {
    public var caseId: Int64
    public var transitionId: Int64
    public var at: Int
    public var by: String
    public var school: String
    public var to: CaseState
    public var reason: String
    public var reviewedAt: Int?
    public var reviewNote: String?
}

/// Errors of the case workflow and of accounts.
public enum CaseError: Error, Equatable, CustomStringConvertible {
    case notInScope(NotInScope)
    case transition(TransitionError)
    /// A student who is not on the actor's records: the same whether they exist elsewhere or not at all.
    case noSuchStudent(String)
    case countsOnly
    case authenticationFailed
    case notPermitted(String)
    case invalid(String)
    case simulatedTime
    case transferRefused(String)

    public var description: String {
        switch self {
        case .notInScope(let e): return e.description
        case .transition(let e): return e.description
        case .noSuchStudent(let student):
            return "no student \(PrintableText.escape(student)) that you may flag (counsellors: students on their school's records; mentors: their own students)"
        case .countsOnly: return "the health office sees counts only, never a case (referrals counts)"
        case .authenticationFailed: return "login failed: wrong login, password or token, or the account is disabled"
        case .notPermitted(let what): return "not permitted: \(what)"
        case .invalid(let what): return what
        case .simulatedTime: return "--now is for drill databases only (schoolhealth init --drill); recorded times come from the clock"
        case .transferRefused(let why): return "transfer refused: \(why)"
        }
    }
}

/// Counts per tier (after escalation) and state, for the health office.
public struct CaseCounts: Sendable, Codable, Equatable {
    public var open: [String: Int]
    public var byState: [String: Int]
}

/// Row I/O of the referral workflow; every decision is `Access`'s or `ReferralStateMachine`'s.
enum CaseRows {
    static func isMentor(_ db: Database, account: Int64?, student: String, school: String) throws -> Bool {
        guard let account else { return false }
        return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM mentor_of WHERE account_id = ? AND student_id = ? AND school_code = ?)",
                                 arguments: [account, student, school]) ?? false
    }

    /// Whether a student is on a school's records: an import, the mentor grid, or a case.
    static func isKnown(_ db: Database, student: String, school: String) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM mentor_of WHERE student_id = ?1 AND school_code = ?2)
                OR EXISTS (SELECT 1 FROM psych_case WHERE student_id = ?1 AND school_code = ?2)
                OR EXISTS (SELECT 1 FROM psych_screening WHERE student_id = ?1 AND school_code = ?2)
                OR EXISTS (SELECT 1 FROM vision_screening WHERE student_id = ?1 AND school_code = ?2)
                OR EXISTS (SELECT 1 FROM spine_screening WHERE student_id = ?1 AND school_code = ?2)
                OR EXISTS (SELECT 1 FROM fitness_test WHERE student_id = ?1 AND school_code = ?2)
            """, arguments: [student, school]) ?? false
    }

    static func facts(_ db: Database, _ id: Int64) throws -> (CaseFacts, Row)? {
        guard let r = try Row.fetchOne(db, sql: "SELECT * FROM psych_case WHERE id = ?", arguments: [id]) else { return nil }
        let facts = CaseFacts(caseID: id, studentID: r["student_id"], school: r["school_code"], className: r["class_name"],
                              tier: Tier(rawValue: r["tier"])!, state: CaseState(rawValue: r["state"])!,
                              referredToCentre: (r["referred_to_centre"] as Int) == 1, hospital: r["hospital"], closedAt: r["closed_at"])
        return (facts, r)
    }

    /// A flag opens the student's case at `school`, or joins the open one there (raising its tier if more urgent).
    /// Never another school's case.
    static func flag(_ db: Database, store: Store, student: String, school: String, className: String?, tier: Tier, kind: String, ruleID: String?,
                     ruleVersion: String?, reason: String, actor: Actor, raisedAt: Int, auditAt: Int, policy: DeadlinePolicy,
                     batch: Int64?) throws -> (caseID: Int64, flagID: Int64, opened: Bool) {
        var caseID: Int64
        var opened = false
        if let open = try Row.fetchOne(db, sql: "SELECT id, tier, state, state_entered_at FROM psych_case WHERE student_id = ? AND school_code = ? AND state <> 'closed'",
                                       arguments: [student, school]) {
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
            let due = policy.due(tier: tier, state: .identified, enteredAt: raisedAt)
            try db.execute(sql: """
                INSERT INTO psych_case (student_id, school_code, class_name, tier, state, opened_at, state_entered_at, due_at, effective_urgency)
                VALUES (?, ?, ?, ?, 'identified', ?, ?, ?, ?)
                """, arguments: [student, school, className, tier.rawValue, raisedAt, raisedAt, due, tier.urgency])
            caseID = db.lastInsertedRowID
            opened = true
        }
        try db.execute(sql: """
            INSERT INTO psych_flag (case_id, student_id, tier, kind, rule_id, rule_version, reason, raised_by, raised_role, raised_org, raised_at, batch_id, clock)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [caseID, student, tier.rawValue, kind, ruleID, ruleVersion, reason, actor.user, actor.role.rawValue, actor.organisation,
                             raisedAt, batch, store.isDrill ? "drill" : "system"])
        let flagID = db.lastInsertedRowID
        try Ledger.append(db, store: store, at: auditAt, actor: actor, action: opened ? "flag: case opened" : "flag: joined case", caseID: caseID,
                          detail: "\(tier.rawValue) \(kind)\(ruleID.map { " rule \($0)@\(ruleVersion ?? "")" } ?? "")",
                          subjects: [try Ledger.subject(db, "psych_case", caseID), try Ledger.subject(db, "psych_flag", flagID)])
        return (caseID, flagID, opened)
    }

    /// Overdue steps escalate once each: the case rises a tier, and the escalation is logged with the case's new content.
    static func escalate(_ db: Database, store: Store, scope: (String, StatementArguments), actor: Actor, now: Int) throws {
        let escalated = try Row.fetchAll(db, sql: """
            UPDATE psych_case SET escalations = escalations + 1, escalated_state = state, effective_urgency = MAX(0, effective_urgency - 1)
            WHERE \(scope.0) AND (escalated_state IS NULL OR escalated_state <> state) AND due_at < ?
            RETURNING id, state, due_at
            """, arguments: scope.1 + [now])
        for r in escalated {
            try Ledger.append(db, store: store, at: now, actor: .system("escalation", organisation: actor.organisation), action: "escalated",
                              caseID: r["id"], detail: "\(r["state"] as String) overdue since \(r["due_at"] as Int)",
                              subjects: [try Ledger.subject(db, "psych_case", r["id"])])
        }
    }
}

extension Store {
    /// The time to record: the clock, or on a drill database a time set by hand.
    public func clock(_ requested: Int?) throws -> Int {
        guard let requested else { return Int(Date().timeIntervalSince1970) }
        guard isDrill else { throw CaseError.simulatedTime }
        return requested
    }

    /// Raises a flag by hand (observation, disclosure, incident) for a student of the actor's own school: opens
    /// or joins the student's case there. A student not on the school's records (or not the mentor's) is refused
    /// exactly like one who does not exist, and the refusal is logged.
    public func raiseFlag(actor: Actor, student: String, className: String?, tier: Tier, kind: String, reason: String,
                          at requested: Int? = nil, policy: DeadlinePolicy, rules: CaseRules = CaseRules()) throws -> (caseID: Int64, opened: Bool) {
        let now = try clock(requested)
        do { try rules.check(reason: reason) } catch let e as TransitionError { throw CaseError.transition(e) }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CaseError.invalid("a flag needs a reason") }
        do {
            return try write { db in
                let school = actor.organisation
                let known = try CaseRows.isKnown(db, student: student, school: school)
                let mentor = try CaseRows.isMentor(db, account: actor.accountID, student: student, school: school)
                guard Access.canFlag(actor, studentSchool: known ? school : nil, mentorOf: mentor) else { throw CaseError.noSuchStudent(student) }
                let r = try CaseRows.flag(db, store: self, student: student, school: school, className: className, tier: tier, kind: kind, ruleID: nil,
                                          ruleVersion: nil, reason: reason, actor: actor, raisedAt: now, auditAt: now, policy: policy, batch: nil)
                return (r.caseID, r.opened)
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "refused flag", caseID: nil, detail: "student \(student.prefix(40)): \(error)")
            throw error
        }
    }

    /// Assigns a registered mentor account of the counsellor's school to a student (the "school – class – student" grid).
    public func assign(actor: Actor, student: String, className: String?, mentorLogin: String, role: String = "mentor", at requested: Int? = nil) throws {
        let now = try clock(requested)
        do {
            try write { db in
                guard actor.role == .counsellor else { throw CaseError.notPermitted("the school's counsellor keeps its mentor grid") }
                guard ["mentor", "class-teacher"].contains(role) else { throw CaseError.invalid("a grid role is mentor or class-teacher") }
                guard let mentor = try Row.fetchOne(db, sql: "SELECT id FROM account WHERE login = ? AND role = 'mentor' AND organisation = ? AND disabled_at IS NULL",
                                                    arguments: [mentorLogin, actor.organisation]) else {
                    throw CaseError.invalid("no mentor account '\(PrintableText.escape(mentorLogin))' of school \(actor.organisation) (an administrator adds it: users add … --role mentor --org \(actor.organisation))")
                }
                try db.execute(sql: "INSERT OR REPLACE INTO mentor_of (account_id, school_code, class_name, student_id, role) VALUES (?, ?, ?, ?, ?)",
                               arguments: [mentor["id"], actor.organisation, className, student, role])
                try Ledger.append(db, store: self, at: now, actor: actor, action: "mentor assigned", caseID: nil,
                                  detail: "\(mentorLogin) \(role) of student \(student) (class \(className ?? "—"))")
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "refused assignment", caseID: nil, detail: "\(mentorLogin) → \(student): \(error)")
            throw error
        }
    }

    /// Reads a case (and logs the read). Anything outside the actor's scope is "no case that you may see",
    /// whether it exists or not; the denial is logged too.
    public func showCase(actor: Actor, id: Int64, at requested: Int? = nil, rules: CaseRules = CaseRules(), purpose: String = "show") throws -> CaseView {
        let now = try clock(requested)
        do {
            return try write { db in
                guard let (facts, row) = try CaseRows.facts(db, id),
                      Access.canRead(actor, facts, mentorOf: try CaseRows.isMentor(db, account: actor.accountID, student: facts.studentID, school: facts.school),
                                     now: now, rules: rules),
                      let view = Access.view(for: actor.role) else {
                    throw CaseError.notInScope(NotInScope(caseID: id))
                }
                try Ledger.append(db, store: self, at: now, actor: actor, action: "read", caseID: id, detail: purpose)
                return try caseView(db, facts: facts, row: row, view: view, now: now)
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "denied read", caseID: id, detail: purpose)
            throw error
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
                // The mentor sees what was done, not the notes and not the hospital's feedback text.
                return TransitionView(from: from, to: to, at: t["at"], actorRole: t["actor_role"], actorUser: nil, actorOrg: nil, note: nil,
                                      guardianInformed: nil, consent: nil, emergencyOverride: nil, feedback: nil)
            case .minimumNecessary:
                // The hospital sees the hand-offs and consent; the feedback text goes to the counsellor and centre only.
                guard to == .referredToHospital || to == .hospitalFeedback || to == .referredToCentre else { return nil }
                return TransitionView(from: from, to: to, at: t["at"], actorRole: t["actor_role"], actorUser: nil, actorOrg: t["actor_org"],
                                      note: to == .referredToHospital ? t["note"] : nil, guardianInformed: (t["guardian_informed"] as Int) == 1,
                                      consent: t["consent"], emergencyOverride: t["emergency_override"], feedback: nil)
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

    /// Moves a case on, after checking scope, the state machine, the role, consent and text limits; logs it with the
    /// transition's content. A refusal is logged in a transaction of its own (the step itself was rolled back).
    public func advance(actor: Actor, id: Int64, request: TransitionRequest, at requested: Int? = nil, policy: DeadlinePolicy,
                        rules: CaseRules = CaseRules()) throws -> CaseView {
        let now = try clock(requested)
        do {
            return try write { db in
                guard let (facts, _) = try CaseRows.facts(db, id),
                      Access.canRead(actor, facts, mentorOf: try CaseRows.isMentor(db, account: actor.accountID, student: facts.studentID, school: facts.school),
                                     now: now, rules: rules) else {
                    throw CaseError.notInScope(NotInScope(caseID: id))
                }
                do {
                    try ReferralStateMachine.check(from: facts.state, tier: facts.tier, actor: actor, request: request, rules: rules)
                    if request.to == .referredToHospital {
                        let hospital = request.hospital?.trimmingCharacters(in: .whitespaces) ?? ""
                        guard try Store.isRegisteredHospital(db, hospital) else { throw TransitionError.hospitalNotRegistered(hospital) }
                    }
                } catch let error as TransitionError { throw CaseError.transition(error) }
                try db.execute(sql: """
                    INSERT INTO case_transition (case_id, from_state, to_state, actor_user, actor_role, actor_org, at, note, guardian_informed, consent,
                                                 emergency_override, feedback_attendance, feedback_safety, feedback_next_visit, clock, hospital)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, facts.state.rawValue, request.to.rawValue, actor.user, actor.role.rawValue, actor.organisation, now, request.note,
                                     request.guardianInformed ? 1 : 0, request.consent.rawValue, request.emergencyOverride,
                                     request.feedback?.attendance, request.feedback?.safetyAdvice, request.feedback?.nextVisit,
                                     isDrill ? "drill" : "system", request.to == .referredToHospital ? request.hospital : nil])
                let transitionID = db.lastInsertedRowID
                var subjects = [try Ledger.subject(db, "case_transition", transitionID)]
                if request.emergencyOverride != nil {
                    try db.execute(sql: "INSERT INTO override_review (transition_id, case_id) VALUES (?, ?)", arguments: [transitionID, id])
                    subjects.append(try Ledger.subject(db, "override_review", transitionID))
                }
                let due = request.to == .closed ? nil : policy.due(tier: facts.tier, state: request.to, enteredAt: now)
                try db.execute(sql: """
                    UPDATE psych_case SET state = ?, state_entered_at = ?, due_at = ?,
                           referred_to_centre = referred_to_centre OR ?, hospital = COALESCE(?, hospital), closed_at = ?
                    WHERE id = ?
                    """, arguments: [request.to.rawValue, now, due, request.to == .referredToCentre ? 1 : 0,
                                     request.to == .referredToHospital ? request.hospital : nil, request.to == .closed ? now : nil, id])
                subjects.append(try Ledger.subject(db, "psych_case", id))
                try Ledger.append(db, store: self, at: now, actor: actor, action: "transition", caseID: id,
                                  detail: "\(facts.state.rawValue) → \(request.to.rawValue); guardian informed \(request.guardianInformed ? "yes" : "no"); consent \(request.consent.rawValue)"
                                    + (request.emergencyOverride.map { "; EMERGENCY OVERRIDE: \($0)" } ?? ""),
                                  subjects: subjects)
                let (after, row) = try CaseRows.facts(db, id)!
                return try caseView(db, facts: after, row: row, view: Access.view(for: actor.role)!, now: now)
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "refused transition", caseID: id, detail: "→ \(request.to.rawValue): \(error)")
            throw error
        }
    }

    /// Moves an open case to another school (the student changed schools): the counsellor of its school, or the
    /// centre for a case it holds. The target school must be on the county's list or records; audited.
    public func transfer(actor: Actor, id: Int64, toSchool: String, reason: String, at requested: Int? = nil, rules: CaseRules = CaseRules()) throws {
        let now = try clock(requested)
        do {
            try write { db in
                guard let (facts, _) = try CaseRows.facts(db, id), Access.canTransfer(actor, facts, now: now, rules: rules) else {
                    throw CaseError.notInScope(NotInScope(caseID: id))
                }
                do { try rules.check(reason: reason) } catch let e as TransitionError { throw CaseError.transition(e) }
                guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CaseError.invalid("a transfer needs a reason") }
                guard toSchool != facts.school else { throw CaseError.transferRefused("the case is at \(toSchool) already") }
                let listed = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM school WHERE code = ?)", arguments: [toSchool]) ?? false
                guard try listed || CaseRows.isKnown(db, student: facts.studentID, school: toSchool) else {
                    throw CaseError.transferRefused("\(PrintableText.escape(toSchool)) is neither on the county's school list nor a school the student is recorded at")
                }
                let clash = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM psych_case WHERE student_id = ? AND school_code = ? AND state <> 'closed')",
                                              arguments: [facts.studentID, toSchool]) ?? false
                guard !clash else { throw CaseError.transferRefused("the county centre must merge this case with the target school's (ask the centre)") }
                try db.execute(sql: "UPDATE psych_case SET school_code = ? WHERE id = ?", arguments: [toSchool, id])
                try db.execute(sql: "DELETE FROM mentor_of WHERE student_id = ? AND school_code = ?", arguments: [facts.studentID, facts.school])
                try Ledger.append(db, store: self, at: now, actor: actor, action: "transferred", caseID: id,
                                  detail: "\(facts.school) → \(toSchool): \(reason)", subjects: [try Ledger.subject(db, "psych_case", id)])
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "refused transfer", caseID: id, detail: "→ \(toSchool.prefix(40)): \(error)")
            throw error
        }
    }

    /// The actor's queue: open cases in scope, overdue steps escalated (once per step, recorded), ordered by
    /// tier after escalation, then how overdue, then age. Each listed case is logged as read.
    public func queue(actor: Actor, at requested: Int? = nil, limit: Int = 50) throws -> [QueueItem] {
        let now = try clock(requested)
        do {
            return try write { db in
                let scope: (String, StatementArguments)
                switch actor.role {
                case .healthOffice: throw CaseError.countsOnly
                case .admin: throw CaseError.notPermitted("administrators manage accounts and read no case")
                case .nurse: throw CaseError.notPermitted("school nurses upload screenings and read no case")
                case .counsellor: scope = ("school_code = ? AND state <> 'closed'", [actor.organisation])
                case .centre: scope = ("referred_to_centre = 1 AND state <> 'closed'", [])
                case .hospital: scope = ("hospital = ? AND state <> 'closed'", [actor.organisation])
                case .mentor: scope = ("state <> 'closed' AND school_code = ? AND student_id IN (SELECT student_id FROM mentor_of WHERE account_id = ? AND school_code = ?)",
                                       [actor.organisation, actor.accountID ?? -1, actor.organisation])
                }
                try CaseRows.escalate(db, store: self, scope: scope, actor: actor, now: now)
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
                for item in listed { try Ledger.append(db, store: self, at: now, actor: actor, action: "read", caseID: item.caseId, detail: "listed in queue") }
                return listed
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "denied queue", caseID: nil, detail: "\(error)")
            throw error
        }
    }

    /// Open cases per tier after escalation (the tiers the queues show) and cases per state: what the health
    /// office sees (counts only, logged). Overdue steps are escalated first, county-wide, as a queue would.
    public func caseCounts(actor: Actor, at requested: Int? = nil) throws -> CaseCounts {
        let now = try clock(requested)
        guard actor.role == .healthOffice || actor.role == .centre else {
            try auditSeparately(at: now, actor: actor, action: "denied counts", caseID: nil, detail: "")
            throw CaseError.notPermitted("case counts are for the health office and the county centre")
        }
        return try write { db in
            try CaseRows.escalate(db, store: self, scope: ("state <> 'closed'", []), actor: actor, now: now)
            try Ledger.append(db, store: self, at: now, actor: actor, action: "counts", caseID: nil, detail: "")
            let byTier = try Row.fetchAll(db, sql: "SELECT effective_urgency AS u, COUNT(*) AS n FROM psych_case WHERE state <> 'closed' GROUP BY effective_urgency")
            let byState = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM psych_case GROUP BY state")
            return CaseCounts(open: Dictionary(uniqueKeysWithValues: byTier.map { (Tier.allCases[min(2, max(0, $0["u"] as Int))].rawValue, $0["n"]) }),
                              byState: Dictionary(uniqueKeysWithValues: byState.map { ($0["state"], $0["n"]) }))
        }
    }

    /// A case's audit trail, for those allowed to see it (the counsellor of its school, the centre).
    public func auditTrail(actor: Actor, id: Int64, at requested: Int? = nil, rules: CaseRules = CaseRules()) throws -> [AuditEvent] {
        let now = try clock(requested)
        do {
            return try write { db in
                guard let (facts, _) = try CaseRows.facts(db, id), Access.canReadAudit(actor),
                      Access.canRead(actor, facts, mentorOf: false, now: now, rules: rules) else {
                    throw CaseError.notInScope(NotInScope(caseID: id))
                }
                try Ledger.append(db, store: self, at: now, actor: actor, action: "read audit", caseID: id, detail: "")
                return try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE case_id = ? ORDER BY seq", arguments: [id]).map { r in
                    AuditEvent(seq: r["seq"], at: r["at"], clock: r["clock"], actorUser: r["actor_user"], actorRole: r["actor_role"], actorOrg: r["actor_org"],
                               action: r["action"], caseId: r["case_id"], detail: r["detail"])
                }
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "denied audit read", caseID: id, detail: "")
            throw error
        }
    }

    /// Emergency overrides, pending review first (the county centre only; logged).
    public func overrideReviews(actor: Actor, pendingOnly: Bool = true, at requested: Int? = nil) throws -> [OverrideReview] {
        let now = try clock(requested)
        guard Access.canReviewOverrides(actor) else {
            try auditSeparately(at: now, actor: actor, action: "denied override reviews", caseID: nil, detail: "")
            throw CaseError.notPermitted("the county centre reviews emergency overrides")
        }
        return try write { db in
            try Ledger.append(db, store: self, at: now, actor: actor, action: "read override reviews", caseID: nil, detail: pendingOnly ? "pending" : "all")
            return try Row.fetchAll(db, sql: """
                SELECT r.*, t.at, t.actor_user, t.to_state, t.emergency_override, c.school_code FROM override_review r
                JOIN case_transition t ON t.id = r.transition_id JOIN psych_case c ON c.id = r.case_id
                \(pendingOnly ? "WHERE r.reviewed_at IS NULL" : "") ORDER BY r.reviewed_at IS NOT NULL, t.at, r.transition_id
                """).map { r in
                OverrideReview(caseId: r["case_id"], transitionId: r["transition_id"], at: r["at"], by: r["actor_user"], school: r["school_code"],
                               to: CaseState(rawValue: r["to_state"])!, reason: r["emergency_override"] ?? "", reviewedAt: r["reviewed_at"],
                               reviewNote: r["review_note"])
            }
        }
    }

    /// Records the centre's review of a case's pending emergency overrides (audited).
    public func reviewOverride(actor: Actor, caseID: Int64, note: String, at requested: Int? = nil, rules: CaseRules = CaseRules()) throws -> Int {
        let now = try clock(requested)
        do {
            return try write { db in
                guard Access.canReviewOverrides(actor) else { throw CaseError.notPermitted("the county centre reviews emergency overrides") }
                do { try rules.check(reason: note) } catch let e as TransitionError { throw CaseError.transition(e) }
                guard !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CaseError.invalid("a review needs a note (what was checked, what follows)") }
                let pending = try Int64.fetchAll(db, sql: "SELECT transition_id FROM override_review WHERE case_id = ? AND reviewed_at IS NULL", arguments: [caseID])
                guard !pending.isEmpty else { throw CaseError.invalid("case \(caseID) has no emergency override waiting for review") }
                try db.execute(sql: "UPDATE override_review SET reviewed_at = ?, reviewer_account = ?, review_note = ? WHERE case_id = ? AND reviewed_at IS NULL",
                               arguments: [now, actor.accountID, note, caseID])
                try Ledger.append(db, store: self, at: now, actor: actor, action: "override reviewed", caseID: caseID, detail: note,
                                  subjects: try pending.map { try Ledger.subject(db, "override_review", $0) })
                return pending.count
            }
        } catch let error as CaseError {
            try auditSeparately(at: now, actor: actor, action: "refused review", caseID: caseID, detail: "\(error)")
            throw error
        }
    }
}
