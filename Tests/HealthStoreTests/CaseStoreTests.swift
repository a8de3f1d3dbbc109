import Foundation
import Testing
@testable import HealthStore
import HealthRisk
import HealthTestSupport
import GRDB
import Crypto

let policy = DeadlinePolicy(deadlines: [
    .red: [.identified: Deadline(amount: 4, unit: .hours), .referredToCentre: Deadline(amount: 24, unit: .hours),
           .centreAssessed: Deadline(amount: 24, unit: .hours), .referredToHospital: Deadline(amount: 48, unit: .hours)],
    .orange: [.identified: Deadline(amount: 3, unit: .schoolDays)],
    .yellow: [.identified: Deadline(amount: 10, unit: .schoolDays)],
])
let t0 = 1_728_360_000   // 2024-10-08 12:00 +08:00

/// A small county on a drill database (so that tests may set times): registered accounts, the mentor grid,
/// case A (S1, referred to the centre and hospital H1), case B (S1), case C (S2).
struct World {
    let store: Store
    let a: Int64, b: Int64, c: Int64
    let admin, counsellorS1, counsellorS2, mentorA, mentorNone, namesake, centre, hospitalH1, hospitalH2, office: Actor
    /// Tokens by login.
    let tokens: [String: String]

    init(drill: Bool = true) throws {
        let store = try Store.inMemory(drill: drill)
        let first = try store.createFirstAdministrator(login: "admin", name: "Admin", password: nil, issueToken: true)
        let admin = try store.authenticate(token: first.token!)
        var tokens = ["admin": first.token!]
        func account(_ login: String, _ role: Role, _ org: String, name: String? = nil) throws -> Actor {
            let t = try store.addAccount(by: admin, login: login, name: name ?? login, role: role, organisation: org, password: nil, issueToken: true).token!
            tokens[login] = t
            return try store.authenticate(token: t)
        }
        let counsellorS1 = try account("c1", .counsellor, "S1"), counsellorS2 = try account("c2", .counsellor, "S2")
        let mentorA = try account("m1", .mentor, "S1", name: "王芳")
        let mentorNone = try account("m2", .mentor, "S1")
        let namesake = try account("m1b", .mentor, "S1", name: "王芳")    // the same name as m1: sees nothing of m1's students
        _ = try account("t1", .mentor, "S1"); _ = try account("t2", .mentor, "S2")
        let centre = try account("centre1", .centre, "county-centre")
        let hospitalH1 = try account("h1", .hospital, "H1"), hospitalH2 = try account("h2", .hospital, "H2")
        let office = try account("office1", .healthOffice, "bureau")
        try store.assign(actor: counsellorS1, student: "stuA", className: "1", mentorLogin: "m1")
        try store.assign(actor: counsellorS1, student: "stuB", className: "2", mentorLogin: "t1", role: "class-teacher")
        try store.assign(actor: counsellorS2, student: "stuC", className: "1", mentorLogin: "t2", role: "class-teacher")
        try store.assign(actor: counsellorS2, student: "stuD", className: "1", mentorLogin: "t2", role: "class-teacher")
        let when: (Int) -> Int? = { drill ? $0 : nil }
        let a = try store.raiseFlag(actor: counsellorS1, student: "stuA", className: "1", tier: .red, kind: "disclosure",
                                    reason: "told a teacher", at: when(t0), policy: policy).caseID
        b = try store.raiseFlag(actor: counsellorS1, student: "stuB", className: "2", tier: .yellow, kind: "observation",
                                reason: "withdrawn", at: when(t0), policy: policy).caseID
        c = try store.raiseFlag(actor: counsellorS2, student: "stuC", className: "1", tier: .orange, kind: "incident",
                                reason: "fight", at: when(t0), policy: policy).caseID
        _ = try store.advance(actor: counsellorS1, id: a, request: TransitionRequest(to: .referredToCentre, note: "urgent", guardianInformed: true, consent: .given), at: when(t0 + 60), policy: policy)
        _ = try store.advance(actor: centre, id: a, request: TransitionRequest(to: .centreAssessed, note: "assessed"), at: when(t0 + 120), policy: policy)
        _ = try store.advance(actor: centre, id: a, request: TransitionRequest(to: .referredToHospital, note: "to H1", guardianInformed: true, consent: .given, hospital: "H1"), at: when(t0 + 180), policy: policy)
        self.store = store; self.a = a; self.tokens = tokens
        (self.admin, self.counsellorS1, self.counsellorS2, self.mentorA, self.mentorNone, self.namesake) = (admin, counsellorS1, counsellorS2, mentorA, mentorNone, namesake)
        (self.centre, self.hospitalH1, self.hospitalH2, self.office) = (centre, hospitalH1, hospitalH2, office)
    }

