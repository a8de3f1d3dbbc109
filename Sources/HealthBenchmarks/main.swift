// The referral-queue benchmark: `swift run -c release schoolhealth-bench [CASES] [AUDIT_EVENTS] [CALLS]`.
// Builds a database with CASES open cases (default 100,000) over 40 schools and AUDIT_EVENTS audit events
// (default 1,000,000) in the keyed chain, then times, in-process, what one authenticated request does: check
// the account's token, escalate overdue steps in scope, list the queue and log every listed case as read;
// for a school counsellor and for the county centre, CALLS times each (default 200), and prints p50, p95 and
// max. Target: p95 under 50 ms.
import Foundation
import HealthRisk
import HealthStore

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let cases = arguments.count > 0 ? arguments[0] : 100_000
let events = arguments.count > 1 ? arguments[1] : 1_000_000
let calls = arguments.count > 2 ? arguments[2] : 200

let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schoolhealth-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }
let policy = DeadlinePolicy(deadlines: [
    .red: Dictionary(uniqueKeysWithValues: CaseState.allCases.map { ($0, Deadline(amount: 24, unit: .hours)) }),
    .orange: Dictionary(uniqueKeysWithValues: CaseState.allCases.map { ($0, Deadline(amount: 3, unit: .schoolDays)) }),
    .yellow: Dictionary(uniqueKeysWithValues: CaseState.allCases.map { ($0, Deadline(amount: 10, unit: .schoolDays)) }),
])
let now = Int(Date().timeIntervalSince1970)
let store = try Store.open(path: dir + "/bench.sqlite")
let seedStart = Date()
let admin = try store.createFirstAdministrator(login: "bench-admin", name: "bench", password: nil, issueToken: true)
let adminActor = try store.authenticate(token: admin.token!)
let counsellor = try store.addAccount(by: adminActor, login: "bench-counsellor", name: "bench", role: .counsellor, organisation: "S001",
                                      password: nil, issueToken: true).token!
let centre = try store.addAccount(by: adminActor, login: "bench-centre", name: "bench", role: .centre, organisation: "county-centre",
                                  password: nil, issueToken: true).token!
try store.seedSyntheticCases(cases: cases, schools: 40, auditEvents: events, now: now, policy: policy)
print(String(format: "seeded %d cases and %d audit events in %.1f s", cases, events, Date().timeIntervalSince(seedStart)))

func measure(_ label: String, token: String) throws {
    var times: [Double] = []
    var listed = 0
    for _ in 0..<calls {
        let start = DispatchTime.now().uptimeNanoseconds
        let actor = try store.authenticate(token: token)
        let items = try store.queue(actor: actor, limit: 50)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        listed = items.count
    }
    times.sort()
    let p50 = times[times.count / 2], p95 = times[min(times.count - 1, Int(Double(times.count) * 0.95))]
    print(String(format: "%@: %d calls, %d listed each: p50 %.2f ms, p95 %.2f ms, max %.2f ms — target p95 < 50 ms: %@",
                 label, calls, listed, p50, p95, times.last!, p95 < 50 ? "met" : "NOT MET"))
}
try measure("token + queue, counsellor of S001 (\(cases / 40) cases in scope)", token: counsellor)
try measure("token + queue, county centre", token: centre)
let verify = Date()
let result = try store.verifyAudit()
print(String(format: "audit verify: %d events, %@, %.1f s", result.events, result.ok ? "intact" : "TAMPERED", Date().timeIntervalSince(verify)))
