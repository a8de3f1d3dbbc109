import ArgumentParser
import Foundation
import HealthCore
import HealthIngest
import HealthRisk
import HealthStore

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

func hours(_ seconds: Int) -> String {
    guard seconds != 0 else { return "" }
    let h = String(format: "%.1f", Double(seconds) / 3600)
    return CLIMessages.text("cli.referrals.overdue", ["hours": h], english: "\(h) h overdue")
}

/// How many terminal columns `text` takes (a Chinese character takes two).
func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { $0 + ((0x1100...0x115F).contains($1.value) || (0x2E80...0xA4CF).contains($1.value)
        || (0xAC00...0xD7A3).contains($1.value) || (0xF900...0xFAFF).contains($1.value) || (0xFF00...0xFF60).contains($1.value) ? 2 : 1) }
}

/// `text` padded on the right to `width` terminal columns.
func padded(_ text: String, _ width: Int) -> String {
    let columns = displayWidth(text)
    return columns >= width ? text : text + String(repeating: " ", count: width - columns)
}

/// `text` padded on the left to `width` terminal columns (numbers under a heading).
func leftPadded(_ text: String, _ width: Int) -> String {
    let columns = displayWidth(text)
    return columns >= width ? text : String(repeating: " ", count: width - columns) + text
}

/// Terminal-safe text (control characters made visible).
func safe(_ text: String?) -> String { PrintableText.escape(text ?? "") }

