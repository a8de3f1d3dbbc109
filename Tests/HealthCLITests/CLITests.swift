import Foundation
import Testing
import HealthStore
import HealthTestSupport

/// The `schoolhealth` binary built beside the test bundle.
let binary: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("schoolhealth").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return TestSupport.repositoryRoot.appendingPathComponent(".build/debug/schoolhealth").path
}()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the binary to completion.
@discardableResult
/// The token a command printed ("token (shown once; …): sht_…").
func printedToken(_ r: RunResult) -> String? {
    r.stdout.split(separator: "\n").first { $0.hasPrefix("token ") }.flatMap { $0.split(separator: " ").last.map(String.init) }
}

/// Adds an account with a token (as the administrator whose token is given) and returns the new token.
func addAccount(db: String, admin: String, login: String, role: String, org: String) throws -> String {
    let r = try schoolhealth(["users", "add", login, "--db", db, "--role", role, "--org", org, "--token", "--no-password"], token: admin)
    guard r.status == 0, let t = printedToken(r) else { throw CommandFailure(r.stderr) }
    return t
}

struct CommandFailure: Error { var message: String; init(_ m: String) { message = m } }

/// Runs the CLI in English unless `lang` names another locale (`zh_CN.UTF-8`).
func schoolhealth(_ arguments: [String], in directory: String? = nil, token: String? = nil, stdin: String? = nil, lang: String = "C.UTF-8") throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var env = ProcessInfo.processInfo.environment
    env["SCHOOLHEALTH_CONFIG"] = TestSupport.configDirectory
    env.removeValue(forKey: "SCHOOLHEALTH_DB")
    env.removeValue(forKey: "SCHOOLHEALTH_TOKEN")
    env.removeValue(forKey: "SCHOOLHEALTH_AUDIT_KEY")
    env.removeValue(forKey: "LC_ALL")
    env.removeValue(forKey: "LC_MESSAGES")
    env["LANG"] = lang
    if let token { env["SCHOOLHEALTH_TOKEN"] = token }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

