internal import HealthStorage
public import HealthRisk
internal import GRDB
import Foundation

extension Store {
    /// Fills the database with synthetic cases and audit history, for drills and the queue benchmark.
    /// `cases` open cases spread over `schools` schools (S001…), a third of them referred to the centre,
    /// and `auditEvents` events in the valid keyed chain. Students are made up ("SYN…").
    public func seedSyntheticCases(cases: Int, schools: Int, auditEvents: Int, now: Int, policy: DeadlinePolicy) throws {
        try write { db in
            var rng: UInt64 = 0x5EED
            func next(_ n: Int) -> Int {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return Int((rng >> 33) % UInt64(n))
            }
            let states: [CaseState] = [.identified, .assessed, .referredToCentre, .centreAssessed, .referredToHospital, .hospitalFeedback,
                                       .schoolSupportPlan, .inSchool, .onLeave, .followUp]
            let insert = try db.makeStatement(sql: """
                INSERT INTO psych_case (student_id, school_code, class_name, tier, state, opened_at, state_entered_at, due_at, referred_to_centre, hospital, effective_urgency)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for i in 0..<cases {
                let tier = [Tier.red, .orange, .orange, .yellow, .yellow, .yellow][next(6)]
                let state = states[next(states.count)]
                let opened = now - next(120 * 86400)
                let entered = opened + next(max(1, now - opened))
                let referred = [.referredToCentre, .centreAssessed, .referredToHospital, .hospitalFeedback].contains(state) || next(3) == 0
                try insert.execute(arguments: [
                    "SYN\(String(format: "%08d", i))", String(format: "S%03d", 1 + i % schools), String(1 + next(8)), tier.rawValue, state.rawValue,
                    opened, entered, policy.due(tier: tier, state: state, enteredAt: entered), referred ? 1 : 0,
                    [CaseState.referredToHospital, .hospitalFeedback].contains(state) ? "H1" : nil, tier.urgency,
                ])
            }
            // The seeded rows are adopted into the keyed log, then `auditEvents` synthetic reads follow.
            try Ledger.adopt(db, store: self, table: "psych_case", at: now)
            for i in 0..<auditEvents {
                let caseID = Int64(1 + next(max(1, cases)))
                try Ledger.append(db, store: self, at: now - (auditEvents - i),
                                  actor: Actor(role: .counsellor, organisation: "S001", user: "user\(next(200))", accountID: nil),
                                  action: "read", caseID: caseID, detail: "synthetic")
            }
        }
    }
}
