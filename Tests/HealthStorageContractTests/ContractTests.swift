import Foundation
import HealthCore
import HealthIngest
import HealthStorage
import HealthStore
import HealthStorePostgres
import HealthServices
import HealthSynthetic
import HealthAnalytics
import HealthTestSupport
import Testing

/// The storage contract: the same files give the same outcomes, the same stored corrections and byte-identical
/// trend reports on SQLite and on PostgreSQL. Each case runs on every available backend and compares them.
@Suite("Storage contract: SQLite and PostgreSQL give the same answers")
struct ContractTests {
    static let county = SyntheticCounty(seed: 16, students: 900, firstYear: 2023, years: 2)

    /// What one backend answered to the whole scenario.
    struct Answers: Equatable {
        var reports: [String] = []
        var rejections: [[String]] = []
        var revisions: [String: Int] = [:]
        var reportJSON = ""
        var reportByGradeSexJSON = ""
        var years: [Int] = []
    }

    static func options(_ schoolYear: Int? = nil) -> ImportOptions {
        var options = ImportOptions()
        options.today = CivilDate(year: 2026, month: 1, day: 1)!
        options.schoolYear = schoolYear
        return options
    }

    /// One import through the services (the path a nurse's upload and the CLI take), summarised.
    static func importing(_ world: ContractWorld, _ path: String, _ kind: ScreeningKind, schoolYear: Int? = nil) async throws -> (line: String, rejections: [[String]]) {
        let rejects = RejectionList()
        let r = try await world.services.imports.importFile(path: path, ImportRequest(kind: kind, options: options(schoolYear)), rejects: rejects)
        let line = "\((path as NSString).lastPathComponent) \(r.status) read \(r.rowsRead) inserted \(r.inserted) updated \(r.updated) unchanged \(r.unchanged) rejected \(r.rejected)"
        let rejections = rejects.rejections.map { [String($0.line), $0.column, $0.value, $0.reason] }.sorted { $0.lexicographicallyPrecedes($1) }
        return (line, rejections)
    }

