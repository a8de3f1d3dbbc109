import ArgumentParser
import Foundation
import HealthCore
import HealthIngest
import HealthRisk
import HealthStore

/// `--as ROLE --org ORG --user NAME`: who is acting. A later web app passes the authenticated user the same way.
struct ActorOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: ArgumentHelp("mentor, counsellor, centre, hospital or health-office.", valueName: "role"))
    var role: String
    @Option(help: ArgumentHelp("The school code, centre or hospital the user works for.", valueName: "org"))
    var org: String
    @Option(help: ArgumentHelp("The user's name or ID.", valueName: "name"))
    var user: String
    @Option(help: ArgumentHelp("Act as of this time (ISO 8601, e.g. 2024-10-08T09:00:00+08:00); for drills and tests.", valueName: "time"))
    var now: String?

    func validate() throws {
        guard Role(rawValue: role) != nil else { throw ValidationError("--as takes mentor, counsellor, centre, hospital or health-office") }
        if let now, ISO8601DateFormatter().date(from: now) == nil { throw ValidationError("--now \(now) is not an ISO 8601 time") }
    }

    var actor: Actor { Actor(role: Role(rawValue: role)!, organisation: org, user: user) }
    var clock: Int { Int((now.flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()).timeIntervalSince1970) }
}

/// Prints a value as one JSON object, or a text form.
func emit<T: Encodable>(_ value: T, json: Bool, text: () -> String) throws {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    } else {
        print(text())
    }
}

func time(_ t: Int?) -> String {
    guard let t else { return "—" }
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
    return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
}

func hours(_ seconds: Int) -> String { seconds == 0 ? "" : String(format: "%.1f h overdue", Double(seconds) / 3600) }

