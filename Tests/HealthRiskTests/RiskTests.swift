import Foundation
import Testing
@testable import HealthRisk

let counsellor = Actor(role: .counsellor, organisation: "S1", user: "c", accountID: nil)
let centre = Actor(role: .centre, organisation: "centre", user: "k", accountID: nil)
let hospital = Actor(role: .hospital, organisation: "H1", user: "h", accountID: nil)

@Suite("Referral state machine")
struct StateMachineTests {
    @Test("Every (state, next state) pair: only the listed transitions are legal, and the error names the allowed ones",
          arguments: CaseState.allCases)
    func everyPair(from: CaseState) {
        for to in CaseState.allCases {
            let actor = to.actingRole == .centre ? centre : (to.actingRole == .hospital ? hospital : counsellor)
            let request = TransitionRequest(to: to, note: "", guardianInformed: true, consent: .given,
                                            feedback: HospitalFeedback(attendance: "weekly", safetyAdvice: "no night duty", nextVisit: "2024-11-01"))
            do {
                try ReferralStateMachine.check(from: from, tier: .orange, actor: actor, request: request)
                #expect(from.next.contains(to), "\(from) → \(to) was accepted")
            } catch {
                #expect(!from.next.contains(to), "\(from) → \(to) was refused: \(error)")
                if case let .illegal(_, _, allowed) = error { #expect(allowed == from.next) } else { Issue.record("\(error)") }
            }
        }
    }

    @Test("The whole chain, school → centre → hospital → school → closed")
    func chain() throws {
        var state = CaseState.identified
        for (to, actor) in [(CaseState.assessed, counsellor), (.referredToCentre, counsellor), (.centreAssessed, centre), (.referredToHospital, centre),
                            (.hospitalFeedback, hospital), (.schoolSupportPlan, counsellor), (.onLeave, counsellor), (.returnToSchoolAssessment, counsellor),
                            (.inSchool, counsellor), (.followUp, counsellor), (.closed, counsellor)] {
            let r = TransitionRequest(to: to, note: "", consent: .given,
                                      feedback: to == .hospitalFeedback ? HospitalFeedback(attendance: "a", safetyAdvice: "s", nextVisit: nil) : nil)
            try ReferralStateMachine.check(from: state, tier: .orange, actor: actor, request: r)
            state = to
        }
        #expect(state.next.isEmpty)
    }

    @Test("Only the right role performs a step")
    func roles() {
        #expect(throws: TransitionError.wrongRole(to: .centreAssessed, needed: .centre, actor: .counsellor)) {
            try ReferralStateMachine.check(from: .referredToCentre, tier: .red, actor: counsellor, request: TransitionRequest(to: .centreAssessed, note: ""))
        }
        #expect(throws: TransitionError.self) {
            try ReferralStateMachine.check(from: .referredToHospital, tier: .red, actor: centre,
                                           request: TransitionRequest(to: .hospitalFeedback, note: "", feedback: HospitalFeedback(attendance: "a", safetyAdvice: "b", nextVisit: nil)))
        }
    }

    @Test("Hand-offs need consent; an emergency override is for red only")
    func consent() throws {
        let noConsent = TransitionRequest(to: .referredToCentre, note: "n")
        #expect(throws: TransitionError.consentRequired(to: .referredToCentre)) {
            try ReferralStateMachine.check(from: .assessed, tier: .red, actor: counsellor, request: noConsent)
        }
        var override = noConsent
        override.emergencyOverride = "at risk tonight"
        try ReferralStateMachine.check(from: .assessed, tier: .red, actor: counsellor, request: override)
        #expect(throws: TransitionError.overrideNotAllowed(tier: .orange)) {
            try ReferralStateMachine.check(from: .assessed, tier: .orange, actor: counsellor, request: override)
        }
        #expect(throws: TransitionError.consentRequired(to: .referredToHospital)) {
            try ReferralStateMachine.check(from: .centreAssessed, tier: .yellow, actor: centre,
                                           request: TransitionRequest(to: .referredToHospital, note: "", consent: .refused))
        }
    }

    @Test("Hospital feedback carries attendance, safety advice and the next visit — no clinical notes")
    func feedback() {
        #expect(throws: TransitionError.feedbackRequired) {
            try ReferralStateMachine.check(from: .referredToHospital, tier: .red, actor: hospital, request: TransitionRequest(to: .hospitalFeedback, note: ""))
        }
        #expect(throws: TransitionError.clinicalNotesNotAllowed) {
            try ReferralStateMachine.check(from: .referredToHospital, tier: .red, actor: hospital,
                                           request: TransitionRequest(to: .hospitalFeedback, note: "diagnosis: …", feedback: HospitalFeedback(attendance: "a", safetyAdvice: "b", nextVisit: nil)))
        }
    }
}

