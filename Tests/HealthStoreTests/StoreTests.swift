import Foundation
import Testing
@testable import HealthStore
@testable import HealthCore
import GRDB
import HealthTestSupport

@Suite("Store")
struct StoreTests {
    @Test("A new database is migrated and passes the integrity check")
    func migrated() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        let store = try Store.open(path: path)
        #expect(try store.appliedMigrations() == ["v1-batches-vision-revisions", "v2-spine-fitness"])
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.debugRows("PRAGMA journal_mode")[0][0] == "wal")
        // Opening again is a no-op.
        #expect(try Store.open(path: path).appliedMigrations().count == 2)
    }

    @Test("A database from a newer SchoolHealth is refused, naming what it does not know")
    func newerSchema() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        _ = try Store.open(path: path)
        let raw = try Store.open(path: path)
        try raw.queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')") }
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v9-from-the-future"])) { try Store.open(path: path) }
    }

    @Test("A file that is not a database gets its own clear error")
    func notADatabase() throws {
        let path = TestSupport.temporaryDirectory("store") + "/db.sqlite"
        try String(repeating: "this is not sqlite ", count: 400).write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Store.open(path: path)
            Issue.record("expected an error")
        } catch {
            guard case .notADatabase = error else { Issue.record("got \(error)"); return }
            #expect(error.description.contains("backup"))
        }
    }

    @Test("Writing one vision row, then the same again, then a changed one")
    func writeOutcomes() throws {
        let store = try Store.inMemory()
        let screening = VisionScreening(
            studentID: StudentID("001"), sex: .female, birthDate: nil, schoolCode: "S", grade: GradeCode(11)!, className: nil,
            screeningDate: CivilDate(year: 2024, month: 9, day: 1)!, right: EyeFindings(ucva: Acuity(tenths: 50)),
            left: EyeFindings(ucva: Acuity(tenths: 49)), glasses: .none)
        let c = VisionClassification(right: .init(), left: .init(), myopic: nil, poorVision: .mild, grade: nil, complete: false, missing: [], ruleVersion: "t")
        func batch(_ sha: String, _ s: VisionScreening) throws -> WriteOutcome {
            var outcome: WriteOutcome = .unchanged
            _ = try store.importFile(BatchHeader(kind: .vision, fileName: "f", sha256: sha, fileBytes: 1, encoding: "UTF-8", profile: "p", ruleVersion: "t"),
                                     now: "now") { session in
                outcome = try session.write(vision: s, classification: c, schoolYear: 2024, line: 2)
                return .commit
            }
            return outcome
        }
        #expect(try batch("a", screening) == .inserted)
        #expect(try batch("b", screening) == .unchanged)
        var changed = screening
        changed.left.ucva = Acuity(tenths: 48)
        #expect(try batch("c", changed) == .updated)
        #expect(try store.counts() == (screenings: 1, revisions: 1, batches: 3))
        #expect(try batch("a", changed) == .unchanged)   // same SHA: not read again
        #expect(try store.counts().batches == 3)
    }
}