    func events(_ action: String) throws -> [Row] {
        try store.queue.read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE action = ? ORDER BY seq", arguments: [action]) }
    }
}

@Suite("Cases: permissions, scopes, audit, escalation", .serialized)
struct CaseStoreTests {
    @Test("Permission matrix: every role × read, queue, audit trail, flag — in scope and out of scope; no leaks")
    func matrix() throws {
        let w = try World()
        let missing: Int64 = 999
        //                           actor                 readable cases
        let expectations: [(Actor, Set<Int64>)] = [
            (w.mentorA, [w.a]), (w.mentorNone, []), (w.namesake, []), (w.counsellorS1, [w.a, w.b]), (w.counsellorS2, [w.c]),
            (w.centre, [w.a]), (w.hospitalH1, [w.a]), (w.hospitalH2, []), (w.office, []), (w.admin, []),
        ]
        for (actor, allowed) in expectations {
            for id in [w.a, w.b, w.c, missing] {
                do {
                    let view = try w.store.showCase(actor: actor, id: id, at: t0 + 300)
                    #expect(allowed.contains(id), "\(actor.role) \(actor.user) read case \(id)")
                    switch actor.role {
                    case .mentor:
                        #expect(view.flags.allSatisfy { $0.reason == nil && $0.ruleID == nil }, "mentor sees no reasons or scores")
                        #expect(view.transitions.allSatisfy { $0.note == nil }, "mentor sees actions, not notes")
                    case .hospital:
                        #expect(view.flags.isEmpty && view.school == nil, "hospital: minimum necessary")
                        #expect(view.transitions.allSatisfy { [.referredToCentre, .referredToHospital, .hospitalFeedback].contains($0.to) })
                    default: break
                    }
                } catch let error as CaseError {
                    #expect(!allowed.contains(id), "\(actor.role) \(actor.user) refused case \(id): \(error)")
                    // The refusal is the same whether the case exists or not.
                    #expect(error.description == "no case \(id) that you may see")
                }
            }
            switch actor.role {
            case .healthOffice:
                #expect(throws: CaseError.countsOnly) { try w.store.queue(actor: actor, at: t0 + 300) }
                let counts = try w.store.caseCounts(actor: actor, at: t0 + 300)
                #expect(counts.open.values.reduce(0, +) == 3)
                let json = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
                #expect(!json.contains("stu") && !json.contains("S1"), "counts carry no identities")
            case .admin:
                #expect(throws: CaseError.self) { try w.store.queue(actor: actor, at: t0 + 300) }
                #expect(throws: CaseError.self) { try w.store.caseCounts(actor: actor, at: t0 + 300) }
            default:
                #expect(Set(try w.store.queue(actor: actor, at: t0 + 300).map(\.caseId)) == allowed)
            }
            // Audit trails: counsellor of the school and the centre only.
            for id in [w.a, w.b, w.c] {
                let mayAudit = (actor.role == .counsellor || actor.role == .centre) && allowed.contains(id)
                do {
                    let events = try w.store.auditTrail(actor: actor, id: id, at: t0 + 400)
                    #expect(mayAudit)
                    #expect(events.allSatisfy { $0.caseId == id }, "no other case leaks into a trail")
                } catch {
                    #expect(!mayAudit)
                    #expect(String(describing: error) == "no case \(id) that you may see")
                }
            }
        }
        // Flags: mentors for their own students, counsellors for their own school, nobody else.
        #expect(throws: Never.self) { try w.store.raiseFlag(actor: w.mentorA, student: "stuA", className: nil, tier: .yellow, kind: "observation", reason: "sad", at: t0, policy: policy) }
        for actor in [w.mentorNone, w.namesake, w.counsellorS2, w.centre, w.hospitalH1, w.office, w.admin] {
            #expect(throws: CaseError.self) { try w.store.raiseFlag(actor: actor, student: "stuA", className: nil, tier: .yellow, kind: "observation", reason: "x", at: t0, policy: policy) }
        }
        // Actions: only the acting role in scope.
        #expect(throws: CaseError.notInScope(NotInScope(caseID: w.c))) {
            try w.store.advance(actor: w.counsellorS1, id: w.c, request: TransitionRequest(to: .assessed, note: ""), at: t0, policy: policy)
        }
        #expect(throws: CaseError.self) {
            try w.store.advance(actor: w.mentorA, id: w.a, request: TransitionRequest(to: .hospitalFeedback, note: ""), at: t0, policy: policy)
        }
        let fed = try w.store.advance(actor: w.hospitalH1, id: w.a,
                                      request: TransitionRequest(to: .hospitalFeedback, note: "", feedback: HospitalFeedback(attendance: "attends", safetyAdvice: "no night study", nextVisit: "2024-10-22")),
                                      at: t0 + 500, policy: policy)
        #expect(fed.state == .hospitalFeedback)
        // The feedback text reaches the counsellor and the centre, not the mentor, not even the hospital's own view.
        let feedback = HospitalFeedback(attendance: "attends", safetyAdvice: "no night study", nextVisit: "2024-10-22")
        for (actor, sees) in [(w.counsellorS1, true), (w.centre, true), (w.mentorA, false), (w.hospitalH1, false)] {
            let view = try w.store.showCase(actor: actor, id: w.a, at: t0 + 600)
            #expect((view.transitions.last?.feedback == feedback) == sees, "\(actor.user)")
            #expect(!String(decoding: try JSONEncoder().encode(view), as: UTF8.self).contains("no night study") || sees)
        }
        #expect(try w.store.verifyAudit().ok)
    }

    @Test("Accounts: passwords and tokens authenticate, wrong or disabled ones do not, only administrators manage accounts")
    func accounts() throws {
        let w = try World()
        let issued = try w.store.addAccount(by: w.admin, login: "li.counsellor", name: "李老师", role: .counsellor, organisation: "S1",
                                            password: "correct horse battery", issueToken: false)
        #expect(issued.token == nil && issued.account.hasPassword)
        let li = try w.store.authenticate(login: "li.counsellor", password: "correct horse battery")
        #expect(li.role == .counsellor && li.organisation == "S1")
        #expect(throws: CaseError.authenticationFailed) { try w.store.authenticate(login: "li.counsellor", password: "wrong password!") }
        #expect(throws: CaseError.authenticationFailed) { try w.store.authenticate(login: "nobody", password: "correct horse battery") }
        #expect(throws: CaseError.authenticationFailed) { try w.store.authenticate(token: "sht_2_" + String(repeating: "0", count: 64)) }
        // The password is stored as scrypt, never as a plain hash.
        let stored = try w.store.queue.read { db in try String.fetchOne(db, sql: "SELECT password_kdf FROM account WHERE login = 'li.counsellor'") }
        #expect(stored?.hasPrefix("scrypt$16384$8$1$") == true)
        #expect(!(stored ?? "").contains("correct horse"))
        // A weak password, a duplicate login and a non-administrator are refused.
        #expect(throws: CaseError.self) { try w.store.addAccount(by: w.admin, login: "x1", name: "x", role: .mentor, organisation: "S1", password: "short", issueToken: false) }
        #expect(throws: CaseError.self) { try w.store.addAccount(by: w.admin, login: "c1", name: "x", role: .mentor, organisation: "S1", password: nil, issueToken: true) }
        #expect(throws: CaseError.self) { try w.store.addAccount(by: w.counsellorS1, login: "x2", name: "x", role: .centre, organisation: "c", password: nil, issueToken: true) }
        #expect(throws: CaseError.self) { try w.store.accounts(by: w.centre) }
        // Reset: the old token stops working at once.
        let old = w.tokens["c1"]!
        let reset = try w.store.resetAccount(by: w.admin, login: "c1", password: nil, issueToken: true)
        #expect(throws: CaseError.authenticationFailed) { try w.store.authenticate(token: old) }
        #expect(try w.store.authenticate(token: reset.token!).user == "c1")
        // Disabled: nothing works any more.
        _ = try w.store.disableAccount(by: w.admin, login: "li.counsellor")
        #expect(throws: CaseError.authenticationFailed) { try w.store.authenticate(login: "li.counsellor", password: "correct horse battery") }
        #expect(throws: CaseError.self) { try w.store.disableAccount(by: w.admin, login: "admin") }
        // Every change and failure is in the log.
        #expect(try w.events("login failed").count == 5)
        #expect(try w.events("account added").count >= 11)
        #expect(try w.events("credentials reset").count == 1 && w.events("account disabled").count == 1)
        #expect(try w.events("refused").count == 2)
        #expect(try w.store.verifyAudit().ok)
    }

    @Test("Cross-school: another school's student is refused like a nonexistent one; a flag never joins another school's case")
    func crossSchool() throws {
        let w = try World()
        // Counsellor of S2 tries the student of S1 who has a case, and a student who does not exist: the same answer.
        var messages: [String] = []
        for student in ["stuA", "ghost"] {
            do {
                _ = try w.store.raiseFlag(actor: w.counsellorS2, student: student, className: nil, tier: .red, kind: "observation", reason: "x", at: t0, policy: policy)
                Issue.record("flag for \(student) was accepted")
            } catch let e as CaseError { messages.append(e.description.replacingOccurrences(of: student, with: "ID")) }
        }
        #expect(messages.count == 2 && messages[0] == messages[1])
        // S2 puts S1's student on its own grid (a typo, or on purpose) and flags: a case of S2's own, never S1's.
        try w.store.assign(actor: w.counsellorS2, student: "stuA", className: "9", mentorLogin: "t2")
        let own = try w.store.raiseFlag(actor: w.counsellorS2, student: "stuA", className: nil, tier: .red, kind: "observation", reason: "x", at: t0, policy: policy)
        #expect(own.opened && own.caseID != w.a)
        let a = try w.store.showCase(actor: w.counsellorS1, id: w.a, at: t0 + 1)
        #expect(a.flags.count == 1, "S1's case is untouched")
        #expect(throws: CaseError.notInScope(NotInScope(caseID: w.a))) { try w.store.showCase(actor: w.counsellorS2, id: w.a, at: t0 + 1) }
        // A mentor cannot flag for a school: the school is their account's; the student must be theirs.
        #expect(throws: CaseError.self) { try w.store.raiseFlag(actor: w.mentorA, student: "stuC", className: nil, tier: .red, kind: "disclosure", reason: "x", at: t0, policy: policy) }
        // Assigning another school's mentor, or as a mentor, is refused (and logged).
        #expect(throws: CaseError.self) { try w.store.assign(actor: w.counsellorS1, student: "stuB", className: nil, mentorLogin: "t2") }
        #expect(throws: CaseError.self) { try w.store.assign(actor: w.mentorA, student: "stuB", className: nil, mentorLogin: "m1") }
        #expect(try w.events("refused assignment").count == 2)
        #expect(try w.events("refused flag").count == 3)
        // A case moves only by an explicit, audited transfer, to a school that knows the student.
        #expect(throws: CaseError.self) { try w.store.transfer(actor: w.counsellorS1, id: w.b, toSchool: "S9", reason: "moved", at: t0 + 10) }
        #expect(throws: CaseError.self) { try w.store.transfer(actor: w.counsellorS2, id: w.b, toSchool: "S2", reason: "moved", at: t0 + 10) }
        try w.store.assign(actor: w.counsellorS2, student: "stuB", className: "3", mentorLogin: "t2")
        try w.store.transfer(actor: w.counsellorS1, id: w.b, toSchool: "S2", reason: "moved to S2", at: t0 + 20)
        #expect(try w.store.showCase(actor: w.counsellorS2, id: w.b, at: t0 + 21).school == "S2")
        #expect(throws: CaseError.self) { try w.store.showCase(actor: w.counsellorS1, id: w.b, at: t0 + 21) }
        #expect(try w.events("transferred").count == 1)
        #expect(try w.store.verifyAudit().ok)
    }

    @Test("A hand-off names a registered hospital; closed cases leave the centre's and hospital's scope after the retention period")
    func hospitalAndRetention() throws {
        let w = try World()
        let d = try w.store.raiseFlag(actor: w.counsellorS2, student: "stuD", className: nil, tier: .orange, kind: "observation", reason: "x", at: t0, policy: policy).caseID
        _ = try w.store.advance(actor: w.counsellorS2, id: d, request: TransitionRequest(to: .referredToCentre, note: "", consent: .given), at: t0 + 1, policy: policy)
        _ = try w.store.advance(actor: w.centre, id: d, request: TransitionRequest(to: .centreAssessed, note: ""), at: t0 + 2, policy: policy)
        for hospital in ["H9", "", nil] as [String?] {
            #expect(throws: CaseError.transition(.hospitalNotRegistered(hospital ?? ""))) {
                try w.store.advance(actor: w.centre, id: d, request: TransitionRequest(to: .referredToHospital, note: "", consent: .given, hospital: hospital), at: t0 + 3, policy: policy)
            }
        }
        // The refusals were logged although their transaction was rolled back.
        #expect(try w.events("refused transition").count == 3)
        _ = try w.store.advance(actor: w.counsellorS2, id: d, request: TransitionRequest(to: .closed, note: "resolved"), at: t0 + 4, policy: policy)
        var rules = CaseRules()
        rules.closedRetentionDays = 30
        #expect(try w.store.showCase(actor: w.centre, id: d, at: t0 + 29 * 86400, rules: rules).state == .closed)
        #expect(throws: CaseError.self) { try w.store.showCase(actor: w.centre, id: d, at: t0 + 31 * 86400, rules: rules) }
        #expect(try w.store.showCase(actor: w.counsellorS2, id: d, at: t0 + 400 * 86400, rules: rules).state == .closed)
    }

    @Test("Emergency overrides need a reason and wait for the centre's review; notes and reasons have a length limit")
    func overrides() throws {
        let w = try World()
        let d = try w.store.raiseFlag(actor: w.counsellorS2, student: "stuD", className: nil, tier: .red, kind: "disclosure", reason: "plan", at: t0, policy: policy).caseID
        for reason in ["", "   "] {
            #expect(throws: CaseError.transition(.overrideReasonRequired)) {
                try w.store.advance(actor: w.counsellorS2, id: d, request: TransitionRequest(to: .referredToCentre, note: "", emergencyOverride: reason), at: t0 + 1, policy: policy)
            }
        }
        #expect(throws: CaseError.transition(.tooLong(field: "note", limit: 2000, length: 2001))) {
            try w.store.advance(actor: w.counsellorS2, id: d, request: TransitionRequest(to: .assessed, note: String(repeating: "x", count: 2001)), at: t0 + 1, policy: policy)
        }
        _ = try w.store.advance(actor: w.counsellorS2, id: d, request: TransitionRequest(to: .referredToCentre, note: "escorted", emergencyOverride: "guardian unreachable, risk tonight"), at: t0 + 30, policy: policy)
        #expect(throws: CaseError.self) { try w.store.overrideReviews(actor: w.counsellorS2, at: t0 + 40) }
        let pending = try w.store.overrideReviews(actor: w.centre, at: t0 + 40)
        #expect(pending.map(\.caseId) == [d] && pending[0].reason == "guardian unreachable, risk tonight")
        #expect(throws: CaseError.self) { try w.store.reviewOverride(actor: w.centre, caseID: d, note: " ", at: t0 + 50) }
        #expect(try w.store.reviewOverride(actor: w.centre, caseID: d, note: "justified: guardian called back at 22:00", at: t0 + 50) == 1)
        #expect(try w.store.overrideReviews(actor: w.centre, at: t0 + 60).isEmpty)
        #expect(try w.events("override reviewed").count == 1)
        let trail = try w.store.auditTrail(actor: w.counsellorS2, id: d, at: t0 + 70)
        #expect(trail.contains { $0.detail.contains("EMERGENCY OVERRIDE: guardian unreachable") })
        #expect(try w.store.verifyAudit().ok)
    }

    @Test("Every read and every refusal is logged, denied reads included (the log knows, the actor is not told)")
    func auditEvents() throws {
        let w = try World()
        _ = try w.store.showCase(actor: w.counsellorS1, id: w.b, at: t0 + 10)
        _ = try? w.store.showCase(actor: w.counsellorS2, id: w.b, at: t0 + 10)
        _ = try? w.store.showCase(actor: w.counsellorS2, id: 4242, at: t0 + 10)
        _ = try? w.store.queue(actor: w.office, at: t0 + 10)
        let denied = try w.events("denied read")
        #expect(denied.map { $0["case_id"] as Int64? } == [w.b, 4242])
        #expect(denied.allSatisfy { ($0["actor_user"] as String) == "c2" })
        #expect(try w.events("denied queue").count == 1)
        #expect(try w.events("mentor assigned").count == 4)
    }

    @Test("Times come from the clock: a database that is not a drill database refuses a time set by hand")
    func realTime() throws {
        let w = try World(drill: false)
        #expect(throws: CaseError.simulatedTime) { try w.store.queue(actor: w.counsellorS1, at: t0 + 999_999_999) }
        let before = Int(Date().timeIntervalSince1970)
        _ = try w.store.showCase(actor: w.counsellorS1, id: w.b)
        let read = try #require(try w.events("read").last)
        #expect((read["at"] as Int) >= before && (read["clock"] as String) == "system")
        // On a drill database everything says so.
        let drill = try World()
        #expect(try drill.store.queue.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT clock FROM audit_event") } == ["drill"])
        #expect(try drill.store.queue.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT clock FROM case_transition") } == ["drill"])
    }

    @Test("Overdue steps escalate once, are recorded, rise in the queue, and the health office counts the same tiers")
    func escalation() throws {
        let w = try World()
        // Case B (yellow) due in 10 school days; case C (orange) in 3. Two weeks later both are overdue.
        let later = t0 + 15 * 86400
        let first = try w.store.queue(actor: w.counsellorS1, at: later)
        let b = try #require(first.first { $0.caseId == w.b })
        #expect(b.escalations == 1 && b.effectiveTier == .orange && b.overdueSeconds > 0)
        _ = try w.store.queue(actor: w.counsellorS1, at: later + 3600)
        #expect(try w.store.queue(actor: w.counsellorS1, at: later + 7200).first { $0.caseId == w.b }?.escalations == 1)   // once per step
        let trail = try w.store.auditTrail(actor: w.counsellorS1, id: w.b, at: later)
        #expect(trail.filter { $0.action == "escalated" }.count == 1)
        // The counts: A red, B orange after escalation, C (orange, overdue) red after escalation.
        let counts = try w.store.caseCounts(actor: w.office, at: later)
        let queued = try w.store.queue(actor: w.counsellorS1, at: later) + w.store.queue(actor: w.counsellorS2, at: later)
        var tiers: [String: Int] = [:]
        for q in queued { tiers[q.effectiveTier.rawValue, default: 0] += 1 }
        #expect(counts.open == tiers)
    }

    @Test("The audit log refuses updates and deletes, and verify catches edited, removed and reordered events", arguments: ["edit", "delete", "reorder"])
    func tamper(kind: String) throws {
        let w = try World()
        #expect(try w.store.verifyAudit().ok)
        #expect(throws: (any Error).self) { try w.store.queue.write { db in try db.execute(sql: "UPDATE audit_event SET detail = 'x' WHERE seq = 2") } }
        #expect(throws: (any Error).self) { try w.store.queue.write { db in try db.execute(sql: "DELETE FROM audit_event WHERE seq = 2") } }
        try w.store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete")
            switch kind {
            case "edit": try db.execute(sql: "UPDATE audit_event SET detail = 'nothing happened' WHERE seq = 3")
            case "delete": try db.execute(sql: "DELETE FROM audit_event WHERE seq = 3")
            default: try db.execute(sql: "UPDATE audit_event SET seq = -2 WHERE seq = 2; UPDATE audit_event SET seq = 2 WHERE seq = 3; UPDATE audit_event SET seq = 3 WHERE seq = -2")
            }
        }
        let result = try w.store.verifyAudit()
        #expect(!result.ok)
        switch kind {
        case "edit": #expect(result.problem?.contains("event 3 was edited") == true)
        case "delete": #expect(result.problem?.contains("event 3 is missing") == true)
        default: #expect(result.problem?.contains("event 2") == true)
        }
    }
}

