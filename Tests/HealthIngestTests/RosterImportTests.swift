import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthCore
import HealthTestSupport

@Suite("Student lists (学籍名单)")
struct RosterImportTests {
    let config: SchoolHealthConfig
    init() throws { config = try SchoolHealthConfig.load(directory: TestSupport.configDirectory) }

    func run(_ store: Store, _ path: String, year: Int? = 2024, school: String? = "SH-P01", dryRun: Bool = false) throws -> (FileReport, [Rejection]) {
        var options = ImportOptions()
        options.schoolYear = year
        options.school = school
        options.dryRun = dryRun
        let rejects = RejectionList()
        let report = try RosterImporter(store: store, config: config).importFile(path: path, options: options, rejects: rejects)
        return (report, rejects.rejections)
    }

    @Test("The national template's base columns: students stored by 学籍号, names and addresses never; each bad row rejected with its reason")
    func nationalTemplate() throws {
        let dir = TestSupport.temporaryDirectory("roster")
        let store = try Store.open(path: dir + "/db.sqlite")
        let (report, rejects) = try run(store, TestSupport.fixture("roster/national-template.csv"))
        #expect(report.status == .imported && report.rowsRead == 8 && report.inserted == 4 && report.rejected == 4, "\(report) \(rejects)")
        #expect(Set(rejects.map(\.line)) == [6, 7, 8, 9])
        #expect(rejects.first { $0.line == 6 }?.column == "性别")
        #expect(rejects.first { $0.line == 7 }?.column == "年级编号")
        #expect(rejects.first { $0.line == 8 }?.reason == "repeats the student of line 5; that line was kept")
        #expect(rejects.first { $0.line == 9 }?.reason.contains("scientific notation") == true)
        #expect(report.warnings.contains { $0.contains("姓名") && $0.contains("家庭住址") && $0.contains("not stored") }, "\(report.warnings)")
        let list = try store.roster(school: "SH-P01", schoolYear: 2024)
        #expect(list.map(\.studentID) == ["G2018010100000001", "G2018020200000002", "G2018030300000003", "G2016040400000004"])
        #expect(list[0] == RosterEntry(schoolYear: 2024, studentID: "G2018010100000001", school: "SH-P01", grade: 11, classCode: "1101",
                                       className: "一年级1班", sex: 1, birthDate: "2018-01-01"))
        // Nobody holding the database file reads a name or an address from it.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/db.sqlite"))
        bytes += (try? Data(contentsOf: URL(fileURLWithPath: dir + "/db.sqlite-wal"))) ?? Data()
        for secret in ["合成甲", "合成路1号"] { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is in the database file") }
        // The same file again changes nothing.
        let (again, _) = try run(store, TestSupport.fixture("roster/national-template.csv"))
        #expect(again.status == .alreadyImported && again.inserted == 0 && again.batch == report.batch)
    }

    @Test("A student on another school's list for the year moves (one record by 学籍号); the school year is required; a dry run writes nothing")
    func movesAndOptions() throws {
        let store = try Store.inMemory()
        _ = try run(store, TestSupport.fixture("roster/national-template.csv"))
        let other = TestSupport.temporaryDirectory("roster") + "/p02.csv"
        try "学籍号,性别,出生日期,年级编号,班级名称\nG2018010100000001,1,2018-01-01,11,一年级3班\nG2018090900000009,2,2018-09-09,11,一年级3班\n"
            .write(toFile: other, atomically: true, encoding: .utf8)
        let (dry, _) = try run(store, other, school: "SH-P02", dryRun: true)
        #expect(try dry.status == .dryRun && store.roster(school: "SH-P02", schoolYear: 2024).isEmpty)
        let (moved, _) = try run(store, other, school: "SH-P02")
        #expect(moved.inserted == 1 && moved.updated == 1 && moved.warnings.contains { $0.contains("1 student(s) were on another school's list") })
        #expect(try store.roster(school: "SH-P01", schoolYear: 2024).count == 3)
        #expect(try store.roster(school: "SH-P02", schoolYear: 2024).map(\.studentID) == ["G2018010100000001", "G2018090900000009"])
        // The same file given for another year is still the same file: nothing changes.
        let (next, _) = try run(store, other, year: 2025, school: "SH-P02")
        #expect(next.status == .alreadyImported)
        #expect(throws: IngestError.self) { try run(store, other, year: nil) }
        #expect(throws: IngestError.self) { try run(store, TestSupport.fixture("roster/national-template.csv"), school: nil) }
    }
}