    /// A corrected re-send of `original` (UTF-8, the national upload's columns): ten rows with another right-eye
    /// acuity, the rest as they were, one new student, an exact repeat, a repeat with other values, and a row whose
    /// date is not a date.
    static func corrected(_ original: String, rows: Int = 200) throws -> String {
        var lines = try String(contentsOfFile: original, encoding: .utf8).components(separatedBy: .newlines).filter { !$0.isEmpty }
        let header = lines.removeFirst()
        var kept = Array(lines.prefix(rows))
        var changed = 0
        for i in kept.indices where changed < 10 {
            var cells = kept[i].components(separatedBy: ",")
            guard cells.count > 7, !cells[7].isEmpty else { continue }
            cells[7] = cells[7] == "4.0" ? "4.1" : "4.0"
            kept[i] = cells.joined(separator: ",")
            changed += 1
        }
        var newStudent = kept[30].components(separatedBy: ",")
        newStudent[0] = "G990000000009999999"
        kept.append(newStudent.joined(separator: ","))
        kept.append(kept[40])
        var other = kept[41].components(separatedBy: ",")
        other[8] = other[8] == "4.2" ? "4.3" : "4.2"
        kept.append(other.joined(separator: ","))
        var badDate = kept[42].components(separatedBy: ",")
        badDate[0] = "G990000000009999998"
        badDate[6] = "2023-13-45"
        kept.append(badDate.joined(separator: ","))
        let path = (original as NSString).deletingLastPathComponent + "/corrected-" + (original as NSString).lastPathComponent
        try ([header] + kept).joined(separator: "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The whole scenario on one backend.
    static func answers(_ backend: Backend) async throws -> Answers {
        let world = try ContractWorld(backend)
        let files = world.dir + "/files"
        let vision = try county.writeVision(to: files).sorted { $0.schoolYear < $1.schoolYear }
        let spine = try county.writeSpine(to: files).sorted { $0.schoolYear < $1.schoolYear }
        let fitness = try county.writeFitness(to: files).sorted { $0.schoolYear < $1.schoolYear }
        var a = Answers()
        func record(_ result: (line: String, rejections: [[String]])) {
            a.reports.append(result.line)
            a.rejections += result.rejections
        }
        for f in vision { record(try await importing(world, f.path, .vision)) }
        for f in spine { record(try await importing(world, f.path, .spine)) }
        for f in fitness { record(try await importing(world, f.path, .fitness, schoolYear: f.schoolYear)) }
        // The same file again changes nothing; a corrected re-send updates, keeps, adds and rejects row by row.
        record(try await importing(world, vision[0].path, .vision))
        let utf8 = try #require(vision.first { $0.encoding.hasPrefix("UTF-8") && $0.schoolYear == 2023 })
        record(try await importing(world, try corrected(utf8.path), .vision))
        a.revisions = try world.revisionCounts()
        a.years = try world.storage.reportYears()
        let report = try await world.services.reports.trends(TrendRequest(language: .zh))
        a.reportJSON = try world.services.reports.render(report, .json, language: .zh).text
        let bySex = try await world.services.reports.trends(TrendRequest(breakdown: .gradeSex, language: .en))
        a.reportByGradeSexJSON = try world.services.reports.render(bySex, .json).text
        return a
    }

    @Test("imports (inserted, updated, unchanged, rejected; revisions) and the trend report's JSON are the same on every backend")
    func sameAnswers() async throws {
        let sqlite = try await Self.answers(.sqlite)
        // What the scenario must give, whichever backend: the corrected re-send's row-by-row outcome.
        let last = try #require(sqlite.reports.last)
        #expect(last == "corrected-vision-2023.csv imported read 204 inserted 1 updated 10 unchanged 190 rejected 3")
        #expect(sqlite.rejections.contains { $0[0] == "203" && $0[3].hasPrefix("repeats line 42 exactly") })
        #expect(sqlite.rejections.contains { $0[0] == "204" && $0[3].contains("different values") })
        #expect(sqlite.reports[sqlite.reports.count - 2].contains("alreadyImported"))
        #expect(sqlite.revisions["vision_screening"] == 10)
        #expect(sqlite.reportJSON.count > 10_000)
        guard Backend.available.contains(.postgres) else { return }
        let postgres = try await Self.answers(.postgres)
        #expect(postgres.reports == sqlite.reports)
        #expect(postgres.rejections == sqlite.rejections)
        #expect(postgres.revisions == sqlite.revisions)
        #expect(postgres.years == sqlite.years)
        #expect(postgres.reportJSON == sqlite.reportJSON, "the trend report's JSON is byte-identical")
        #expect(postgres.reportByGradeSexJSON == sqlite.reportByGradeSexJSON)
    }

    @Test("a file that repeats a student's screening, into an empty year (the bulk path of both), gives the same rejections")
    func repeatsInAnEmptyYear() async throws {
        var answers: [Backend: (String, [[String]])] = [:]
        for backend in Backend.available {
            let world = try ContractWorld(backend)
            let vision = try Self.county.writeVision(to: world.dir + "/files")
            let utf8 = try #require(vision.first { $0.encoding.hasPrefix("UTF-8") && $0.schoolYear == 2023 })
            answers[backend] = try await Self.importing(world, try Self.corrected(utf8.path), .vision)
        }
        let sqlite = try #require(answers[.sqlite])
        #expect(sqlite.0 == "corrected-vision-2023.csv imported read 204 inserted 201 updated 0 unchanged 0 rejected 3")
        if let postgres = answers[.postgres] {
            #expect(postgres.0 == sqlite.0)
            #expect(postgres.1 == sqlite.1)
        }
    }

    @Test("CI runs the contract on PostgreSQL too (Tests/run starts the server)")
    func ciHasPostgres() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(Backend.postgresServer != nil, "SCHOOLHEALTH_TEST_POSTGRES is not set: run the tests with Tests/run")
        }
    }

    @Test("a file refused part-way (--strict with a rejected row) leaves nothing, on every backend", arguments: Backend.available)
    func refusedLeavesNothing(_ backend: Backend) async throws {
        let world = try ContractWorld(backend)
        let vision = try Self.county.writeVision(to: world.dir + "/files").sorted { $0.schoolYear < $1.schoolYear }
        let utf8 = try #require(vision.first { $0.encoding.hasPrefix("UTF-8") })
        var options = Self.options()
        options.strict = true
        let r = try await world.services.imports.importFile(path: try Self.corrected(utf8.path), ImportRequest(kind: .vision, options: options), rejects: RejectionList())
        #expect(r.status == .refused)
        #expect(try world.storage.reportYears().isEmpty)
        // No batch was kept: the file's digest is not recorded, and no year has screenings.
        if let sqlite = world.sqlite {
            #expect(try sqlite.debugRows("SELECT count(*) FROM import_batch") == [["0"]])
        } else {
            #expect(try world.storage.changeStamp() == [0, 0])
        }
        // And the file can then be imported: the refused batch left no trace of its digest.
        let again = try await world.services.imports.importFile(path: utf8.path, ImportRequest(kind: .vision, options: Self.options()), rejects: RejectionList())
        #expect(again.status == .imported)
    }
}

