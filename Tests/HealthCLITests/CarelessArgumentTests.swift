import Foundation
import Testing
import HealthStore
import HealthTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Nothing is lost by a careless argument: an output naming the database or an input, an unwritable rejects
/// file, a database that does not exist, a pipe, a folder.
@Suite("Careless arguments", .serialized)
struct CarelessArgumentTests {
    /// A database with one imported file, and the fixture's SHA-256 and the database's counts to compare later.
    func setUp() throws -> (dir: String, db: String, input: String, counts: (Int, Int, Int)) {
        let dir = TestSupport.temporaryDirectory("careless")
        let db = dir + "/db.sqlite"
        let input = dir + "/bad-values.csv"
        try FileManager.default.copyItem(atPath: TestSupport.fixture("vision/bad-values.csv"), toPath: input)
        #expect(try schoolhealth(["import", "vision", "--db", db, TestSupport.fixture("vision/utf8.csv")]).status == 0)
        let c = try Store.open(path: db).counts()
        return (dir, db, input, (c.screenings, c.revisions, c.batches))
    }

    func intact(_ db: String, _ counts: (Int, Int, Int)) throws {
        let store = try Store.open(path: db)
        #expect(try store.integrityCheck() == "ok")
        let c = try store.counts()
        #expect((c.screenings, c.revisions, c.batches) == counts)
    }

    @Test("--rejects naming the database, its -wal or -shm, or the input is refused; both stay intact", arguments: ["", "-wal", "-shm", "input"])
    func rejectsOverDatabase(suffix: String) throws {
        let (_, db, input, counts) = try setUp()
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let target = suffix == "input" ? input : db + suffix
        let r = try schoolhealth(["import", "vision", "--db", db, "--rejects", target, input])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("would be overwritten"))
        try intact(db, counts)
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }

    @Test("report -o naming the database is refused and the database stays intact")
    func reportOverDatabase() throws {
        let (dir, db, _, counts) = try setUp()
        let r = try schoolhealth(["report", "trends", "--db", db, "-o", "db.sqlite"], in: dir)
        #expect(r.status == 64 && r.stderr.contains("names the database"), "\(r.stderr)")
        try intact(db, counts)
    }

    @Test("A rejects file that cannot be written stops the import before anything is stored", arguments: ["/nonexistent-folder/r.csv", "/dev/full"])
    func unwritableRejects(path: String) throws {
        let (_, db, input, counts) = try setUp()
        let r = try schoolhealth(["import", "vision", "--db", db, "--rejects", path, input])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot write this output file") && r.stderr.contains("nothing was imported"), "\(r.stderr)")
        try intact(db, counts)
    }

    @Test("A pipe (/dev/stdin) is read once into a copy and imported; a named pipe without a writer does not hang; a folder has its own message")
    func pipesAndFolders() throws {
        let dir = TestSupport.temporaryDirectory("pipes")
        let db = dir + "/db.sqlite"
        // cat FILE | schoolhealth import vision /dev/stdin
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["import", "vision", "--db", db, "--json", "/dev/stdin"]
        var env = ProcessInfo.processInfo.environment
        env["SCHOOLHEALTH_CONFIG"] = TestSupport.configDirectory
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        let feed = Pipe()
        process.standardInput = feed
        try process.run()
        try feed.fileHandleForWriting.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("vision/utf8.csv"))))
        try feed.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: stdout, as: UTF8.self).contains("\"inserted\":4"))

        let fifo = dir + "/named.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        let start = Date()
        let r = try schoolhealth(["import", "vision", "--db", db, fifo])
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(r.status == 1 && r.stderr.contains("empty"), "\(r.stderr)")

        let folder = try schoolhealth(["import", "vision", "--db", db, dir])
        #expect(folder.status == 1 && folder.stderr.contains("is a folder, not a file"), "\(folder.stderr)")
    }
}
