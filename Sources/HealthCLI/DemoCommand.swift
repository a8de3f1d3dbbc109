import ArgumentParser
import Foundation
import HealthIngest
import HealthStore
import HealthSynthetic
import HealthCore
import HealthRisk

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
        print("Synthetic county written to \(dir) (no real student data):")
        for f in vision + spine + fitness + psych {
            print("  \((f.path as NSString).lastPathComponent): \(f.rows) rows, \(f.encoding), \(f.headers) headers")
        }
        print("\nImporting into \(global.databasePath):")
        let existed = FileManager.default.fileExists(atPath: global.databasePath)
        let store0 = try Store.open(path: global.databasePath, drill: true)
        guard store0.isDrill else {
            throw CLIError("\(global.databasePath): the demo sets times by hand, so it runs on a drill database only, and this one is not; give --db NEWFILE")
        }
        let list = try SchoolListImporter(store: store0, config: try global.loadConfig()).importFile(path: schools[0].path, rejects: RejectionList())
        print("schools.csv: the county's school list — \(list.inserted) added, \(list.unchanged) unchanged")
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
        let assigned = try DemoAccounts.assignGrid(store, grid: psych[1].path, tokens: tokens)
        print("\(psych[1].path.split(separator: "/").last!): \(assigned) class-teacher assignment(s) recorded by the schools' counsellors")
        let summary = try store.visionSummary()
        print("\nVision screenings in the database (screening myopia per WS/T 663-2020, complete screenings only):")
        print("  school year  schools  screenings  complete  myopic  myopia rate  poor vision")
        for s in summary {
            let rate = String(format: "%.1f %%", s.myopiaRate * 100)
            let poor = String(format: "%.1f %%", s.complete == 0 ? 0 : Double(s.poorVision) / Double(s.complete) * 100)
            print("  \(pad(s.schoolYear, 11))  \(pad(s.schools, 7))  \(pad(s.screenings, 10))  \(pad(s.complete, 8))  \(pad(s.myopic, 6))  \(pad(rate, 11))  \(pad(poor, 11))")
        }
        print("\nSpine screenings (screen-positive: ATR ≥ 5° in any segment; sagittal: sign persisting in the prone test):")
        print("  school year  screenings  lateral finding  screen-positive  sagittal abnormal  referred")
        for s in try store.spineSummary() {
            print("  \(pad(s.schoolYear, 11))  \(pad(s.screenings, 10))  \(pad(s.lateralFinding, 15))  \(pad(s.lateralPositive, 15))  \(pad(s.sagittalAbnormal, 17))  \(pad(s.referred, 8))")
        }
        print("\nPhysical fitness (2014 standard; 优良率 = (优秀 + 良好) / scored students):")
        print("  school year  students  scored  exempt  incomplete  优良率   pass rate  on unconfirmed rows")
        for f in try store.fitnessSummary() {
            let good = String(format: "%.1f %%", f.scored == 0 ? 0 : Double(f.excellent + f.good) / Double(f.scored) * 100)
            let pass = String(format: "%.1f %%", f.scored == 0 ? 0 : Double(f.scored - f.fail) / Double(f.scored) * 100)
            print("  \(pad(f.schoolYear, 11))  \(pad(f.students, 8))  \(pad(f.scored, 6))  \(pad(f.exempt, 6))  \(pad(f.incomplete, 10))  \(pad(good, 6))  \(pad(pass, 9))  \(pad(f.weakProvenance, 19))")
        }
        print("  (\"on unconfirmed rows\": scores resting on a SINGLE SOURCE, PARTIAL or CONFLICT row of the scoring tables)")

        // The psychological-crisis queue a school counsellor sees a week after the screening.
        let year = psych[0].schoolYear
        let asOf = Int(CivilDate(year: year, month: 10, day: 25)!.daysSinceEpoch * 86400 + 2 * 3600)
        let counsellor = try store.authenticate(token: tokens["counsellor-SH-J01"] ?? "")
        let queue = try store.queue(actor: counsellor, at: asOf, limit: 8)
        print("\nReferral queue of the SH-J01 counsellor on \(year)-10-25 (risk rules \(try global.loadConfig().risk.versionTag); top 8):")
        for item in queue {
            print("  case \(item.caseId)  \(item.effectiveTier.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(item.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))  student \(item.studentId)  \(hours(item.overdueSeconds))\(item.escalations > 0 ? " (escalated)" : "")")
        }
        let counts = try store.caseCounts(actor: try store.authenticate(token: tokens["health-office"] ?? ""), at: asOf)
        print("  county, open cases by tier after escalation (what the health office sees): " + counts.open.keys.sorted().map { "\($0) \(counts.open[$0]!)" }.joined(separator: ", "))
        print("  demo accounts' tokens (a drill database; synthetic data): \(global.databasePath).demo-tokens")
        print("  try: SCHOOLHEALTH_TOKEN=$(sed -n 's/^counsellor-SH-J01 //p' \(global.databasePath).demo-tokens) schoolhealth referrals show \(queue.first?.caseId ?? 1) --db \(global.databasePath) --now \(year)-10-25T10:00:00+08:00")
        print("""

            The web application on this database (http://127.0.0.1:8080, in Chinese; English with the switch):
              schoolhealth serve --db \(global.databasePath)
            Demo accounts, all with the password \(DemoAccounts.password) (synthetic data, a drill database; never use them elsewhere):
              nurse-SH-P01 (school nurse: uploads)   health-office (dashboard)   counsellor-SH-J01 (crisis queue)
              centre (county centre)   hospital (specialist hospital)   demo-admin (accounts)
            """)
    }

    private func pad(_ v: some CustomStringConvertible, _ n: Int) -> String {
        let s = v.description
        return String(repeating: " ", count: max(0, n - s.count)) + s
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
