import Foundation
import Testing
@testable import HealthStore
@testable import HealthCore
import GRDB
import HealthTestSupport

/// Faults: each gives its own clear error, and the database is as before and passes integrity_check.
@Suite("Faults", .serialized)
struct FaultTests {
    func screening(_ i: Int) -> VisionScreening {
        VisionScreening(studentID: StudentID(String(format: "F%08d", i)), sex: .male, birthDate: nil, schoolCode: "S", grade: GradeCode(11)!, className: nil,
                        screeningDate: CivilDate(year: 2024, month: 9, day: 1)!, right: EyeFindings(ucva: Acuity(tenths: 50)),
                        left: EyeFindings(ucva: Acuity(tenths: 50)), glasses: .none)
    }
    let classification = VisionClassification(right: .init(), left: .init(), myopic: false, poorVision: .normal, grade: MyopiaGrade.none,
                                              complete: true, missing: [], ruleVersion: "t")

    func load(_ store: Store, rows: Int, sha: String, from: Int = 0) throws {
        _ = try store.importFile(BatchHeader(kind: .vision, fileName: sha, sha256: sha, fileBytes: 1, encoding: "UTF-8", profile: "p", ruleVersion: "t"), now: "now") { session in
            for i in from..<(from + rows) {
                _ = try session.write(vision: screening(i), classification: classification, schoolYear: 2024, line: i + 2)
            }
            return .commit
        }
    }

    @Test("A full disk mid-import: 'disk is full', the file rolled back, the database as before", arguments: [false, true])
    func diskFull(preloaded: Bool) throws {
        let path = TestSupport.temporaryDirectory("full") + "/db.sqlite"
        let store = try Store.open(path: path)
        if preloaded { try load(store, rows: 1_000, sha: "first") }
        let before = try store.counts()
        // Simulate a disk that fills up: a page limit just above the current size.
        let pages = try store.queue.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count")! }
        try store.queue.inDatabase { db in try db.execute(sql: "PRAGMA max_page_count = \(pages + 20)") }
        #expect {
            try load(store, rows: 50_000, sha: "second", from: 10_000)
        } throws: { error in
            (error as? StoreError) == .diskFull(path: path) && String(describing: error).contains("disk is full")
        }
        #expect(try store.counts() == before)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test("A read-only database: its own error, nothing changed")
    func readOnly() throws {
        let path = TestSupport.temporaryDirectory("ro") + "/db.sqlite"
        let store = try Store.open(path: path)
        try load(store, rows: 10, sha: "first")
        // As root, file permissions do not stop writes; SQLite's query_only does the same as a read-only file.
        try store.queue.inDatabase { db in try db.execute(sql: "PRAGMA query_only = ON") }
        #expect { try load(store, rows: 10, sha: "second", from: 100) } throws: { error in
            (error as? StoreError) == .readOnly(path: path) && String(describing: error).contains("read-only")
        }
        try store.queue.inDatabase { db in try db.execute(sql: "PRAGMA query_only = OFF") }
        #expect(try store.counts().screenings == 10)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test("A database locked by another program: 'busy', after the busy timeout")
    func locked() throws {
        let path = TestSupport.temporaryDirectory("locked") + "/db.sqlite"
        try load(try Store.open(path: path), rows: 10, sha: "first")
        // Another process holds the write lock.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        holder.arguments = [path]
        let input = Pipe()
        holder.standardInput = input
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nINSERT INTO import_batch (kind, file_name, file_sha256, file_bytes, encoding, profile, rule_version, imported_at) VALUES ('vision', 'x', 'x', 1, 'x', 'x', 'x', 'x');\n".utf8))
        Thread.sleep(forTimeInterval: 0.5)
        defer { try? input.fileHandleForWriting.close(); holder.waitUntilExit() }
        let store = try Store.open(path: path, busyTimeoutSeconds: 0.3)
        #expect { try load(store, rows: 10, sha: "second", from: 100) } throws: { error in
            (error as? StoreError) == .busy(path: path) && String(describing: error).contains("busy")
        }
        #expect(try store.counts().screenings == 10)
    }

    @Test("Distinct messages for each fault")
    func distinct() {
        let errors: [StoreError] = [.newerSchema(path: "p", unknownMigrations: ["v9"]), .notADatabase(path: "p", detail: "d"), .readOnly(path: "p"),
                                    .diskFull(path: "p"), .busy(path: "p")]
        #expect(Set(errors.map(\.description)).count == errors.count)
    }
}

@Suite("Faults at the command line", .serialized)
struct CommandFaultTests {
    @Test("A missing input file and a corrupted database each give their own one-line error and a non-zero exit")
    func missingAndCorrupt() throws {
        let dir = TestSupport.temporaryDirectory("cmdfault")
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("schoolhealth").path
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: bin)
            p.arguments = args
            var env = ProcessInfo.processInfo.environment
            env["SCHOOLHEALTH_CONFIG"] = TestSupport.configDirectory
            p.environment = env
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        guard FileManager.default.isExecutableFile(atPath: bin) else { return }
        let missing = try run(["import", "vision", "--db", dir + "/db.sqlite", dir + "/nope.csv"])
        #expect(missing.0 == 1 && missing.1.contains("nope.csv") && missing.1.contains("no such file"))
        try String(repeating: "garbage ", count: 1000).write(toFile: dir + "/bad.sqlite", atomically: true, encoding: .utf8)
        let corrupt = try run(["import", "vision", "--db", dir + "/bad.sqlite", TestSupport.fixture("vision/utf8.csv")])
        #expect(corrupt.0 != 0 && corrupt.1.contains("not a SchoolHealth database or the file is damaged"))
    }
}