@Suite("Risk rules at their cut-offs")
struct RiskRuleTests {
    let rules: RiskRules
    init() throws {
        let c = { (text: String, i: Instrument) throws -> Condition in try Condition(text, instrument: i) }
        // The shipped defaults, restated (Config/rules/risk.yaml is loaded and compared in HealthIngestTests).
        rules = RiskRules(version: "t", status: "t", rules: [
            RiskRule(id: "phq9-item9-plan", version: "1", instrument: .phq9, condition: try c("item9 >= 2", .phq9), tier: .red, source: ""),
            RiskRule(id: "phq9-item9-any", version: "1", instrument: .phq9, condition: try c("item9 == 1", .phq9), tier: .orange, source: ""),
            RiskRule(id: "phq9-severe", version: "1", instrument: .phq9, condition: try c("total >= 20", .phq9), tier: .orange, source: ""),
            RiskRule(id: "phq9-moderate", version: "1", instrument: .phq9, condition: try c("total >= 10", .phq9), tier: .yellow, source: ""),
            RiskRule(id: "gad7-severe", version: "1", instrument: .gad7, condition: try c("total >= 15", .gad7), tier: .orange, source: ""),
            RiskRule(id: "gad7-screen", version: "1", instrument: .gad7, condition: try c("total >= 10", .gad7), tier: .yellow, source: ""),
            RiskRule(id: "mht-crisis-items", version: "1", instrument: .mht, condition: try c("item85 == 1 or item97 == 1", .mht), tier: .orange, source: ""),
            RiskRule(id: "mht-total", version: "1", instrument: .mht, condition: try c("total >= 65 and validity < 7", .mht), tier: .yellow, source: ""),
        ], deadlines: DeadlinePolicy(deadlines: [:]))
    }
    func tier(_ s: PsychScores) -> Tier? { rules.evaluate(s)?.tier }

    @Test("PHQ-9 item 9 = 0 / 1 / 2")
    func item9() {
        #expect(tier(PsychScores(instrument: .phq9, total: 5, item9: 0)) == nil)
        #expect(tier(PsychScores(instrument: .phq9, total: 5, item9: 1)) == .orange)
        #expect(tier(PsychScores(instrument: .phq9, total: 5, item9: 2)) == .red)
        #expect(rules.evaluate(PsychScores(instrument: .phq9, total: 25, item9: 3))?.id == "phq9-item9-plan")   // the most urgent wins
    }

    @Test("PHQ-9 totals 9/10, 14/15, 19/20", arguments: [(9, nil), (10, Tier.yellow), (14, .yellow), (15, .yellow), (19, .yellow), (20, .orange)])
    func phqTotals(total: Int, expected: Tier?) {
        #expect(tier(PsychScores(instrument: .phq9, total: total, item9: 0)) == expected)
    }

    @Test("GAD-7 14/15")
    func gad() {
        #expect(tier(PsychScores(instrument: .gad7, total: 14)) == .yellow)
        #expect(tier(PsychScores(instrument: .gad7, total: 15)) == .orange)
        #expect(tier(PsychScores(instrument: .gad7, total: 9)) == nil)
    }