struct ReferralsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "referrals",
        abstract: "The psychological-crisis queue: school → county centre → hospital, with deadlines, consent and an audit trail.",
        discussion: """
            Every command names the actor (--as ROLE --org ORG --user NAME); the library decides what they may \\
            see: mentor — own students; counsellor — own school; centre — cases referred to it; hospital — cases \\
            referred to it (minimum-necessary fields); health office — counts only. Anything else is "no case that \\
            you may see", whether or not it exists. Every read and change is written to the append-only audit log.
            """,
        subcommands: [Queue.self, Show.self, Advance.self, RaiseFlag.self, Audit.self, Assign.self, Counts.self])

    static func context(_ global: GlobalOptions) throws -> (Store, SchoolHealthConfig) {
        let config = try global.loadConfig()
        return (try global.existingStore(), config)
    }

    struct Queue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open cases in your scope: by tier (after escalation), then how overdue, then age.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var who: ActorOptions
        @Option(help: "At most this many cases.") var limit = 50
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _) = try ReferralsCommand.context(global)
            let items = try store.queue(actor: who.actor, now: who.clock, limit: limit)
            try emit(["cases": items], json: json) {
                (["case   tier    state                        due                        student              school"]
                 + items.map { i in
                    "\(String(i.caseId).padding(toLength: 6, withPad: " ", startingAt: 0)) \(i.effectiveTier.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(i.state.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0)) \(time(i.dueAt).padding(toLength: 26, withPad: " ", startingAt: 0)) \(i.studentId.padding(toLength: 20, withPad: " ", startingAt: 0)) \(i.school) \(hours(i.overdueSeconds))\(i.escalations > 0 ? " (escalated \(i.escalations)×)" : "")"
                 }).joined(separator: "\n")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One case, as much of it as your role may see.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var who: ActorOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _) = try ReferralsCommand.context(global)
            let view = try store.showCase(actor: who.actor, id: caseID, now: who.clock)
            try emit(view, json: json) {
                var lines = ["case \(view.caseId): student \(view.studentId)\(view.school.map { ", school \($0)" } ?? "") — \(view.tier.rawValue) (\(view.tier.chinese)), \(view.state.rawValue); due \(time(view.dueAt)) \(hours(view.overdueSeconds))",
                             "next: \(view.allowedNext.map(\.rawValue).joined(separator: ", "))"]
                lines += view.flags.map { "  flag \($0.id): \($0.tier.rawValue) \($0.kind)\($0.ruleID.map { " \($0)@\(view.flags.first?.ruleVersion ?? "")" } ?? "") \($0.reason ?? "")" }
                lines += view.transitions.map { "  \(time($0.at)) \($0.from.rawValue) → \($0.to.rawValue) by \($0.actorRole)\($0.actorUser.map { " \($0)" } ?? "")\($0.note.map { ": \($0)" } ?? "")\($0.emergencyOverride.map { " [EMERGENCY OVERRIDE: \($0)]" } ?? "")" }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Advance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a case to its next state (the state machine of DOMAIN.md §5.4).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var who: ActorOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Option(help: ArgumentHelp("The next state.", valueName: "state")) var to: String
        @Option(help: "What was done and why.") var note = ""
        @Flag(help: "The guardian was informed.") var guardianInformed = false
        @Option(help: ArgumentHelp("The guardian's consent: given, refused or not-asked.", valueName: "consent")) var consent = "not-asked"
        @Option(help: ArgumentHelp("Red tier only: hand off without consent, for this reason (marked in the audit).", valueName: "reason"))
        var emergencyOverride: String?
        @Option(help: "For referred_to_hospital: the hospital.") var hospital: String?
        @Option(help: "For hospital_feedback: attendance.") var attendance: String?
        @Option(help: "For hospital_feedback: safety advice for the school.") var safetyAdvice: String?
        @Option(help: "For hospital_feedback: the next visit (YYYY-MM-DD).") var nextVisit: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard CaseState(rawValue: to) != nil else { throw ValidationError("--to takes one of: \(CaseState.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard Consent(rawValue: consent) != nil else { throw ValidationError("--consent takes given, refused or not-asked") }
        }

        func run() throws {
            let (store, config) = try ReferralsCommand.context(global)
            let feedback = attendance.map { HospitalFeedback(attendance: $0, safetyAdvice: safetyAdvice ?? "", nextVisit: nextVisit) }
            let request = TransitionRequest(to: CaseState(rawValue: to)!, note: note, guardianInformed: guardianInformed,
                                            consent: Consent(rawValue: consent)!, emergencyOverride: emergencyOverride,
                                            feedback: feedback, hospital: hospital)
            let view = try store.advance(actor: who.actor, id: caseID, request: request, now: who.clock, policy: config.risk.deadlines)
            try emit(view, json: json) { "case \(view.caseId) is now \(view.state.rawValue); next step due \(time(view.dueAt))" }
        }
    }

    struct RaiseFlag: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "flag", abstract: "Raise a flag by hand (observation, disclosure, incident): opens or joins the student's case.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var who: ActorOptions
        @Option(help: "The student's ID.") var student: String
        @Option(help: "The student's school code (default: your organisation).") var school: String?
        @Option(help: "The student's class.") var className: String?
        @Option(help: ArgumentHelp("red, orange or yellow.", valueName: "tier")) var tier: String
        @Option(help: ArgumentHelp("observation, disclosure or incident.", valueName: "kind")) var kind = "observation"
        @Option(help: "Why.") var reason: String
        @Flag(help: "Print one JSON object (with the caseId).") var json = false

        func validate() throws {
            guard Tier(rawValue: tier) != nil else { throw ValidationError("--tier takes red, orange or yellow") }
            guard ["observation", "disclosure", "incident"].contains(kind) else { throw ValidationError("--kind takes observation, disclosure or incident") }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason is required") }
        }

        func run() throws {
            let (store, config) = try ReferralsCommand.context(global)
            let r = try store.raiseFlag(actor: who.actor, student: student, school: school ?? who.org, className: className,
                                        tier: Tier(rawValue: tier)!, kind: kind, reason: reason, now: who.clock, policy: config.risk.deadlines)
            struct Out: Encodable { var caseId: Int64; var opened: Bool }
            try emit(Out(caseId: r.caseID, opened: r.opened), json: json) { "case \(r.caseID) \(r.opened ? "opened" : "joined")" }
        }
    }

    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A case's audit trail (counsellor of its school, or the centre).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var who: ActorOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _) = try ReferralsCommand.context(global)
            let events = try store.auditTrail(actor: who.actor, id: caseID, now: who.clock)
            try emit(["events": events], json: json) {
                events.map { "\($0.seq) \(time($0.at)) \($0.actorRole)/\($0.actorOrg)/\($0.actorUser) \($0.action) \($0.detail)" }.joined(separator: "\n")
            }
        }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set who mentors whom (the school – class – student grid), by command or from a CSV file.",
            discussion: "CSV columns: school_code, class, student_id, mentor, role (mentor or class-teacher).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A CSV file of assignments.") var file: String?
        @Option(help: "The school code.") var school: String?
        @Option(help: "The class.") var className: String?
        @Option(help: "The student's ID.") var student: String?
        @Option(help: "The mentor's user name.") var mentor: String?
        @Option(help: "mentor or class-teacher.") var role = "mentor"
        func run() throws {
            let store = try global.existingStore()
            var rows: [(String, String?, String, String, String)] = []
            if let file {
                let text = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "\u{FEFF}", with: "")
                for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() where n > 0 {
                    let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard f.count >= 4, !f[0].isEmpty, !f[2].isEmpty, !f[3].isEmpty else {
                        throw CLIError("\(file): line \(n + 1): expected school_code, class, student_id, mentor[, role]")
                    }
                    rows.append((f[0], f[1].isEmpty ? nil : f[1], f[2], f[3], f.count > 4 && !f[4].isEmpty ? f[4] : "mentor"))
                }
            } else {
                guard let school, let student, let mentor else { throw ValidationError("give --file, or --school, --student and --mentor") }
                rows.append((school, className, student, mentor, role))
            }
            for r in rows { try store.assign(school: r.0, className: r.1, student: r.2, mentor: r.3, role: r.4) }
            print("\(rows.count) assignment(s) recorded")
        }
    }

    struct Counts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open cases per tier and cases per state (what the health office may see).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var who: ActorOptions
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _) = try ReferralsCommand.context(global)
            let counts = try store.caseCounts(actor: who.actor, now: who.clock)
            try emit(counts, json: json) {
                "open: " + counts.open.keys.sorted().map { "\($0) \(counts.open[$0]!)" }.joined(separator: ", ")
                    + "\nby state: " + counts.byState.keys.sorted().map { "\($0) \(counts.byState[$0]!)" }.joined(separator: ", ")
            }
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The append-only audit log.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the audit log's hash chain: detects edited, removed or reordered events.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let result = try global.existingStore().verifyAudit()
            try emit(result, json: json) { result.ok ? "audit log intact: \(result.events) events" : "AUDIT LOG TAMPERED: \(result.problem ?? "")" }
            if !result.ok { throw ExitCode(1) }
        }
    }
}
