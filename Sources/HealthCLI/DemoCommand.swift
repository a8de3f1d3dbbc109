import ArgumentParser
import Foundation
import HealthIngest
import HealthStore
import HealthSynthetic
import HealthCore
import HealthRisk
import HealthServices
import HealthAnalytics

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a small synthetic county, import it into the database and show what was imported.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Students in the first year.")
    var students: Int = 1_200
    @Option(help: "School years, from 2022.")
    var years: Int = 3

    func validate() throws {
        guard (1...400_000).contains(students) else { throw ValidationError("--students is 1 to 400000, not \(students)") }
        guard (1...12).contains(years) else { throw ValidationError("--years is 1 to 12, not \(years)") }
    }

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schoolhealth-demo-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let county = SyntheticCounty(seed: 2024, students: students, firstYear: 2022, years: years)
        let vision = try county.writeVision(to: dir), spine = try county.writeSpine(to: dir), fitness = try county.writeFitness(to: dir)
        let psych = try county.writePsych(to: dir)
        let schools = try county.writeSchools(to: dir)
        print(t("cli.demo.written", ["dir": dir], "Synthetic county written to \(dir) (no real student data):"))
        for f in vision + spine + fitness + psych {
            let name = (f.path as NSString).lastPathComponent
            print("  " + t("cli.demo.file", ["file": name, "rows": String(f.rows), "encoding": f.encoding, "headers": f.headers],
                           "\(name): \(f.rows) rows, \(f.encoding), \(f.headers) headers"))
        }
        print("\n" + t("cli.demo.importing", ["db": global.databasePath], "Importing into \(global.databasePath):"))
        let existed = FileManager.default.fileExists(atPath: global.databasePath)
        let store0 = try Store.open(path: global.databasePath, drill: true)
        guard store0.isDrill else {
            throw CLIError("\(global.databasePath): the demo sets times by hand, so it runs on a drill database only, and this one is not; give --db NEWFILE")
        }
        let list = try SchoolListImporter(store: store0, config: try global.loadConfig()).importFile(path: schools[0].path, rejects: RejectionList())
        print(t("cli.demo.schools", ["added": String(list.inserted), "unchanged": String(list.unchanged)],
                "schools.csv: the county's school list — \(list.inserted) added, \(list.unchanged) unchanged"))
        let tokens = try DemoAccounts.prepare(store0, tokensPath: global.databasePath + ".demo-tokens", existed: existed)
        try await ImportRun(global: global, files: vision.map(\.path), kind: .vision, rejectsBesideInput: false).run()
        try await ImportRun(global: global, files: spine.map(\.path), kind: .spine, rejectsBesideInput: false).run()
        for f in fitness {
            // The national template has no school column: schools come from the students' vision records.
            var run = ImportRun(global: global, files: [f.path], kind: .fitness, rejectsBesideInput: false)
            let year = f.schoolYear
            run.adjust = { $0.schoolYear = year }
            try await run.run()
        }

        try await ImportRun(global: global, files: [psych[0].path], kind: .psych, rejectsBesideInput: false).run()
        let store = try Store.open(path: global.databasePath)
        let loop = try await screeningLoop(county: county, dir: dir, store: store, tokens: tokens)
        let assigned = try DemoAccounts.assignGrid(store, grid: psych[1].path, tokens: tokens)
        print(t("cli.demo.assigned", ["file": String(psych[1].path.split(separator: "/").last!), "count": String(assigned)],
                "\(psych[1].path.split(separator: "/").last!): \(assigned) class-teacher assignment(s) recorded by the schools' counsellors"))
        let summary = try store.visionSummary()
        print("\n" + t("cli.demo.vision", [:], "Vision screenings in the database (screening myopia per WS/T 663-2020, complete screenings only):"))
        table(["school year", "schools", "screenings", "complete", "myopic", "myopia rate", "poor vision"], summary.map { s in
            [String(s.schoolYear), String(s.schools), String(s.screenings), String(s.complete), String(s.myopic), String(format: "%.1f %%", s.myopiaRate * 100),
             String(format: "%.1f %%", s.complete == 0 ? 0 : Double(s.poorVision) / Double(s.complete) * 100)]
        })
        print("\n" + t("cli.demo.spine", [:], "Spine screenings (screen-positive: ATR ≥ 5° in any segment; sagittal: sign persisting in the prone test):"))
        table(["school year", "screenings", "lateral finding", "screen-positive", "sagittal abnormal", "referred"], try store.spineSummary().map { s in
            [String(s.schoolYear), String(s.screenings), String(s.lateralFinding), String(s.lateralPositive), String(s.sagittalAbnormal), String(s.referred)]
        })
        print("\n" + t("cli.demo.fitness", [:], "Physical fitness (2014 standard; 优良率 = (优秀 + 良好) / scored students):"))
        table(["school year", "students", "scored", "exempt", "incomplete", "优良率", "pass rate", "on unconfirmed rows"], try store.fitnessSummary().map { f in
            [String(f.schoolYear), String(f.students), String(f.scored), String(f.exempt), String(f.incomplete),
             String(format: "%.1f %%", f.scored == 0 ? 0 : Double(f.excellent + f.good) / Double(f.scored) * 100),
             String(format: "%.1f %%", f.scored == 0 ? 0 : Double(f.scored - f.fail) / Double(f.scored) * 100), String(f.weakProvenance)]
        })
        print(t("cli.demo.unconfirmed", [:], "  (\"on unconfirmed rows\": scores resting on a SINGLE SOURCE, PARTIAL or CONFLICT row of the scoring tables)"))

        // The psychological-crisis queue a school counsellor sees a week after the screening.
        let year = psych[0].schoolYear
        let asOf = Int(CivilDate(year: year, month: 10, day: 25)!.daysSinceEpoch * 86400 + 2 * 3600)
        let counsellor = try store.authenticate(token: tokens["counsellor-SH-J01"] ?? "")
        let queue = try store.queue(actor: counsellor, at: asOf, limit: 8)
        let rules = try global.loadConfig().risk.versionTag
        print("\n" + t("cli.demo.queue", ["year": String(year), "rules": rules],
                       "Referral queue of the SH-J01 counsellor on \(year)-10-25 (risk rules \(rules); top 8):"))
        for item in queue {
            let escalated = item.escalations > 0 ? " " + t("cli.demo.escalated", [:], "(escalated)") : ""
            print("  " + t("cli.demo.case", ["case": String(item.caseId)], "case \(item.caseId)") + "  \(padded(item.effectiveTier.rawValue, 6))  \(padded(item.state.rawValue, 12))  "
                  + t("cli.demo.student", ["student": item.studentId], "student \(item.studentId)") + "  \(hours(item.overdueSeconds))\(escalated)")
        }
        let counts = try store.caseCounts(actor: try store.authenticate(token: tokens["health-office"] ?? ""), at: asOf)
        let byTier = counts.open.keys.sorted().map { "\($0) \(counts.open[$0]!)" }.joined(separator: ", ")
        print("  " + t("cli.demo.counts", ["counts": byTier], "county, open cases by tier after escalation (what the health office sees): \(byTier)"))
        print("  " + t("cli.demo.tokens", ["path": global.databasePath + ".demo-tokens"],
                       "demo accounts' tokens (a drill database; synthetic data): \(global.databasePath).demo-tokens"))
        let command = "SCHOOLHEALTH_TOKEN=$(sed -n 's/^counsellor-SH-J01 //p' \(global.databasePath).demo-tokens) schoolhealth referrals show \(queue.first?.caseId ?? 1) --db \(global.databasePath) --now \(year)-10-25T10:00:00+08:00"
        print("  " + t("cli.demo.try", ["command": command], "try: \(command)"))
        printLoop(loop, store: store)
        print("\n" + t("cli.demo.web", ["db": global.databasePath, "password": DemoAccounts.password], """
            The web application on this database (http://127.0.0.1:8080, in Chinese; English with the switch):
              schoolhealth serve --db \(global.databasePath)
            Demo accounts, all with the password \(DemoAccounts.password) (synthetic data, a drill database; never use them elsewhere):
              nurse-SH-P01 (school nurse: uploads)   health-office (dashboard)   counsellor-SH-J01 (crisis queue)
              centre (county centre)   hospital (specialist hospital)   demo-admin (accounts)
            """))
    }

    struct LoopSummary {
        var coverage: Coverage
        var issued = 0
        var resultRows = 0
    }

    /// The screening loop on the synthetic county: every school's list per year, the notices its nurse issues a
    /// fortnight after the screenings, and the clinics' results that come back.
    func screeningLoop(county: SyntheticCounty, dir: String, store: Store, tokens: [String: String]) async throws -> LoopSummary {
        for f in try county.writeRosters(to: dir) {
            var run = ImportRun(global: global, files: [f.path], kind: .vision, rejectsBesideInput: false)
            let year = f.schoolYear
            run.adjust = { $0.schoolYear = year }
            run.roster = true
            try await run.run()
        }
        let services = try openServices(global)
        var issued = 0
        for school in try store.schools() {
            guard let token = tokens["nurse-\(school.code)"] else { continue }
            let nurse = try store.authenticate(token: token)
            for y in 0..<county.years {
                let year = county.firstYear + y
                let at = Int(CivilDate(year: year, month: 11, day: 20)!.daysSinceEpoch * 86400 + 2 * 3600)
                issued += try await services.followUp.issueNotices(schoolYear: year, classKey: nil, actor: nurse, at: at).issued.count
            }
        }
        let notices = try SyntheticNotices.issued(in: store)
        let results = SyntheticClinic.resultsCSV(notices, seed: county.seed, today: .today)
        let path = dir + "/clinic-results.csv"
        try results.text.write(toFile: path, atomically: true, encoding: .utf8)
        var run = ImportRun(global: global, files: [path], kind: .vision, rejectsBesideInput: false)
        run.results = true
        try await run.run()
        let nurse = try store.authenticate(token: tokens["nurse-SH-P01"] ?? "")
        let coverage = try await services.followUp.coverage(schoolYear: county.firstYear, actor: nurse)
        return LoopSummary(coverage: coverage, issued: issued, resultRows: results.rows)
    }

    func printLoop(_ loop: LoopSummary, store: Store) {
        let c = loop.coverage
        print("\n" + t("cli.demo.coverage", ["school": c.school, "year": String(c.schoolYear)],
                       "Coverage of \(c.school)'s list, school year \(c.schoolYear) (schoolhealth coverage):"))
        table(["kind", "listed", "screened", "not screened"], ScreeningLoop.kinds.compactMap { kind in
            let total = c.total(kind)
            return total.enrolled == 0 ? nil : [CLIMessages.text("cli.coverage.kind." + kind, english: kind), String(total.enrolled), String(total.screened),
                                               String(total.enrolled - total.screened)]
        })
        var seen = Set<String>()
        for u in c.unmatched where seen.insert(u.studentID).inserted {
            print("  " + t("cli.demo.unmatched", ["id": u.studentID, "near": u.suggestions.joined(separator: ", ")],
                           "screening of \(u.studentID) matches no list; nearest on the list: \(u.suggestions.joined(separator: ", "))"))
        }
        let notices = (try? store.notices(school: nil).filter { $0.reissueOf == nil }) ?? []
        print("\n" + t("cli.demo.notices", ["issued": String(loop.issued)],
                       "Notices to parents issued by the nurses (schoolhealth notices issue): \(loop.issued); results back from the clinics:"))
        table(["kind", "notices", "returned", "confirmed", "follow-up rate"], ScreeningLoop.followUpKinds.map { kind in
            let of = notices.filter { $0.findings.kind == kind && $0.expectsResult }
            let back = of.filter { $0.result != nil }
            return [CLIMessages.text("cli.coverage.kind." + kind, english: kind), String(of.count), String(back.count),
                    String(back.filter { $0.result!.outcome.confirms }.count), String(format: "%.1f %%", of.isEmpty ? 0 : Double(back.count) / Double(of.count) * 100)]
        })
    }

    private func t(_ key: String, _ arguments: [String: String], _ english: String) -> String {
        CLIMessages.text(key, arguments, english: english)
    }

    /// A table with its headings in the reader's language and the numbers right-aligned under them.
    private func table(_ headings: [String], _ rows: [[String]]) {
        let said = headings.map { CLIMessages.text("cli.demo.col." + $0.replacingOccurrences(of: " ", with: "-"), english: $0) }
        let widths = said.indices.map { i in max(displayWidth(said[i]), rows.map { displayWidth($0[i]) }.max() ?? 0) }
        print("  " + said.indices.map { leftPadded(said[$0], widths[$0]) }.joined(separator: "  "))
        for row in rows { print("  " + row.indices.map { leftPadded(row[$0], widths[$0]) }.joined(separator: "  ")) }
    }
}

