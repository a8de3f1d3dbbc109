import Foundation
import Testing
@testable import HealthStore
import HealthRisk
import GRDB

let policy = DeadlinePolicy(deadlines: [
    .red: [.identified: Deadline(amount: 4, unit: .hours), .referredToCentre: Deadline(amount: 24, unit: .hours),
           .centreAssessed: Deadline(amount: 24, unit: .hours), .referredToHospital: Deadline(amount: 48, unit: .hours)],
    .orange: [.identified: Deadline(amount: 3, unit: .schoolDays)],
    .yellow: [.identified: Deadline(amount: 10, unit: .schoolDays)],
])
let t0 = 1_728_360_000   // 2024-10-08 12:00 +08:00

/// A small county: case A (S1, referred to the centre and hospital H1), case B (S1), case C (S2).
struct World {
    let store: Store
    let a: Int64, b: Int64, c: Int64
    static let counsellorS1 = Actor(role: .counsellor, organisation: "S1", user: "c1")
    static let counsellorS2 = Actor(role: .counsellor, organisation: "S2", user: "c2")
    static let mentorA = Actor(role: .mentor, organisation: "S1", user: "m1")
    static let mentorNone = Actor(role: .mentor, organisation: "S1", user: "m2")
    static let centre = Actor(role: .centre, organisation: "county-centre", user: "k")
    static let hospitalH1 = Actor(role: .hospital, organisation: "H1", user: "h1")
    static let hospitalH2 = Actor(role: .hospital, organisation: "H2", user: "h2")
    static let office = Actor(role: .healthOffice, organisation: "bureau", user: "o")

    init() throws {
        store = try Store.inMemory()
        try store.assign(school: "S1", className: "1", student: "stuA", mentor: "m1", role: "mentor")
        a = try store.raiseFlag(actor: World.counsellorS1, student: "stuA", school: "S1", className: "1", tier: .red, kind: "disclosure",
                                reason: "told a teacher", now: t0, policy: policy).caseID
        b = try store.raiseFlag(actor: World.counsellorS1, student: "stuB", school: "S1", className: "2", tier: .yellow, kind: "observation",
                                reason: "withdrawn", now: t0, policy: policy).caseID
        c = try store.raiseFlag(actor: World.counsellorS2, student: "stuC", school: "S2", className: "1", tier: .orange, kind: "incident",
                                reason: "fight", now: t0, policy: policy).caseID
        _ = try store.advance(actor: World.counsellorS1, id: a, request: TransitionRequest(to: .referredToCentre, note: "urgent", guardianInformed: true, consent: .given), now: t0 + 60, policy: policy)
        _ = try store.advance(actor: World.centre, id: a, request: TransitionRequest(to: .centreAssessed, note: "assessed"), now: t0 + 120, policy: policy)
        _ = try store.advance(actor: World.centre, id: a, request: TransitionRequest(to: .referredToHospital, note: "to H1", guardianInformed: true, consent: .given, hospital: "H1"), now: t0 + 180, policy: policy)
    }
}

@Suite("Cases: permissions, audit, escalation", .serialized)
struct CaseStoreTests {
    @Test("Permission matrix: every role × read, queue, audit trail, flag — in scope and out of scope; no leaks")
    func matrix() throws {
        let w = try World()
        let missing: Int64 = 999
        //                           actor                 readable cases
        let expectations: [(Actor, Set<Int64>)] = [
            (World.mentorA, [w.a]), (World.mentorNone, []), (World.counsellorS1, [w.a, w.b]), (World.counsellorS2, [w.c]),
            (World.centre, [w.a]), (World.hospitalH1, [w.a]), (World.hospitalH2, []), (World.office, []),
        ]
        for (actor, allowed) in expectations {
            for id in [w.a, w.b, w.c, missing] {
                do {
                    let view = try w.store.showCase(actor: actor, id: id, now: t0 + 300)
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
            // The queue lists exactly the readable open cases, or is refused (health office).
            if actor.role == .healthOffice {
                #expect(throws: CaseError.countsOnly) { try w.store.queue(actor: actor, now: t0 + 300) }
                let counts = try w.store.caseCounts(actor: actor, now: t0 + 300)
                #expect(counts.open.values.reduce(0, +) == 3)
                let json = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
                #expect(!json.contains("stu") && !json.contains("S1"), "counts carry no identities")
            } else {
                #expect(Set(try w.store.queue(actor: actor, now: t0 + 300).map(\.caseId)) == allowed)
            }
            // Audit trails: counsellor of the school and the centre only.
            for id in [w.a, w.b, w.c] {
                let mayAudit = (actor.role == .counsellor || actor.role == .centre) && allowed.contains(id)
                do {
                    let events = try w.store.auditTrail(actor: actor, id: id, now: t0 + 400)
                    #expect(mayAudit)
                    #expect(events.allSatisfy { $0.caseId == id }, "no other case leaks into a trail")
                } catch {
                    #expect(!mayAudit)
                    #expect(String(describing: error) == "no case \(id) that you may see")
                }
            }
        }
        // Flags: mentors for their own students, counsellors for their own school, nobody else.
        #expect(throws: Never.self) { try w.store.raiseFlag(actor: World.mentorA, student: "stuA", school: "S1", className: nil, tier: .yellow, kind: "observation", reason: "sad", now: t0, policy: policy) }
        for actor in [World.mentorNone, World.counsellorS2, World.centre, World.hospitalH1, World.office] {
            #expect(throws: CaseError.self) { try w.store.raiseFlag(actor: actor, student: "stuA", school: "S1", className: nil, tier: .yellow, kind: "observation", reason: "x", now: t0, policy: policy) }
        }
        // Actions: only the acting role in scope.
        #expect(throws: CaseError.notInScope(NotInScope(caseID: w.c))) {
            try w.store.advance(actor: World.counsellorS1, id: w.c, request: TransitionRequest(to: .assessed, note: ""), now: t0, policy: policy)
        }
        #expect(throws: CaseError.self) {
            try w.store.advance(actor: World.mentorA, id: w.a, request: TransitionRequest(to: .hospitalFeedback, note: ""), now: t0, policy: policy)
        }
        let fed = try w.store.advance(actor: World.hospitalH1, id: w.a,
                                      request: TransitionRequest(to: .hospitalFeedback, note: "", feedback: HospitalFeedback(attendance: "attends", safetyAdvice: "no night study", nextVisit: "2024-10-22")),
                                      now: t0 + 500, policy: policy)
        #expect(fed.state == .hospitalFeedback)
        // The school sees the feedback (attendance, safety advice, next visit), and nothing clinical.
        let school = try w.store.showCase(actor: World.counsellorS1, id: w.a, now: t0 + 600)
        #expect(school.transitions.last?.feedback == HospitalFeedback(attendance: "attends", safetyAdvice: "no night study", nextVisit: "2024-10-22"))
        #expect(school.transitions.last?.note == "")
        #expect(try w.store.verifyAudit().ok)
    }