@Suite("The keyed audit log against someone holding only the database file", .serialized)
struct AuditTamperTests {
    /// The attack that worked on the unkeyed chain: drop the triggers, change "consent given" to "refused" and
    /// back-date it, then recompute every event's hash (here: every way the attacker can without the key).
    @Test("Rewriting a transition and recomputing the chain (SHA-256, or HMAC under a guessed key) is detected", arguments: ["sha", "hmac", "row-only"])
    func rewrite(how: String) throws {
        let w = try World()
        try w.store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete")
            try db.execute(sql: "UPDATE case_transition SET consent = 'refused', at = at - 86400 WHERE case_id = ? AND to_state = 'referred_to_centre'", arguments: [w.a])
            guard how != "row-only" else { return }
            try db.execute(sql: "UPDATE audit_event SET detail = replace(detail, 'consent given', 'consent refused')")
            var prev = AuditChain.zeroHash
            let guess = SymmetricKey(data: [UInt8](repeating: 7, count: 32))
            for r in try Row.fetchAll(db, sql: "SELECT * FROM audit_event ORDER BY seq") {
                let record = AuditRecord(seq: r["seq"], at: r["at"], clock: r["clock"], actorAccount: r["actor_account"], actorUser: r["actor_user"],
                                         actorRole: r["actor_role"], actorOrg: r["actor_org"], action: r["action"], caseID: r["case_id"],
                                         detail: r["detail"], subjects: r["subjects"])
                let hash = how == "sha"
                    ? AuditChain.legacyHash(prev: prev, seq: record.seq, at: record.at, user: record.actorUser, role: record.actorRole, org: record.actorOrg,
                                            action: record.action, caseID: record.caseID, detail: record.detail)
                    : AuditChain.mac(prev: prev, record, key: guess)
                try db.execute(sql: "UPDATE audit_event SET prev_hash = ?, hash = ? WHERE seq = ?", arguments: [prev, hash, record.seq])
                prev = hash
            }
        }
        let result = try w.store.verifyAudit()
        #expect(!result.ok, "\(how)")
        if how == "row-only" { #expect(result.problem?.contains("case_transition") == true && result.problem?.contains("changed outside") == true) }
        else { #expect(result.problem?.contains("edited or forged") == true) }
    }

    @Test("An emptied log fails verification; so does one whose head was cut off, against a checkpoint")
    func emptyAndTruncated() throws {
        let w = try World()
        let checkpoint = try w.store.auditCheckpoint(actor: w.office)
        #expect(try w.store.verifyAudit(expect: checkpoint).ok)
        #expect(throws: CaseError.self) { try w.store.auditCheckpoint(actor: w.counsellorS1) }
        _ = try w.store.showCase(actor: w.counsellorS1, id: w.a, at: t0 + 1)
        #expect(try w.store.verifyAudit(expect: checkpoint).ok, "a log that grew still holds its checkpoint")
        // A checkpoint signed with another key, or edited, is refused.
        let forged = checkpoint.replacingOccurrences(of: "shcp1-", with: "shcp1-9")
        #expect(try w.store.verifyAudit(expect: forged).problem?.contains("not signed") == true)
        // Cut the last events off (the rows they wrote removed too, so that the rest is consistent).
        let total = try w.store.queue.read { db in try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM audit_event")! }
        try w.store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_no_delete")
            try db.execute(sql: "DELETE FROM audit_event WHERE seq > ?", arguments: [total - 6])
        }
        let cut = try w.store.verifyAudit(expect: checkpoint)
        #expect(!cut.ok && cut.problem?.contains("cut off") == true)
        // Emptied: nothing to verify is a failure, not "intact: 0 events".
        try w.store.queue.write { db in try db.execute(sql: "DELETE FROM audit_event") }
        let empty = try w.store.verifyAudit()
        #expect(!empty.ok && empty.problem?.contains("empty") == true)
    }

    @Test("Turning a real database into a drill database (to set times by hand) is detected")
    func forgedDrillMark() throws {
        let w = try World(drill: false)
        try w.store.queue.write { db in try db.execute(sql: "INSERT OR REPLACE INTO store_setting (key, value) VALUES ('drill', '1')") }
        #expect(try w.store.verifyAudit().problem?.contains("mark was changed") == true)
    }

    @Test("Rows written or deleted outside SchoolHealth are detected: a forged account, a deleted flag")
    func foreignRows() throws {
        let w = try World()
        try w.store.queue.write { db in
            // A second administrator with a password hash of the attacker's choosing.
            try db.execute(sql: "INSERT INTO account (login, display_name, role, organisation, password_kdf, created_at) VALUES ('eve', 'eve', 'centre', 'x', ?, 0)",
                           arguments: [try PasswordHash.make("attacker password")])
        }
        #expect(try w.store.verifyAudit().problem?.contains("account:") == true)
        let w2 = try World()
        try w2.store.queue.write { db in try db.execute(sql: "DELETE FROM psych_flag WHERE case_id = ?", arguments: [w2.a]) }
        #expect(try w2.store.verifyAudit().problem?.contains("deleted outside") == true)
    }

    @Test("Files are owner-only: database, -wal, -shm, audit key; a key file that is missing stops audited work")
    func fileModes() throws {
        let dir = TestSupport.temporaryDirectory("modes")
        let path = dir + "/db.sqlite"
        let store = try Store.open(path: path)
        _ = try store.createFirstAdministrator(login: "admin", name: "a", password: nil, issueToken: true)
        for file in [path, path + "-wal", path + "-shm", path + ".auditkey"] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "\(file) is \(String(mode, radix: 8))")
        }
        #expect(try store.verifyAudit().ok)
        try FileManager.default.removeItem(atPath: path + ".auditkey")
        let reopened = try Store.open(path: path)
        #expect(throws: StoreError.auditKeyMissing(path: path + ".auditkey")) { try reopened.verifyAudit() }
        #expect(!FileManager.default.fileExists(atPath: path + ".auditkey"), "an existing database never gets a new key by itself")
    }
}