/// The demo's accounts: an administrator, a counsellor per school, the county centre, a hospital and the
/// health office, each with a token kept in `<db>.demo-tokens` (mode 0600), and a class-teacher account per
/// class of the synthetic grid.
enum DemoAccounts {
    /// The demo accounts' password, for the web pages of a drill database full of synthetic data; never for
    /// real accounts (real ones are added with `users add`, their passwords asked on the terminal).
    static let password = "demo-password"

    static func prepare(_ store: Store, tokensPath: String, existed: Bool) throws -> [String: String] {
        if try store.hasAccounts() {
            guard let text = try? String(contentsOfFile: tokensPath, encoding: .utf8) else {
                throw CLIError("\(store.path) has accounts but \(tokensPath) is gone: give the demo a new --db")
            }
            return Dictionary(text.split(separator: "\n").compactMap { line in
                let p = line.split(separator: " ", maxSplits: 1).map(String.init)
                return p.count == 2 ? (p[0], p[1]) : nil
            }, uniquingKeysWith: { a, _ in a })
        }
        var tokens: [String: String] = [:]
        let first = try store.createFirstAdministrator(login: "demo-admin", name: "演示管理员", password: password, issueToken: true)
        tokens["demo-admin"] = first.token
        let admin = try store.authenticate(token: first.token!)
        func add(_ login: String, _ role: Role, _ org: String, _ name: String) throws {
            tokens[login] = try store.addAccount(by: admin, login: login, name: name, role: role, organisation: org, password: password, issueToken: true).token
        }
        for school in try store.schools() {
            try add("counsellor-\(school.code)", .counsellor, school.code, "\(school.name)心理教师")
            try add("nurse-\(school.code)", .nurse, school.code, "\(school.name)校医")
        }
        try add("centre", .centre, "county-centre", "县学生心理成长指导中心")
        try add("hospital", .hospital, "county-hospital", "县精神卫生专科医院")
        try add("health-office", .healthOffice, "bureau", "教育局体卫艺科")
        let fd = open(tokensPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("\(tokensPath): cannot write the demo tokens") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: Data(tokens.keys.sorted().map { "\($0) \(tokens[$0]!)\n" }.joined().utf8))
        return tokens
    }

    /// Registers the grid's class teachers (token-less mentor accounts never used to log in) and lets each
    /// school's counsellor assign them.
    static func assignGrid(_ store: Store, grid: String, tokens: [String: String]) throws -> Int {
        let admin = try store.authenticate(token: tokens["demo-admin"] ?? "")
        var known = Set(try store.accounts(by: admin).map(\.login))
        var counsellors: [String: Actor] = [:]
        var n = 0
        for (_, f) in try SmallCSV.rows(path: grid) where f.count >= 4 {
            let (school, className, student, login) = (f[0], f[1], f[2], f[3])
            if !known.contains(login) {
                _ = try store.addAccount(by: admin, login: login, name: "班主任 \(login)", role: .mentor, organisation: school,
                                         password: nil, issueToken: true)
                known.insert(login)
            }
            guard let token = tokens["counsellor-\(school)"] else { continue }
            let counsellor = try counsellors[school] ?? store.authenticate(token: token)
            counsellors[school] = counsellor
            try store.assign(actor: counsellor, student: student, className: className, mentorLogin: login, role: f.count > 4 ? f[4] : "mentor")
            n += 1
        }
        return n
    }
}
