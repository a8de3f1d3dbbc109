import ArgumentParser
import Foundation
import HealthAnalytics
import HealthCore
import HealthIngest
import HealthServices
import HealthStore

/// The services over an existing database.
func openServices(_ global: GlobalOptions) throws -> SchoolHealthServices {
    try global.services()
}

/// `schoolhealth coverage`: who on the school's list was screened, per class and kind.
struct CoverageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Coverage of your school's list for a school year: listed, screened, not screened, per class and kind.",
        discussion: """
            For a school's nurse (SCHOOLHEALTH_TOKEN or --login). Needs the school's list (schoolhealth roster import). A student \
            who moved and was screened at the old school counts as screened. Screenings whose 学籍号 is on no list are shown \
            with the nearest IDs of the list: probably mistyped.

            Example:
              schoolhealth coverage --school-year 2024 --unscreened
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var auth: AuthOptions
    @Option(help: ArgumentHelp("The school year (2024 = 2024–2025).", valueName: "year")) var schoolYear: Int
    @Flag(help: "Also list the students not screened, per kind and class.") var unscreened = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let services = try openServices(global)
        let c = try await services.followUp.coverage(schoolYear: schoolYear, actor: try auth.actor(services.store))
        if json { print(Console.json(c)); return }
        let say = { (k: String, e: String) in CLIMessages.text("cli.coverage." + k, english: e) }
        print(CLIMessages.text("cli.coverage.title", ["school": c.school, "year": String(c.schoolYear)],
                               english: "Coverage of \(c.school), school year \(c.schoolYear):"))
        let headings = [say("kind", "kind"), say("class", "class"), say("listed", "listed"), say("screened", "screened"), say("notScreened", "not screened")]
        let rows = c.rows.map { [say("kind." + $0.kind, $0.kind), $0.classLabel, String($0.enrolled), String($0.screened), String($0.notScreened)] }
        let widths = headings.indices.map { i in max(displayWidth(headings[i]), rows.map { displayWidth($0[i]) }.max() ?? 0) }
        print("  " + headings.indices.map { padded(headings[$0], widths[$0]) }.joined(separator: "  "))
        for r in rows { print("  " + r.indices.map { $0 < 2 ? padded(r[$0], widths[$0]) : leftPadded(r[$0], widths[$0]) }.joined(separator: "  ")) }
        if unscreened {
            for kind in ScreeningLoop.kinds {
                guard let list = c.unscreened[kind], !list.isEmpty else { continue }
                print("\n" + CLIMessages.text("cli.coverage.unscreened", ["kind": say("kind." + kind, kind), "count": String(list.count)],
                                              english: "Not screened (\(kind)): \(list.count)"))
                for e in list { print("  \(ClassLabel.text(grade: e.grade, classCode: e.classCode, className: e.className))  \(e.studentID)") }
            }
        }
        if !c.unmatched.isEmpty {
            print("\n" + say("unmatched", "Screenings whose 学籍号 is on no list (probably mistyped):"))
            for u in c.unmatched {
                let near = u.suggestions.isEmpty ? "" : "  " + CLIMessages.text("cli.coverage.nearest", ["ids": u.suggestions.joined(separator: ", ")],
                                                                              english: "nearest on the list: \(u.suggestions.joined(separator: ", "))")
                print("  \(say("kind." + u.kind, u.kind))  \(u.classLabel)  \(u.studentID)  \(u.date)\(near)")
            }
        }
    }
}

/// `schoolhealth notices`: notices to parents for screenings that found something.
struct NoticesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notices",
        abstract: "Notices to parents (告家长书): issue them, print a class's, re-issue one, list the open ones.",
        discussion: """
            For a school's nurse. Which findings send a notice is Config/rules/follow-up.yaml; the text is Config/notices/zh-Hans.yaml. \
            A screening gets one notice: issuing again skips it; `reissue` prints it again, marked 补发, with a reason.

            Example:
              schoolhealth notices issue --school-year 2024
              schoolhealth notices print --school-year 2024 --class 11:1101 --output 一年级1班.html
            """,
        subcommands: [Issue.self, List.self, Print.self, Reissue.self, Open.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue the notices not issued yet for a school year (one class with --class).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: ArgumentHelp("The school year.", valueName: "year")) var schoolYear: Int
        @Option(name: .customLong("class"), help: ArgumentHelp("Only this class: grade code and class code (else name), as notices list shows it, e.g. 11:1101.", valueName: "class")) var classKey: String?
        func run() async throws {
            let services = try openServices(global)
            let r = try await services.followUp.issueNotices(schoolYear: schoolYear, classKey: classKey, actor: try auth.actor(services.store),
                                                                  at: auth.requestedTime)
            print(CLIMessages.text("cli.notices.issued", ["issued": String(r.issued.count), "already": String(r.already)],
                                   english: "\(r.issued.count) notice(s) issued; \(r.already) screening(s) already had one (re-issue with: notices reissue ID --reason …)"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The school year's notices per class: findings, issued, results returned.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: ArgumentHelp("The school year.", valueName: "year")) var schoolYear: Int
        func run() async throws {
            let services = try openServices(global)
            let board = try await services.followUp.board(schoolYear: schoolYear, actor: try auth.actor(services.store))
            let say = { (k: String, e: String) in CLIMessages.text("cli.notices." + k, english: e) }
            let headings = [say("class", "class"), say("key", "--class"), say("positive", "findings"), say("issuedCol", "issued"),
                            say("returned", "returned"), say("awaiting", "awaiting"), say("reissues", "re-issued")]
            let rows = board.map { [$0.classLabel, $0.classKey, String($0.positive), String($0.issued), String($0.returned), String($0.awaiting), String($0.reissues)] }
            let widths = headings.indices.map { i in max(displayWidth(headings[i]), rows.map { displayWidth($0[i]) }.max() ?? 0) }
            print("  " + headings.indices.map { padded(headings[$0], widths[$0]) }.joined(separator: "  "))
            for r in rows { print("  " + r.indices.map { $0 < 2 ? padded(r[$0], widths[$0]) : leftPadded(r[$0], widths[$0]) }.joined(separator: "  ")) }
        }
    }

    struct Print: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write one class's notices as one printable HTML file (A4, a notice a page, with its return slip).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: ArgumentHelp("The school year.", valueName: "year")) var schoolYear: Int
        @Option(name: .customLong("class"), help: ArgumentHelp("The class: grade code and class code (else name), as notices list shows it, e.g. 11:1101.", valueName: "class")) var classKey: String
        @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write (created owner-only).", valueName: "file")) var output: String
        func run() async throws {
            let services = try openServices(global)
            let html = try await services.followUp.printNotices(schoolYear: schoolYear, classKey: classKey, actor: try auth.actor(services.store))
            try OutputSafety.check(outputs: [("--output", output)], database: global.databasePath, inputs: [])
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CLIError("\(output): cannot write (\(String(cString: strerror(errno))))") }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(html.utf8))
            print(CLIMessages.text("cli.wrote", ["path": output], english: "wrote \(output)"))
        }
    }

    struct Reissue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a notice again (marked 补发), with the reason.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The notice's number.") var notice: Int64
        @Option(help: ArgumentHelp("Why (e.g. 家长遗失).", valueName: "text")) var reason: String
        func run() async throws {
            let services = try openServices(global)
            let id = try await services.followUp.reissue(notice, reason: reason, actor: try auth.actor(services.store), at: auth.requestedTime)
            print(CLIMessages.text("cli.notices.reissued", ["id": String(id), "original": String(notice)],
                                   english: "notice \(notice) re-issued as \(id) (marked 补发); print it with notices print"))
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Notices still without the clinic's result after N days (default: Config/rules/follow-up.yaml).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: ArgumentHelp("Days since issue.", valueName: "days")) var olderThan: Int?
        func run() async throws {
            let services = try openServices(global)
            let open = try await services.followUp.openNotices(olderThan: olderThan, actor: try auth.actor(services.store))
            let days = olderThan ?? services.config.followUp.openNoticeDays
            print(CLIMessages.text("cli.notices.open", ["count": String(open.count), "days": String(days)],
                                   english: "\(open.count) notice(s) without a result \(days) days or more after issue:"))
            for n in open {
                print("  \(n.id)  \(NoticePrint.day(n.issuedAt))  \(n.findings.classLabel)  \(n.findings.studentID)  \(n.findingIDs.joined(separator: ","))")
            }
        }
    }
}

/// `schoolhealth results`: the clinics' answers to the notices.
struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "The clinics' results for notices: import a file of them, or record one.",
        subcommands: [Import.self, Record.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import clinics' results (学籍号, 检查日期, 检查机构, 检查结果, SE per eye or Cobb angle).",
            discussion: """
                Each row answers a notice: the one its 通知编号 names, else the student's latest notice of that kind. Results are \
                checked against Config/rules/follow-up.yaml (myopia needs an eye at SE ≤ −0.50 D; scoliosis a Cobb angle ≥ 10°). \
                The whole file or nothing; rejected rows go to FILE.rejects.csv; the same file again changes nothing.

                Example:
                  schoolhealth results import 复查回执.csv
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The results file(s) (CSV).", valueName: "file")) var files: [String]
        @Option(help: ArgumentHelp("vision or spine, for files that do not say.", valueName: "kind")) var kind: String?
        @Flag(help: "Check the file and list what would be rejected; write nothing.") var dryRun = false
        @Flag(help: "Print one JSON object per file on stdout.") var json = false
        func validate() throws {
            if let kind, kind != "vision" && kind != "spine" { throw ValidationError("--kind is vision or spine, not \(kind)") }
        }
        func run() async throws {
            var run = ImportRun(global: global, files: files, kind: .vision, dryRun: dryRun, json: json)
            run.results = true
            run.resultKind = kind
            if !(try await run.run()) { throw ExitCode(1) }
        }
    }

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record one clinic's result for a notice (replaces an earlier one).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The notice's number.") var notice: Int64
        @Option(help: ArgumentHelp("The examination's date.", valueName: "date")) var date: String
        @Option(help: ArgumentHelp("The clinic or hospital.", valueName: "name")) var provider: String
        @Option(help: ArgumentHelp("近视, 非近视, 脊柱侧弯, 姿势性 or 正常 (or myopia, not_myopic, scoliosis, postural, normal).", valueName: "result")) var outcome: String
        @Option(help: ArgumentHelp("Cycloplegic SE of the right eye, dioptres.", valueName: "D")) var seRight: String?
        @Option(help: ArgumentHelp("Cycloplegic SE of the left eye, dioptres.", valueName: "D")) var seLeft: String?
        @Option(help: ArgumentHelp("The radiograph's Cobb angle, degrees.", valueName: "degrees")) var cobb: String?
        func run() async throws {
            let services = try openServices(global)
            let w = try await services.followUp.recordResult(noticeID: notice, date: date, provider: provider, outcome: outcome, seRight: seRight,
                                                             seLeft: seLeft, cobb: cobb, actor: try auth.actor(services.store))
            print(CLIMessages.text("cli.results.recorded." + w.rawValue, ["notice": String(notice)], english: "notice \(notice): result \(w.rawValue)"))
        }
    }
}