    @Test("Every read and change leaves an audit event; an emergency override is marked")
    func auditEvents() throws {
        let w = try World()
        let before = try w.store.verifyAudit().events
        _ = try w.store.showCase(actor: World.counsellorS1, id: w.b, now: t0 + 10)
        _ = try? w.store.showCase(actor: World.counsellorS2, id: w.b, now: t0 + 10)   // refused: not logged against the case
        _ = try w.store.advance(actor: World.counsellorS2, id: w.c, request: TransitionRequest(to: .assessed, note: "seen"), now: t0 + 20, policy: policy)
        let d = try w.store.raiseFlag(actor: World.counsellorS2, student: "stuD", school: "S2", className: nil, tier: .red, kind: "disclosure", reason: "plan", now: t0, policy: policy).caseID
        _ = try w.store.advance(actor: World.counsellorS2, id: d, request: TransitionRequest(to: .referredToCentre, note: "escorted", guardianInformed: false, emergencyOverride: "guardian unreachable, risk tonight"), now: t0 + 30, policy: policy)
        let trail = try w.store.auditTrail(actor: World.counsellorS2, id: d, now: t0 + 40)
        #expect(trail.contains { $0.detail.contains("EMERGENCY OVERRIDE: guardian unreachable") })
        #expect(try w.store.verifyAudit().events > before + 4)
    }

    @Test("Overdue steps escalate once, are recorded, and rise in the queue")
    func escalation() throws {
        let w = try World()
        // Case B (yellow) due in 10 school days; case C (orange) in 3. Two weeks later both are overdue.
        let later = t0 + 15 * 86400
        let first = try w.store.queue(actor: World.counsellorS1, now: later)
        let b = try #require(first.first { $0.caseId == w.b })
        #expect(b.escalations == 1 && b.effectiveTier == .orange && b.overdueSeconds > 0)
        _ = try w.store.queue(actor: World.counsellorS1, now: later + 3600)
        #expect(try w.store.queue(actor: World.counsellorS1, now: later + 7200).first { $0.caseId == w.b }?.escalations == 1)   // once per step
        let trail = try w.store.auditTrail(actor: World.counsellorS1, id: w.b, now: later)
        #expect(trail.filter { $0.action == "escalated" }.count == 1)
    }

    @Test("The audit log refuses updates and deletes, and verify catches edited, removed and reordered events", arguments: ["edit", "delete", "reorder"])
    func tamper(kind: String) throws {
        let w = try World()
        #expect(try w.store.verifyAudit().ok)
        #expect(throws: (any Error).self) { try w.store.queue.write { db in try db.execute(sql: "UPDATE audit_event SET detail = 'x' WHERE seq = 2") } }
        #expect(throws: (any Error).self) { try w.store.queue.write { db in try db.execute(sql: "DELETE FROM audit_event WHERE seq = 2") } }
        // Someone with the file drops the triggers and tampers directly.
        try w.store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete")
            switch kind {
            case "edit": try db.execute(sql: "UPDATE audit_event SET detail = 'nothing happened' WHERE seq = 3")
            case "delete": try db.execute(sql: "DELETE FROM audit_event WHERE seq = 3")
            default:
                // Swap events 2 and 3 (renumbering them).
                try db.execute(sql: "UPDATE audit_event SET seq = -2 WHERE seq = 2; UPDATE audit_event SET seq = 2 WHERE seq = 3; UPDATE audit_event SET seq = 3 WHERE seq = -2")
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

@Suite("Queue order in SQL")
struct QueueOrderTests {
    @Test("The database's queue order is Queue.order's (tier after escalation, overdue, age) on 2,000 synthetic cases")
    func sameOrder() throws {
        let store = try Store.inMemory()
        try store.seedSyntheticCases(cases: 2_000, schools: 2, auditEvents: 10, now: t0, policy: policy)
        for actor in [World.centre, Actor(role: .counsellor, organisation: "S001", user: "x")] {
            let items = try store.queue(actor: actor, now: t0 + 86400, limit: 100_000)
            let entries = items.map { QueueEntry(caseID: $0.caseId, tier: $0.tier, state: $0.state, openedAt: $0.openedAt, dueAt: $0.dueAt, escalations: $0.escalations) }
            #expect(items.count > 100)
            #expect(Queue.order(entries, now: t0 + 86400).map(\.caseID) == items.map(\.caseId))
        }
        #expect(try store.verifyAudit().ok)
    }
}