@Suite("PostgreSQL backend", .enabled(if: Backend.postgresServer != nil, "SCHOOLHEALTH_TEST_POSTGRES names no server"))
struct PostgresBackendTests {
    @Test("the frozen schema's screening columns are ScreeningTable's, in order (the writer and the merge name them)")
    func frozenColumns() throws {
        let world = try ContractWorld(.postgres)
        let store = try #require(world.postgres)
        for table in ScreeningTable.byYear {
            #expect(try store.columns(of: table.name) == ["id"] + table.storedColumns, "\(table.name)")
        }
    }

    @Test("a database with a schema step this version does not know is refused, unchanged")
    func newerSchema() throws {
        let world = try ContractWorld(.postgres)
        let store = try #require(world.postgres)
        try store.debugExecute("INSERT INTO schema_migration (id) VALUES ('v99-from-the-future')")
        #expect(throws: StoreError.newerSchema(path: store.address.shown, unknownMigrations: ["v99-from-the-future"])) {
            try PostgresStore.open(store.address)
        }
    }

    @Test("psychological screenings are refused on PostgreSQL (referrals are not kept there yet), and nothing is written")
    func psychRefused() async throws {
        let world = try ContractWorld(.postgres)
        let psych = try ContractTests.county.writePsych(to: world.dir + "/files")
        let file = try #require(psych.first)
        await #expect(throws: ServiceError.self) {
            _ = try await world.services.imports.importFile(path: file.path, ImportRequest(kind: .psych, options: ContractTests.options()), rejects: RejectionList())
        }
        #expect(try world.storage.changeStamp() == [0, 0])
    }

    @Test("eight importers at once, each its own school's file, all commit; the report counts every row")
    func concurrentImporters() async throws {
        let world = try ContractWorld(.postgres)
        let county = SyntheticCounty(seed: 8, students: 2_400, firstYear: 2024, years: 1)
        let file = try #require(try county.writeVision(to: world.dir + "/files").first)
        // One file per school, as schools upload.
        let text = try String(contentsOfFile: file.path, encoding: file.encoding.hasPrefix("GB") ? String.Encoding(rawValue: 0x80000632) : .utf8)
        var lines = text.components(separatedBy: .newlines).filter { !$0.isEmpty }
        let header = lines.removeFirst()
        let schoolColumn = try #require(header.components(separatedBy: ",").firstIndex { $0 == "学校代码" || $0 == "school_code" })
        let bySchool = Dictionary(grouping: lines) { $0.components(separatedBy: ",")[schoolColumn] }
        var paths: [String] = []
        for (school, rows) in bySchool.sorted(by: { $0.key < $1.key }).prefix(8) {
            let path = world.dir + "/files/upload-\(school).csv"
            try ([header] + rows).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        #expect(paths.count == 8)
        let expected = paths.reduce(0) { $0 + bySchool[(($1 as NSString).lastPathComponent.dropFirst(7).dropLast(4)).description]!.count }
        let services = world.services
        let reports = try await withThrowingTaskGroup(of: FileReport.self) { group in
            for path in paths {
                group.addTask { try await services.imports.importFile(path: path, ImportRequest(kind: .vision, options: ContractTests.options()), rejects: RejectionList()) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.allSatisfy { $0.status == .imported })
        #expect(reports.reduce(0) { $0 + $1.inserted + $1.rejected } == expected)
        let inserted = reports.reduce(0) { $0 + $1.inserted }
        let screened = try world.storage.reportData(fromYear: 0, toYear: 9999, latest: false).strata
            .filter { $0.measure == "myopia" }.reduce(0) { $0 + $1.denominator }
        #expect(screened <= inserted && screened > inserted * 9 / 10, "complete screenings counted: \(screened) of \(inserted)")
        #expect(try world.storage.changeStamp()[1] == 8)
    }
}

@Suite("PostgreSQL addresses")
struct PostgresAddressTests {
    @Test("an address is read into its parts; the password is never shown")
    func parts() throws {
        let a = try PostgresAddress(parsing: "postgresql://nurse:s3cret@10.0.0.5:6543/county")
        #expect(a == PostgresAddress(user: "nurse", password: "s3cret", host: "10.0.0.5", port: 6543, database: "county"))
        #expect(a.shown == "postgresql://nurse@10.0.0.5:6543/county")
        #expect(try PostgresAddress(parsing: "postgres://db.example/city").port == 5432)
    }

    @Test("an address SchoolHealth cannot use is refused with the reason, the password masked")
    func refused() {
        for (text, reason) in [("postgresql://h", "no database name"), ("postgresql://u:pw@h/db?sslmode=require", "sslmode=require is not supported")] {
            do {
                _ = try PostgresAddress(parsing: text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.description.contains(reason), "\(error)")
                #expect(!error.description.contains(":pw@"))
            }
        }
        #expect(!PostgresAddress.isAddress("county.sqlite"))
    }
}
