import Foundation
import Testing
import HealthStore
import HealthTestSupport

/// Starts the binary without waiting.
func launch(_ arguments: [String], token: String? = nil) throws -> (Process, Pipe, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["SCHOOLHEALTH_CONFIG"] = TestSupport.configDirectory
    env.removeValue(forKey: "SCHOOLHEALTH_TOKEN")
    if let token { env["SCHOOLHEALTH_TOKEN"] = token }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return (process, out, err)
}

func finish(_ p: (Process, Pipe, Pipe)) -> RunResult {
    let out = p.1.fileHandleForReading.readDataToEndOfFile(), err = p.2.fileHandleForReading.readDataToEndOfFile()
    p.0.waitUntilExit()
    return RunResult(status: p.0.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

@Suite("Concurrent use of one database", .serialized)
struct ConcurrencyTests {
    @Test("Four imports and a report at once: no 'database is locked', every row once, reports see whole files only")
    func fourImportsAndReports() throws {
        let dir = TestSupport.temporaryDirectory("concurrent")
        let db = dir + "/db.sqlite"
        try schoolhealth(["generate", "--out", dir, "--students", "20000", "--years", "4", "--only", "vision"])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".csv") }.sorted().map { dir + "/" + $0 }
        #expect(files.count == 4)
        // Create the database first so that the reporters have something to open.
        #expect(try schoolhealth(["import", "vision", "--db", db, TestSupport.fixture("vision/utf8.csv")]).status == 0)
        // Unsuppressed reports (to count true rows) need a health-office account.
        let admin = try #require(printedToken(try schoolhealth(["init", "--db", db, "--admin", "chief", "--token", "--no-password"])))
        let office = try addAccount(db: db, admin: admin, login: "office", role: "health-office", org: "bureau")
        let imports = try files.map { try launch(["import", "vision", "--db", db, "--json", "--rejects", $0 + ".rej", $0]) }
        // Meanwhile, reports: each must see a whole number of files (4 fixture rows + whole files), never a part of one.
        var reports: [RunResult] = []
        for _ in 0..<6 {
            reports.append(finish(try launch(["report", "trends", "--db", db, "--no-suppression", "--format", "json"], token: office)))
        }
        let results = imports.map(finish)
        for r in results + reports {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stderr.contains("locked"))
        }
        let inserted = try results.map { r -> Int in
            (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["inserted"] as! Int
        }
        let store = try Store.open(path: db)
        #expect(try store.counts().screenings == 4 + inserted.reduce(0, +))
        #expect(try store.debugRows("SELECT COUNT(*) FROM (SELECT student_id, screening_date FROM vision_screening GROUP BY 1, 2 HAVING COUNT(*) > 1)")[0][0] == "0")
        #expect(try store.integrityCheck() == "ok")
        // Whole files only: every total a report saw is 4 plus a sum of some of the files' row counts.
        var possible: Set<Int> = [4]
        for n in inserted { possible.formUnion(possible.map { $0 + n }) }
        for r in reports {
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let cells = json["cells"] as! [[String: Any]]
            let screened = cells.filter { ($0["measure"] as? String) == "myopia" && ($0["area"] as? String) == "county" && $0["grade"] == nil }
                .compactMap { $0["denominator"] as? Int }.reduce(0, +)
            let incomplete = try store.debugRows("SELECT COUNT(*) FROM vision_screening WHERE complete = 0")[0][0].flatMap { Int($0) } ?? 0
            #expect(incomplete == 0)
            #expect(possible.contains(screened), "a report saw \(screened) screenings")
        }
    }

    @Test("Six imports started together on a database that does not exist yet, four years and one new year from two processes: all succeed, five rounds")
    func newDatabaseRace() throws {
        let dir = TestSupport.temporaryDirectory("newdb")
        try schoolhealth(["generate", "--out", dir, "--students", "3000", "--years", "5", "--only", "vision"])
        var files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".csv") }.sorted().map { dir + "/" + $0 }
        #expect(files.count == 5)
        // The last year arrives as two files (alternate rows), imported by two processes at once.
        let last = files.removeLast()
        // Split as bytes: the generator writes some years in GB18030.
        let lines = try Data(contentsOf: URL(fileURLWithPath: last)).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for (i, name) in ["a", "b"].enumerated() {
            let half = [lines[0]] + lines.dropFirst().enumerated().filter { $0.offset % 2 == i }.map(\.element)
            try Data(half.joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")]).write(to: URL(fileURLWithPath: "\(dir)/new-year-\(name).csv"))
            files.append("\(dir)/new-year-\(name).csv")
        }
        for round in 1...5 {
            let db = "\(dir)/round-\(round).sqlite"
            #expect(!FileManager.default.fileExists(atPath: db))
            let running = try files.map { try launch(["import", "vision", "--db", db, "--json", "--rejects", "\(db).\((($0 as NSString).lastPathComponent)).rej", $0]) }
            let results = running.map(finish)
            for r in results {
                #expect(r.status == 0, "round \(round): \(r.stderr)")
                #expect(!r.stderr.contains("already exists") && !r.stderr.contains("DROP VIEW") && !r.stderr.contains("locked"), "round \(round): \(r.stderr)")
            }
            let inserted = results.compactMap { r in (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["inserted"] as? Int }
            #expect(inserted.count == files.count)
            let store = try Store.open(path: db)
            #expect(try store.counts().screenings == inserted.reduce(0, +))
            #expect(try store.counts().batches == files.count)
            #expect(try store.integrityCheck() == "ok")
            #expect(try store.appliedMigrations().count == 11)
        }
    }

    @Test("Two processes importing the same file at once: it is imported once")
    func sameFileTwice() throws {
        let dir = TestSupport.temporaryDirectory("samefile")
        let db = dir + "/db.sqlite"
        try schoolhealth(["generate", "--out", dir, "--students", "20000", "--years", "1", "--only", "vision"])
        #expect(try schoolhealth(["import", "vision", "--db", db, TestSupport.fixture("vision/utf8.csv")]).status == 0)
        let file = dir + "/vision-2022.csv"
        let a = try launch(["import", "vision", "--db", db, "--json", file]), b = try launch(["import", "vision", "--db", db, "--json", file])
        let results = [finish(a), finish(b)]
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        let statuses = try results.map { (try JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as! [String: Any])["status"] as! String }
        #expect(statuses.sorted() == ["already-imported", "imported"])
        #expect(try Store.open(path: db).counts().batches == 2)
    }
}