    @Test("MHT 64/65, the validity scale and the crisis items")
    func mht() {
        #expect(tier(PsychScores(instrument: .mht, total: 64, validity: 2, item85: 0, item97: 0)) == nil)
        #expect(tier(PsychScores(instrument: .mht, total: 65, validity: 2, item85: 0, item97: 0)) == .yellow)
        #expect(tier(PsychScores(instrument: .mht, total: 80, validity: 7, item85: 0, item97: 0)) == nil)   // answers doubtful
        #expect(tier(PsychScores(instrument: .mht, total: 30, validity: 2, item85: 0, item97: 1)) == .orange)
    }

    @Test("Conditions refuse unknown fields, operators and numbers")
    func badConditions() {
        #expect(throws: RuleError.self) { try Condition("itme9 >= 2", instrument: .phq9) }
        #expect(throws: RuleError.self) { try Condition("total => 2", instrument: .phq9) }
        #expect(throws: RuleError.self) { try Condition("total >= two", instrument: .phq9) }
        #expect(throws: RuleError.self) { try Condition("total >= 2 and", instrument: .phq9) }
        #expect(throws: RuleError.self) { try Condition("validity >= 7", instrument: .gad7) }
    }
}

@Suite("Deadlines with a controllable clock")
struct DeadlineTests {
    /// 2024-10-11 is a Friday; China time is UTC+8.
    func t(_ s: String) -> Int { Int(ISO8601DateFormatter().date(from: s)!.timeIntervalSince1970) }

    @Test("Hours run on the clock")
    func hours() {
        #expect(Deadline(amount: 4, unit: .hours).due(from: t("2024-10-11T15:00:00+08:00")) == t("2024-10-11T19:00:00+08:00"))
    }

    @Test("School days skip the weekend: Friday + 1 is Monday 17:00; + 3 is Wednesday")
    func weekend() {
        let friday = t("2024-10-11T10:00:00+08:00")
        #expect(Deadline(amount: 1, unit: .schoolDays).due(from: friday) == t("2024-10-14T17:00:00+08:00"))
        #expect(Deadline(amount: 3, unit: .schoolDays).due(from: friday) == t("2024-10-16T17:00:00+08:00"))
        #expect(Deadline(amount: 1, unit: .schoolDays).due(from: t("2024-10-12T10:00:00+08:00")) == t("2024-10-14T17:00:00+08:00"))   // Saturday
        #expect(Deadline(amount: 1, unit: .schoolDays).due(from: t("2024-10-14T23:30:00+08:00")) == t("2024-10-15T17:00:00+08:00"))   // Monday night
    }

    @Test("The queue: tier after escalation, then how overdue, then age")
    func queueOrder() {
        let now = t("2024-10-20T12:00:00+08:00")
        let entries = [
            QueueEntry(caseID: 1, tier: .yellow, state: .identified, openedAt: 100, dueAt: now + 3600, escalations: 0),
            QueueEntry(caseID: 2, tier: .orange, state: .identified, openedAt: 200, dueAt: now - 7200, escalations: 0),
            QueueEntry(caseID: 3, tier: .orange, state: .assessed, openedAt: 50, dueAt: now - 3600, escalations: 0),
            QueueEntry(caseID: 4, tier: .red, state: .identified, openedAt: 300, dueAt: now + 60, escalations: 0),
            QueueEntry(caseID: 5, tier: .yellow, state: .assessed, openedAt: 10, dueAt: now - 60, escalations: 1),   // escalated: orange
            QueueEntry(caseID: 6, tier: .yellow, state: .assessed, openedAt: 5, dueAt: now + 60, escalations: 0),
        ]
        #expect(Queue.order(entries, now: now).map(\.caseID) == [4, 2, 3, 5, 6, 1])
        #expect(entries[4].effectiveTier == .orange)
    }
}

@Suite("Who is acting")
struct ActorTests {
    @Test("An actor cannot be made from outside the package: no public initialiser, not Decodable")
    func notForgeable() {
        #expect(!(Actor.self is any Decodable.Type))
        #expect(Actor.self is any Encodable.Type)
    }
}