@Suite("Queue order in SQL")
struct QueueOrderTests {
    @Test("The database's queue order is Queue.order's (tier after escalation, overdue, age) on 2,000 synthetic cases")
    func sameOrder() throws {
        let store = try Store.inMemory(drill: true)
        try store.seedSyntheticCases(cases: 2_000, schools: 2, auditEvents: 10, now: t0, policy: policy)
        let admin = try store.authenticate(token: try store.createFirstAdministrator(login: "admin", name: "a", password: nil, issueToken: true).token!)
        let centre = try store.authenticate(token: try store.addAccount(by: admin, login: "kk", name: "k", role: .centre, organisation: "c", password: nil, issueToken: true).token!)
        let counsellor = try store.authenticate(token: try store.addAccount(by: admin, login: "xx", name: "x", role: .counsellor, organisation: "S001", password: nil, issueToken: true).token!)
        for actor in [centre, counsellor] {
            let items = try store.queue(actor: actor, at: t0 + 86400, limit: 100_000)
            let entries = items.map { QueueEntry(caseID: $0.caseId, tier: $0.tier, state: $0.state, openedAt: $0.openedAt, dueAt: $0.dueAt, escalations: $0.escalations) }
            #expect(items.count > 100)
            #expect(Queue.order(entries, now: t0 + 86400).map(\.caseID) == items.map(\.caseId))
        }
        #expect(try store.verifyAudit().ok)
    }
}