@Suite("schoolhealth command line", .serialized)
struct CLITests {
    @Test("Under LANG=zh_CN the import speaks Chinese: the summary, each rejected value's reason, the rejects file, a refused file")
    func chinese() throws {
        let dir = TestSupport.temporaryDirectory("cli-zh")
        let bad = dir + "/bad.csv"
        try FileManager.default.copyItem(atPath: TestSupport.fixture("vision/bad-values.csv"), toPath: bad)
        let r = try schoolhealth(["import", "vision", "--db", dir + "/db.sqlite", bad], lang: "zh_CN.UTF-8")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("已导入为批次 1") && r.stdout.contains("读取 ") && r.stdout.contains("退回的值列在 "), "\(r.stdout)")
        #expect(!r.stdout.contains("rows read") && !r.stdout.contains("header line"), "\(r.stdout)")
        let data = try Data(contentsOf: URL(fileURLWithPath: bad + ".rejects.csv"))
        let rejects = String(decoding: data, as: UTF8.self)
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF] && rejects.contains("文件,行号,列,值,退回原因\r\n"), "\(rejects)")
        #expect(rejects.contains(",性别,3,不是性别代码：男生写 1、男或 M，女生写 2、女或 F"), "\(rejects)")
        #expect(!rejects.contains("is not"), "\(rejects)")
        // Column names stay as written in the file.
        #expect(rejects.contains("右眼裸眼视力") || rejects.contains("学籍号"), "\(rejects)")
        let refused = try schoolhealth(["import", "vision", "--db", dir + "/db.sqlite", TestSupport.fixture("vision/header-only.csv")], lang: "zh_CN.UTF-8")
        #expect(refused.status != 0 && refused.stderr.contains("文件只有表头，没有数据行"), "\(refused.stderr)")
        // The inspect mode too.
        let unknown = dir + "/unknown.csv"
        try FileManager.default.copyItem(atPath: TestSupport.fixture("vision/unknown-layout.csv"), toPath: unknown)
        let inspect = try schoolhealth(["import", "vision", "--inspect", unknown, "--db", dir + "/db.sqlite"], lang: "zh_CN.UTF-8")
        #expect(inspect.stdout.contains("最接近的格式 vision") && inspect.stdout.contains("会被退回：") && inspect.stdout.contains("缺少格式“vision”必需的列"), "\(inspect.stdout)")
        // The trend report in Chinese too (Markdown, the CLI's default).
        let report = try schoolhealth(["report", "trends", "--db", dir + "/db.sqlite"], lang: "zh_CN.UTF-8")
        #expect(report.status == 0 && report.stdout.contains("## 目标") && report.stdout.contains("| 学校或地区 |") && !report.stdout.contains("| area |"), "\(report.stdout.prefix(1500))")
        // The same in English without the locale.
        let english = try schoolhealth(["import", "vision", "--db", dir + "/db.sqlite", TestSupport.fixture("vision/header-only.csv")])
        #expect(english.stderr.contains("the file has a header line but no data rows"), "\(english.stderr)")
    }

    @Test("roster import: a school's list for a year, its rejects beside it; the year is required")
    func roster() throws {
        let dir = TestSupport.temporaryDirectory("cli-roster")
        let list = dir + "/学籍名单.csv"
        try FileManager.default.copyItem(atPath: TestSupport.fixture("roster/national-template.csv"), toPath: list)
        let r = try schoolhealth(["roster", "import", list, "--db", dir + "/db.sqlite", "--school-year", "2024", "--school", "SH-P01"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("rows read 8 · inserted 4 · updated 0 · unchanged 0 · rejected 4"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: list + ".rejects.csv"))
        let again = try schoolhealth(["roster", "import", list, "--db", dir + "/db.sqlite", "--school-year", "2024", "--school", "SH-P01"])
        #expect(again.stdout.contains("already imported as batch 1"), "\(again.stdout)")
        let noYear = try schoolhealth(["roster", "import", list, "--db", dir + "/db.sqlite"])
        #expect(noYear.status != 0 && noYear.stderr.contains("--school-year"), "\(noYear.stderr)")
        let zh = try schoolhealth(["roster", "import", list, "--db", dir + "/db2.sqlite", "--school-year", "2024"], lang: "zh_CN.UTF-8")
        #expect(zh.status != 0 && zh.stderr.contains("没有 school_code 列") && zh.stderr.contains("为每一行指定"), "\(zh.stderr)")
    }

    @Test("import vision --json prints one object per file with the documented fields")
    func json() throws {
        let dir = TestSupport.temporaryDirectory("cli")
        let r = try schoolhealth(["import", "vision", "--db", dir + "/db.sqlite", "--json",
                                  TestSupport.fixture("vision/gb18030.csv"), TestSupport.fixture("vision/bad-values.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        for key in ["file", "encoding", "batch", "rowsRead", "inserted", "updated", "unchanged", "rejected", "warnings"] {
            #expect(first[key] != nil, "missing \(key)")
        }
        #expect(first["encoding"] as? String == "GB18030")
        #expect(first["inserted"] as? Int == 4)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        #expect(second["rejected"] as? Int == 12)
        // Rejects land beside the input by default only when not given --rejects; here they go beside the fixture,
        // so clean that up.
        if let path = second["rejectsFile"] as? String { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("Rejects file: UTF-8 with BOM, line/column/value/reason, formulas neutralised")
    func rejectsFile() throws {
        let dir = TestSupport.temporaryDirectory("cli")
        let csv = dir + "/in.csv"
        try "student_id,sex,school_code,grade,screening_date,ucva_right,ucva_left\n\"=HYPERLINK(\"\"x\"\")\",1,S,11,2024-09-02,5.0,5.0\n002,1,S,11,2024-09-02,-1,5.0\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try schoolhealth(["import", "vision", "--db", dir + "/db.sqlite", "--rejects", dir + "/rejects.csv", csv])
        #expect(r.status == 0)
        let data = try #require(FileManager.default.contents(atPath: dir + "/rejects.csv"))
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: data.dropFirst(3), as: UTF8.self)
        let lines = text.split(separator: "\r\n").map(String.init)
        #expect(lines[0] == "file,line,column,value,reason")
        #expect(lines[1].contains(",2,student_id,\"'=HYPERLINK(\"\"x\"\")\","))
        #expect(lines[2].contains(",3,ucva_right,-1,"))   // a number stays a number
    }

    @Test("A refused file exits non-zero with the cause on stderr; the other files still import")
    func refusedFile() throws {
        let dir = TestSupport.temporaryDirectory("cli")
        let r = try schoolhealth(["import", "vision", "--db", dir + "/db.sqlite",
                                  TestSupport.fixture("vision/workbook.xlsx"), TestSupport.fixture("vision/utf8.csv")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("workbook.xlsx") && r.stderr.contains("Save As"))
        #expect(r.stdout.contains("utf8.csv: imported"))
        #expect(try Store.open(path: dir + "/db.sqlite").counts().screenings == 4)
    }

    @Test("A school year that is not a year is refused before anything is read")
    func badSchoolYear() throws {
        let dir = TestSupport.temporaryDirectory("cli")
        let r = try schoolhealth(["import", "fitness", "--db", dir + "/db.sqlite", "--school-year", "24",
                                  TestSupport.fixture("fitness/template-22-columns.csv")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--school-year 24 is not a school year"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/db.sqlite"))
    }

    @Test("generate is reproducible and writes the promised shapes")
    func generate() throws {
        let a = TestSupport.temporaryDirectory("gen"), b = TestSupport.temporaryDirectory("gen")
        try schoolhealth(["generate", "--out", a, "--seed", "7", "--students", "300"])
        try schoolhealth(["generate", "--out", b, "--seed", "7", "--students", "300"])
        let all = try FileManager.default.contentsOfDirectory(atPath: a).sorted()
        #expect(all == ["fitness-2022.csv", "fitness-2023.csv", "fitness-2024.csv", "mentors-2024.csv", "psych-2024.csv",
                        "roster-2022.csv", "roster-2023.csv", "roster-2024.csv", "schools.csv", "spine-2022.csv", "spine-2023.csv", "spine-2024.csv", "vision-2022.csv", "vision-2023.csv", "vision-2024.csv"])
        for f in all {
            #expect(FileManager.default.contents(atPath: a + "/" + f) == FileManager.default.contents(atPath: b + "/" + f))
        }
        let files = all.filter { $0.hasPrefix("vision") }
        let gb = try #require(FileManager.default.contents(atPath: a + "/vision-2023.csv"))
        #expect(String(data: gb, encoding: .utf8) == nil)   // not UTF-8: GB18030
        let r = try schoolhealth(["import", "vision", "--db", a + "/db.sqlite", "--json", "--rejects", a + "/r.csv"] + files.map { a + "/" + $0 })
        let reports = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(reports.map { $0["encoding"] as? String } == ["UTF-8 with BOM", "GB18030", "UTF-8"])
        let c = try #require(FileManager.default.contents(atPath: a + "/vision-2024.csv"))
        #expect(String(decoding: c.prefix(10), as: UTF8.self) == "student_id")
        // Grades 1–12 and more than one school.
        let store = try Store.open(path: a + "/db.sqlite")
        #expect(try store.debugRows("SELECT COUNT(DISTINCT grade), COUNT(DISTINCT school_code), COUNT(DISTINCT school_year) FROM vision_screening")[0] == ["12", "8", "3"])
        // Spine and fitness (national template, no school column: placed through the vision records).
        let spine = try schoolhealth(["import", "spine", "--db", a + "/db.sqlite", "--json"] + all.filter { $0.hasPrefix("spine") }.map { a + "/" + $0 })
        #expect(spine.status == 0, "\(spine.stderr)")
        for year in 2022...2024 {
            let fit = try schoolhealth(["import", "fitness", "--db", a + "/db.sqlite", "--json", "--school-year", String(year), a + "/fitness-\(year).csv"])
            #expect(fit.status == 0, "\(fit.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(fit.stdout.utf8)) as! [String: Any]
            #expect(report["rejected"] as? Int == 0)
            #expect(report["encoding"] as? String == (year == 2023 ? "GB18030" : "UTF-8 with BOM"))
        }
        #expect(try store.debugRows("SELECT COUNT(*) > 0 FROM fitness_test WHERE status = 2")[0][0] == "1")   // exempt students
        // Psych scores raise flags; the mentor grid loads; a mentor sees exactly their own students' cases.
        let psych = try schoolhealth(["import", "psych", "--db", a + "/db.sqlite", "--json", a + "/psych-2024.csv"])
        #expect(psych.status == 0, "\(psych.stderr)")
        // The first administrator is added to the database the imports created; the counsellor of one school
        // assigns that school's class teachers (rows of other schools are refused); a mentor account then sees
        // exactly their own students' cases.
        let dbPath = a + "/db.sqlite"
        let initialised = try schoolhealth(["init", "--db", dbPath, "--admin", "admin", "--token", "--no-password"])
        let admin = try #require(printedToken(initialised), "\(initialised.stderr)")
        let grid = try String(contentsOfFile: a + "/mentors-2024.csv", encoding: .utf8).split(separator: "\r\n").map(String.init)
        let row = try #require(grid.dropFirst().first { $0.hasPrefix("SH-J01,") }).split(separator: ",").map(String.init)
        let mentorLogin = row[3]
        let classRows = grid.dropFirst().filter { $0.hasPrefix("SH-J01,") && $0.split(separator: ",")[3] == mentorLogin }
        try (["school_code,class,student_id,mentor_login,role"] + classRows).joined(separator: "\r\n").write(toFile: a + "/class.csv", atomically: true, encoding: .utf8)
        let counsellor = try addAccount(db: dbPath, admin: admin, login: "counsellor-j01", role: "counsellor", org: "SH-J01")
        let mentorToken = try addAccount(db: dbPath, admin: admin, login: mentorLogin, role: "mentor", org: "SH-J01")
        let wrongSchool = try schoolhealth(["referrals", "assign", "--db", dbPath, "--file", a + "/mentors-2024.csv"], token: counsellor)
        #expect(wrongSchool.status != 0 && wrongSchool.stderr.contains("is not your school"), "\(wrongSchool.stderr)")
        let assigned = try schoolhealth(["referrals", "assign", "--db", dbPath, "--file", a + "/class.csv"], token: counsellor)
        #expect(assigned.status == 0, "\(assigned.stderr)")
        let queue = try schoolhealth(["referrals", "queue", "--db", dbPath, "--json", "--limit", "1000"], token: mentorToken)
        #expect(queue.status == 0, "\(queue.stderr)")
        let listed = try JSONSerialization.jsonObject(with: Data(queue.stdout.utf8)) as! [String: [[String: Any]]]
        let students = classRows.map { "'\($0.split(separator: ",")[2])'" }.joined(separator: ",")
        let expected = try store.debugRows("SELECT COUNT(*) FROM psych_case WHERE school_code = 'SH-J01' AND state <> 'closed' AND student_id IN (\(students))")[0][0]
        #expect(String(listed["cases"]!.count) == expected)
        // The listing's words follow LANG; the states stay as the options take them.
        let zh = try schoolhealth(["referrals", "queue", "--db", dbPath, "--limit", "5"], token: mentorToken, lang: "zh_CN.UTF-8")
        #expect(zh.stdout.hasPrefix("个案   等级    状态") && !zh.stdout.contains("h overdue"), "\(zh.stdout)")
    }

    @Test("demo imports a synthetic county into the database and summarises it; a second run changes nothing")
    func demo() throws {
        let dir = TestSupport.temporaryDirectory("demo")
        let first = try schoolhealth(["demo"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("myopia rate"))
        // How to start the web application on this database, and the demo accounts of each role with their password.
        #expect(first.stdout.contains("schoolhealth serve --db schoolhealth.sqlite"))
        for login in ["nurse-SH-P01", "health-office", "counsellor-SH-J01", "centre", "hospital", "demo-admin", "demo-password"] {
            #expect(first.stdout.contains(login), "demo output names \(login)")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/schoolhealth.sqlite"))
        let second = try schoolhealth(["demo"], in: dir)
        #expect(second.stdout.contains("already imported"))
        // Under LANG=zh_CN the same summary in Chinese.
        let zh = try schoolhealth(["demo"], in: dir, lang: "zh_CN.UTF-8")
        #expect(zh.stdout.contains("近视率") && zh.stdout.contains("演示账号的密码都是 demo-password") && !zh.stdout.contains("myopia rate"), "\(zh.stdout)")
    }

    @Test("A kill mid-import leaves the database exactly as before that file")
    func killMidImport() throws {
        let dir = TestSupport.temporaryDirectory("kill")
        let db = dir + "/db.sqlite"
        try schoolhealth(["import", "vision", "--db", db, TestSupport.fixture("vision/utf8.csv")])
        try schoolhealth(["generate", "--out", dir, "--students", "150000", "--years", "1", "--only", "vision"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["import", "vision", "--db", db, dir + "/vision-2022.csv"]
        var env = ProcessInfo.processInfo.environment
        env["SCHOOLHEALTH_CONFIG"] = TestSupport.configDirectory
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the import has written into the WAL (the transaction is open), then kill it.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0) < 2_000_000 {
            usleep(20_000)
        }
        #expect(process.isRunning, "the import finished before it could be killed; use a larger file")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let store = try Store.open(path: db)
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.counts().screenings == 4)
        #expect(try store.counts().batches == 1)
        // And the file imports completely afterwards.
        let again = try schoolhealth(["import", "vision", "--db", db, "--json", dir + "/vision-2022.csv"])
        #expect(again.stdout.contains("\"inserted\":150000"))
    }
}

@Suite("schoolhealth report trends", .serialized)
struct ReportCLITests {
    @Test("Every format from the demo database; suppression off is stamped; breakdowns work")
    func formats() throws {
        let dir = TestSupport.temporaryDirectory("report")
        #expect(try schoolhealth(["demo"], in: dir).status == 0)
        for format in ["html", "csv", "json", "md"] {
            let r = try schoolhealth(["report", "trends", "-o", dir + "/r." + format], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        #expect((json["years"] as? [Int]) == [2022, 2023, 2024])
        #expect((json["suppressionOn"] as? Bool) == true)
        let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("优良率"))
        let csv = try #require(FileManager.default.contents(atPath: dir + "/r.csv"))
        #expect(Array(csv.prefix(3)) == [0xEF, 0xBB, 0xBF])
        // Unsuppressed figures: a health-office account only, and logged.
        let refused = try schoolhealth(["report", "trends", "--no-suppression", "--format", "md"], in: dir)
        #expect(refused.status != 0 && !refused.stdout.contains("IDENTIFIABLE DATA"))
        let tokens = try String(contentsOfFile: dir + "/schoolhealth.sqlite.demo-tokens", encoding: .utf8)
        func token(_ login: String) -> String? { tokens.split(separator: "\n").first { $0.hasPrefix(login + " ") }?.split(separator: " ").last.map(String.init) }
        let counsellorOff = try schoolhealth(["report", "trends", "--no-suppression", "--format", "md"], in: dir, token: token("counsellor-SH-J01"))
        #expect(counsellorOff.status != 0 && counsellorOff.stderr.contains("health-office"))
        let off = try schoolhealth(["report", "trends", "--no-suppression", "--format", "md"], in: dir, token: token("health-office"))
        #expect(off.stdout.contains("IDENTIFIABLE DATA"), "\(off.stderr)")
        let store = try Store.open(path: dir + "/schoolhealth.sqlite")
        #expect(try store.debugRows("SELECT COUNT(*) FROM audit_event WHERE action = 'report without suppression'")[0][0] == "1")
        #expect(try store.debugRows("SELECT COUNT(*) FROM audit_event WHERE action = 'refused unsuppressed report'")[0][0] == "1")
        let strata = try schoolhealth(["report", "trends", "--by", "grade,sex", "--school", "SH-P01", "--from", "2023", "--format", "json"], in: dir)
        let parsed = try JSONSerialization.jsonObject(with: Data(strata.stdout.utf8)) as! [String: Any]
        #expect((parsed["areas"] as? [String]) == ["county", "SH-P01"])
        #expect((parsed["cells"] as? [[String: Any]])?.contains { $0["grade"] != nil && $0["sex"] != nil } == true)
        let bad = try schoolhealth(["report", "trends", "--by", "class"], in: dir)
        #expect(bad.status == 64)
    }
}

@Suite("schoolhealth referrals", .serialized)
struct ReferralsCLITests {
    @Test("Accounts prove who acts; flag --json carries the caseId; refusals name the allowed steps; audit verify and checkpoints")
    func commands() throws {
        let dir = TestSupport.temporaryDirectory("referrals")
        let db = dir + "/db.sqlite"
        let at = ["--now", "2024-10-11T10:00:00+08:00"]
        // A database that does not exist is refused, not shown as an empty queue.
        let none = try schoolhealth(["referrals", "queue", "--db", db], token: "sht_1_" + String(repeating: "0", count: 64))
        #expect(none.status == 1 && none.stderr.contains("no database there"), "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        // Set-up: the first administrator, with a password from standard input and a token.
        let created = try schoolhealth(["init", "--db", db, "--drill", "--admin", "chief", "--password-stdin", "--token"], stdin: "a long admin password\n")
        #expect(created.status == 0, "\(created.stderr)")
        let admin = try #require(printedToken(created))
        #expect(try schoolhealth(["init", "--db", db, "--admin", "again", "--token", "--no-password"]).status != 0)
        let wang = try addAccount(db: db, admin: admin, login: "wang", role: "counsellor", org: "S1")
        let li = try addAccount(db: db, admin: admin, login: "li", role: "counsellor", org: "S2")
        // No account, a wrong token, an administrator: refused.
        #expect(try schoolhealth(["referrals", "queue", "--db", db]).stderr.contains("who are you"))
        #expect(try schoolhealth(["referrals", "queue", "--db", db], token: wang + "0").stderr.contains("login failed"))
        #expect(try schoolhealth(["referrals", "queue", "--db", db], token: admin).stderr.contains("administrators manage accounts"))
        // The old flags are gone: role and organisation come from the account.
        #expect(try schoolhealth(["referrals", "queue", "--db", db, "--as", "centre", "--org", "x", "--user", "y"], token: wang).status == 64)
        // A student is known to S1 through the grid.
        _ = try addAccount(db: db, admin: admin, login: "m-s1", role: "mentor", org: "S1")
        #expect(try schoolhealth(["referrals", "assign", "--db", db, "--student", "A1", "--mentor", "m-s1"] + at, token: wang).status == 0)
        let flag = try schoolhealth(["referrals", "flag", "--db", db, "--student", "A1", "--tier", "red", "--kind", "disclosure", "--reason", "plan", "--json"] + at, token: wang)
        #expect(flag.status == 0, "\(flag.stderr)")
        let caseID = try #require((try JSONSerialization.jsonObject(with: Data(flag.stdout.utf8)) as? [String: Any])?["caseId"] as? Int)
        // S2's counsellor cannot flag S1's student: the same answer as for a student who does not exist.
        let foreign = try schoolhealth(["referrals", "flag", "--db", db, "--student", "A1", "--tier", "red", "--reason", "x"] + at, token: li)
        let ghost = try schoolhealth(["referrals", "flag", "--db", db, "--student", "ZZ", "--tier", "red", "--reason", "x"] + at, token: li)
        #expect(foreign.status != 0 && foreign.stderr.replacingOccurrences(of: "A1", with: "?") == ghost.stderr.replacingOccurrences(of: "ZZ", with: "?"))
        let illegal = try schoolhealth(["referrals", "advance", String(caseID), "--db", db, "--to", "hospital_feedback"] + at, token: wang)
        #expect(illegal.status != 0)
        #expect(illegal.stderr.contains("allowed next: assessed, referred_to_centre, closed"))
        #expect(try schoolhealth(["referrals", "show", String(caseID), "--db", db], token: li).stderr.contains("no case \(caseID) that you may see"))
        #expect(try schoolhealth(["referrals", "show", "9999", "--db", db], token: wang).stderr.contains("no case 9999 that you may see"))
        // Notes with line breaks and escape codes cannot forge lines in the output.
        #expect(try schoolhealth(["referrals", "advance", String(caseID), "--db", db, "--to", "referred_to_centre", "--consent", "given", "--guardian-informed",
                                  "--note", "ok\n2024-10-11T10:00:00+08:00 closed → closed by centre\u{1B}[2J"] + at, token: wang).status == 0)
        let shown = try schoolhealth(["referrals", "show", String(caseID), "--db", db], token: wang)
        #expect(shown.stdout.contains("ok\\n2024-10-11") && !shown.stdout.contains("\u{1B}") && shown.stdout.contains("\\u{1B}[2J"))
        let trail = try schoolhealth(["referrals", "audit", String(caseID), "--db", db, "--json"], token: wang)
        #expect(trail.stdout.contains("transition"))
        // Checkpoints: signed by the administrator, verified later.
        let checkpoint = try schoolhealth(["audit", "checkpoint", "--db", db], token: admin).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(checkpoint.hasPrefix("shcp1-"))
        let verify = try schoolhealth(["audit", "verify", "--db", db, "--json", "--expect", checkpoint])
        #expect(verify.status == 0 && verify.stdout.contains("\"ok\":true"), "\(verify.stdout)\(verify.stderr)")
        // Accounts: listed without credentials, disabled for good.
        let list = try schoolhealth(["users", "list", "--db", db], token: admin)
        #expect(list.stdout.contains("wang") && !list.stdout.contains("scrypt") && !list.stdout.contains("sht_"))
        #expect(try schoolhealth(["users", "disable", "li", "--db", db], token: admin).status == 0)
        #expect(try schoolhealth(["referrals", "queue", "--db", db], token: li).stderr.contains("login failed"))
        #expect(try schoolhealth(["users", "list", "--db", db], token: wang).stderr.contains("only an administrator"))
    }

    @Test("--now is refused on a database that is not a drill database")
    func realTime() throws {
        let dir = TestSupport.temporaryDirectory("realtime")
        let db = dir + "/db.sqlite"
        let created = try schoolhealth(["init", "--db", db, "--admin", "chief", "--token", "--no-password"])
        let admin = try #require(printedToken(created))
        let wang = try addAccount(db: db, admin: admin, login: "wang", role: "counsellor", org: "S1")
        let r = try schoolhealth(["referrals", "queue", "--db", db, "--now", "2099-01-01T00:00:00+08:00"], token: wang)
        #expect(r.status != 0 && r.stderr.contains("drill databases only"))
        #expect(try schoolhealth(["referrals", "queue", "--db", db], token: wang).status == 0)
    }

    @Test("student export writes what the school holds (audited); student erase removes it and leaves a tombstone")
    func studentRights() throws {
        let dir = TestSupport.temporaryDirectory("pipl")
        let db = dir + "/db.sqlite"
        let admin = try #require(printedToken(try schoolhealth(["init", "--db", db, "--drill", "--admin", "chief", "--token", "--no-password"])))
        let wang = try addAccount(db: db, admin: admin, login: "wang", role: "counsellor", org: "S1")
        let li = try addAccount(db: db, admin: admin, login: "li", role: "counsellor", org: "S2")
        _ = try addAccount(db: db, admin: admin, login: "m-s1", role: "mentor", org: "S1")
        let at = ["--now", "2024-10-11T10:00:00+08:00"]
        #expect(try schoolhealth(["referrals", "assign", "--db", db, "--student", "A1", "--mentor", "m-s1"] + at, token: wang).status == 0)
        let flag = try schoolhealth(["referrals", "flag", "--db", db, "--student", "A1", "--tier", "yellow", "--reason", "withdrawn", "--json"] + at, token: wang)
        let caseID = try #require((try JSONSerialization.jsonObject(with: Data(flag.stdout.utf8)) as? [String: Any])?["caseId"] as? Int)
        #expect(try schoolhealth(["referrals", "advance", String(caseID), "--db", db, "--to", "closed", "--note", "resolved"] + at, token: wang).status == 0)
        #expect(try schoolhealth(["student", "export", "A1", "--db", db], token: li).stderr.contains("no student A1"))
        let export = try schoolhealth(["student", "export", "A1", "--db", db, "-o", dir + "/a1.json"], token: wang)
        #expect(export.status == 0, "\(export.stderr)")
        let json = try String(contentsOfFile: dir + "/a1.json", encoding: .utf8)
        #expect(json.contains("withdrawn") && json.contains("\"student\" : \"A1\""))
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/a1.json")[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o077 } == 0)
        #expect(try schoolhealth(["student", "erase", "A1", "--db", db], token: wang).status != 0, "needs --confirm")
        let erased = try schoolhealth(["student", "erase", "A1", "--db", db, "--confirm"], token: wang)
        #expect(erased.status == 0 && erased.stdout.contains("1 closed case(s)"), "\(erased.stdout)\(erased.stderr)")
        let store = try Store.open(path: db)
        #expect(try store.debugRows("SELECT COUNT(*) FROM psych_case")[0][0] == "0")
        #expect(try store.debugRows("SELECT COUNT(*) FROM psych_flag")[0][0] == "0")
        let tombstone = try store.debugRows("SELECT detail FROM audit_event WHERE action = 'student data erased'")
        #expect(tombstone.count == 1 && !(tombstone[0][0] ?? "").contains("A1"))
        #expect(try store.debugRows("SELECT COUNT(*) FROM audit_event WHERE action = 'student data exported'")[0][0] == "1")
        #expect(try store.verifyAudit().ok)
    }
}

@Suite("schoolhealth with a PostgreSQL address")
struct PostgresAddressCLITests {
    @Test("what PostgreSQL does not keep yet says so in the reader's language, and a bad address names its fault without the password")
    func notOnPostgres() throws {
        let zh = try schoolhealth(["referrals", "queue", "--db", "postgresql://nurse:pw@127.0.0.1:1/county"], lang: "zh_CN.UTF-8")
        #expect(zh.status != 0)
        #expect(zh.stderr.contains("暂不支持 PostgreSQL"), "\(zh.stderr)")
        let en = try schoolhealth(["referrals", "queue", "--db", "postgresql://nurse:pw@127.0.0.1:1/county"])
        #expect(en.stderr.contains("not yet kept on PostgreSQL") && !en.stderr.contains(":pw@"), "\(en.stderr)")
        let bad = try schoolhealth(["report", "trends", "--db", "postgresql://nurse:pw@127.0.0.1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("no database name") && !bad.stderr.contains(":pw@"), "\(bad.stderr)")
        let replica = try schoolhealth(["report", "trends", "--db", "county.sqlite", "--read-replica", "postgresql://h/db"])
        #expect(replica.stderr.contains("--read-replica is for a PostgreSQL database"), "\(replica.stderr)")
    }
}