struct ReferralsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "referrals",
        abstract: "The psychological-crisis queue: school → county centre → hospital, with deadlines, consent and an audit trail.",
        discussion: """
            Every command acts as your account (--login LOGIN, or SCHOOLHEALTH_TOKEN); its role and organisation \
            decide what you may see: mentor — own students; counsellor — own school; centre — cases referred to it; \
            hospital — cases referred to it (minimum-necessary fields); health office — counts only; administrator — \
            nothing. Anything else is "no case that you may see", whether or not it exists. Every read, change and \
            refusal is written to the keyed audit log.
            """,
        subcommands: [Queue.self, Show.self, Advance.self, RaiseFlag.self, Transfer.self, Audit.self, Assign.self, Counts.self,
                      Reviews.self, Review.self])

    /// The store, the configuration and the authenticated actor.
    static func context(_ global: GlobalOptions, _ auth: AuthOptions) throws -> (Store, SchoolHealthConfig, Actor) {
        let config = try global.loadConfig()
        let store = try global.existingStore()
        return (store, config, try auth.actor(store))
    }

    struct Queue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open cases in your scope: by tier (after escalation), then how overdue, then age.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: "At most this many cases.") var limit = 50
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _, actor) = try ReferralsCommand.context(global, auth)
            let items = try store.queue(actor: actor, at: auth.requestedTime, limit: limit)
            try emit(["cases": items], json: json) {
                let t = { (key: String, english: String) in CLIMessages.text("cli.referrals." + key, english: english) }
                let header = [padded(t("case", "case"), 6), padded(t("tier", "tier"), 7), padded(t("state", "state"), 28), padded(t("due", "due"), 26),
                              padded(t("student", "student"), 20), t("school", "school")].joined(separator: " ")
                return ([header] + items.map { i in
                    let escalated = i.escalations > 0
                        ? " " + CLIMessages.text("cli.referrals.escalated", ["count": String(i.escalations)], english: "(escalated \(i.escalations)×)") : ""
                    return "\(padded(String(i.caseId), 6)) \(padded(i.effectiveTier.rawValue, 7)) \(padded(i.state.rawValue, 28)) \(padded(time(i.dueAt), 26)) \(padded(safe(i.studentId), 20)) \(safe(i.school)) \(hours(i.overdueSeconds))\(escalated)"
                 }).joined(separator: "\n")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One case, as much of it as your role may see.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, config, actor) = try ReferralsCommand.context(global, auth)
            let view = try store.showCase(actor: actor, id: caseID, at: auth.requestedTime, rules: config.risk.cases)
            try emit(view, json: json) {
                let school = view.school.map { safe($0) } ?? "—"
                let facts = ["case": String(view.caseId), "student": safe(view.studentId), "school": school, "tier": view.tier.rawValue,
                             "tierChinese": view.tier.chinese, "state": view.state.rawValue, "due": time(view.dueAt), "overdue": hours(view.overdueSeconds)]
                let english = "case \(view.caseId): student \(safe(view.studentId))\(view.school.map { ", school \(safe($0))" } ?? "") — \(view.tier.rawValue) (\(view.tier.chinese)), \(view.state.rawValue); due \(time(view.dueAt)) \(hours(view.overdueSeconds))"
                let next = view.allowedNext.map(\.rawValue).joined(separator: ", ")
                var lines = [CLIMessages.text("cli.referrals.show", facts, english: english),
                             CLIMessages.text("cli.referrals.next", ["states": next], english: "next: \(next)")]
                lines += view.flags.map { "  flag \($0.id): \($0.tier.rawValue) \($0.kind)\($0.ruleID.map { " \(safe($0))" } ?? "")\($0.ruleVersion.map { "@\(safe($0))" } ?? "") \(safe($0.reason))" }
                lines += view.transitions.map { t in
                    "  \(time(t.at)) \(t.from.rawValue) → \(t.to.rawValue) by \(t.actorRole)\(t.actorUser.map { " \(safe($0))" } ?? "")\(t.note.map { ": \(safe($0))" } ?? "")"
                        + (t.emergencyOverride.map { " [EMERGENCY OVERRIDE: \(safe($0))]" } ?? "")
                        + (t.feedback.map { " [attendance: \(safe($0.attendance)); safety: \(safe($0.safetyAdvice))\($0.nextVisit.map { "; next visit \(safe($0))" } ?? "")]" } ?? "")
                }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Advance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a case to its next state (the state machine of DOMAIN.md §5.4).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Option(help: ArgumentHelp("The next state.", valueName: "state")) var to: String
        @Option(help: "What was done and why.") var note = ""
        @Flag(help: "The guardian was informed.") var guardianInformed = false
        @Option(help: ArgumentHelp("The guardian's consent: given, refused or not-asked.", valueName: "consent")) var consent = "not-asked"
        @Option(help: ArgumentHelp("Red tier only: hand off without consent, for this reason (the centre reviews it).", valueName: "reason"))
        var emergencyOverride: String?
        @Option(help: "For referred_to_hospital: the registered hospital.") var hospital: String?
        @Option(help: "For hospital_feedback: attendance.") var attendance: String?
        @Option(help: "For hospital_feedback: safety advice for the school.") var safetyAdvice: String?
        @Option(help: "For hospital_feedback: the next visit (YYYY-MM-DD).") var nextVisit: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard CaseState(rawValue: to) != nil else { throw ValidationError("--to takes one of: \(CaseState.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard Consent(rawValue: consent) != nil else { throw ValidationError("--consent takes given, refused or not-asked") }
        }

        func run() throws {
            let (store, config, actor) = try ReferralsCommand.context(global, auth)
            let feedback = attendance.map { HospitalFeedback(attendance: $0, safetyAdvice: safetyAdvice ?? "", nextVisit: nextVisit) }
            let request = TransitionRequest(to: CaseState(rawValue: to)!, note: note, guardianInformed: guardianInformed,
                                            consent: Consent(rawValue: consent)!, emergencyOverride: emergencyOverride,
                                            feedback: feedback, hospital: hospital)
            let view = try store.advance(actor: actor, id: caseID, request: request, at: auth.requestedTime, policy: config.risk.deadlines,
                                         rules: config.risk.cases)
            try emit(view, json: json) { "case \(view.caseId) is now \(view.state.rawValue); next step due \(time(view.dueAt))" }
        }
    }

    struct RaiseFlag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "flag",
            abstract: "Raise a flag by hand (observation, disclosure, incident) for a student of your school: opens or joins the case there.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: "The student's ID.") var student: String
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
            let (store, config, actor) = try ReferralsCommand.context(global, auth)
            let r = try store.raiseFlag(actor: actor, student: student, className: className, tier: Tier(rawValue: tier)!, kind: kind,
                                        reason: reason, at: auth.requestedTime, policy: config.risk.deadlines, rules: config.risk.cases)
            struct Out: Encodable { var caseId: Int64; var opened: Bool }
            try emit(Out(caseId: r.caseID, opened: r.opened), json: json) { "case \(r.caseID) \(r.opened ? "opened" : "joined")" }
        }
    }

    struct Transfer: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move an open case to the student's new school (counsellor of its school, or the centre; audited).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Option(help: "The new school's code.") var toSchool: String
        @Option(help: "Why.") var reason: String
        func run() throws {
            let (store, config, actor) = try ReferralsCommand.context(global, auth)
            try store.transfer(actor: actor, id: caseID, toSchool: toSchool, reason: reason, at: auth.requestedTime, rules: config.risk.cases)
            print(CLIMessages.text("cli.referrals.transferred", ["case": String(caseID), "school": safe(toSchool)], english: "case \(caseID) transferred to \(safe(toSchool))"))
        }
    }

    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A case's audit trail (counsellor of its school, or the centre).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, config, actor) = try ReferralsCommand.context(global, auth)
            let events = try store.auditTrail(actor: actor, id: caseID, at: auth.requestedTime, rules: config.risk.cases)
            try emit(["events": events], json: json) {
                events.map { "\($0.seq) \(time($0.at))\($0.clock == "drill" ? " [drill]" : "") \($0.actorRole)/\(safe($0.actorOrg))/\(safe($0.actorUser)) \($0.action) \(safe($0.detail))" }
                    .joined(separator: "\n")
            }
        }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set which mentor account mentors whom, in your school (counsellors): by command or from a CSV file.",
            discussion: "CSV columns: school_code, class, student_id, mentor_login[, role (mentor or class-teacher)]; UTF-8 or GB18030. Rows of other schools are refused.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: "A CSV file of assignments.") var file: String?
        @Option(help: "The class.") var className: String?
        @Option(help: "The student's ID.") var student: String?
        @Option(help: "The mentor's login.") var mentor: String?
        @Option(help: "mentor or class-teacher.") var role = "mentor"
        func run() throws {
            let store = try global.existingStore()
            let actor = try auth.actor(store)
            var rows: [(className: String?, student: String, mentor: String, role: String)] = []
            if let file {
                for (line, f) in try SmallCSV.rows(path: file) {
                    guard f.count >= 4, !f[0].isEmpty, !f[2].isEmpty, !f[3].isEmpty else {
                        throw CLIError("\(file): line \(line): expected school_code, class, student_id, mentor_login[, role]")
                    }
                    guard f[0] == actor.organisation else {
                        throw CLIError("\(file): line \(line), column school_code: '\(safe(f[0]))' is not your school (\(actor.organisation)); nothing was recorded")
                    }
                    rows.append((f[1].isEmpty ? nil : f[1], f[2], f[3], f.count > 4 && !f[4].isEmpty ? f[4] : "mentor"))
                }
            } else {
                guard let student, let mentor else { throw ValidationError("give --file, or --student and --mentor") }
                rows.append((className, student, mentor, role))
            }
            for r in rows { try store.assign(actor: actor, student: r.student, className: r.className, mentorLogin: r.mentor, role: r.role, at: auth.requestedTime) }
            print(CLIMessages.text("cli.referrals.assigned", ["count": String(rows.count)], english: "\(rows.count) assignment(s) recorded"))
        }
    }

    struct Counts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open cases per tier (after escalation, as the queues show them) and cases per state.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _, actor) = try ReferralsCommand.context(global, auth)
            let counts = try store.caseCounts(actor: actor, at: auth.requestedTime)
            try emit(counts, json: json) {
                "open: " + counts.open.keys.sorted().map { "\($0) \(counts.open[$0]!)" }.joined(separator: ", ")
                    + "\nby state: " + counts.byState.keys.sorted().map { "\($0) \(counts.byState[$0]!)" }.joined(separator: ", ")
            }
        }
    }

    struct Reviews: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Emergency overrides waiting for the county centre's review.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Flag(help: "Reviewed ones too.") var all = false
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let (store, _, actor) = try ReferralsCommand.context(global, auth)
            let items = try store.overrideReviews(actor: actor, pendingOnly: !all, at: auth.requestedTime)
            try emit(["reviews": items], json: json) {
                items.isEmpty ? "no emergency override waiting for review" : items.map { r in
                    "case \(r.caseId) \(time(r.at)) \(safe(r.school)) \(safe(r.by)) → \(r.to.rawValue): \(safe(r.reason))"
                        + (r.reviewedAt.map { " — reviewed \(time($0)): \(safe(r.reviewNote))" } ?? " — PENDING")
                }.joined(separator: "\n")
            }
        }
    }

    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record the centre's review of a case's emergency override (audited).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The case number.") var caseID: Int64
        @Option(help: "What was checked and what follows.") var note: String
        func run() throws {
            let (store, config, actor) = try ReferralsCommand.context(global, auth)
            let n = try store.reviewOverride(actor: actor, caseID: caseID, note: note, at: auth.requestedTime, rules: config.risk.cases)
            print(CLIMessages.text("cli.referrals.reviewed", ["case": String(caseID), "count": String(n)], english: "case \(caseID): \(n) override(s) reviewed"))
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The keyed, append-only audit log.", subcommands: [Verify.self, Checkpoint.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit log's keyed chain: detects edited, removed, reordered or forged events and rows changed outside SchoolHealth.",
            discussion: "With --expect CHECKPOINT (from `audit checkpoint`), also detects a log cut short or replaced since.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A checkpoint printed by `audit checkpoint` earlier.") var expect: String?
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let result = try global.existingStore().verifyAudit(expect: expect)
            try emit(result, json: json) {
                guard result.ok else {
                    return CLIMessages.text("cli.audit.tampered", ["problem": result.problem ?? ""], english: "AUDIT LOG TAMPERED: \(result.problem ?? "")")
                }
                let legacy = result.legacyEvents > 0
                    ? CLIMessages.text("cli.audit.legacy", ["count": String(result.legacyEvents)], english: " (\(result.legacyEvents) from before the keyed chain)") : ""
                let checkpoint = result.checkpointEvents.map {
                    CLIMessages.text("cli.audit.checkpoint", ["count": String($0)], english: "; the checkpoint's \($0) events are all there")
                } ?? ""
                return CLIMessages.text("cli.audit.intact", ["count": String(result.events)], english: "audit log intact: \(result.events) events") + legacy + checkpoint
            }
            if !result.ok { throw ExitCode(1) }
        }
    }

    struct Checkpoint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed count and head of the log, for the bureau's weekly report (administrator or health office).",
            discussion: "Keep it outside this machine; `audit verify --expect` it later.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        func run() throws {
            let store = try global.existingStore()
            print(try store.auditCheckpoint(actor: try auth.actor(store)))
        }
    }
}

