import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthCore
import HealthTestSupport

/// An importer over a fresh in-memory (or file) database with the shipped configuration.
struct Harness {
    let store: Store
    let importer: FileImporter
    var rejects: [Rejection] = []

    init(path: String? = nil) throws {
        store = try path.map { try Store.open(path: $0) } ?? Store.inMemory()
        importer = FileImporter(store: store, config: try SchoolHealthConfig.load(directory: TestSupport.configDirectory))
    }

    mutating func run(_ fixture: String, kind: ScreeningKind = .vision, dryRun: Bool = false, strict: Bool = false, school: String? = nil,
                      profile: String? = nil, schoolYear: Int? = nil, fiveFour: Bool = false, screeningDate: String? = nil,
                      path: String? = nil) throws -> FileReport {
        var options = ImportOptions()
        options.screeningDate = try screeningDate.map { try CivilDate.parse($0).get() }
        options.dryRun = dryRun
        options.strict = strict
        options.school = school
        options.profile = profile
        options.schoolYear = schoolYear
        options.fiveFour = fiveFour
        options.today = CivilDate(year: 2026, month: 1, day: 1)!
        var collected: [Rejection] = []
        let report = try importer.importFile(path: path ?? TestSupport.fixture((kind == .vision ? "vision/" : "") + fixture), kind: kind, options: options) {
            collected.append($0)
        }
        rejects = collected
        return report
    }

    /// Imports the layouts' school list (Fixtures/layouts/schools.csv).
    func importSchools() throws -> (SchoolListReport, [Rejection]) {
        let list = RejectionList()
        let report = try SchoolListImporter(store: store, config: importer.config).importFile(path: TestSupport.fixture("layouts/schools.csv"), rejects: list)
        return (report, list.rejections)
    }

    func rows(_ sql: String) throws -> [[String?]] { try store.debugRows(sql) }
    func count(_ table: String = "vision_screening") throws -> Int { Int(try rows("SELECT COUNT(*) FROM \(table)")[0][0]!)! }
}

@Suite("Vision import")
struct ImportTests {
    @Test("Each encoding is detected and reported", arguments: [
        ("utf8.csv", TextEncoding.utf8), ("utf8-bom-crlf.csv", .utf8BOM), ("gb18030.csv", .gb18030), ("english-decimal.csv", .utf8),
    ])
    func encodings(fixture: String, encoding: TextEncoding) throws {
        var h = try Harness()
        let report = try h.run(fixture)
        #expect(report.encoding == encoding.rawValue)
        #expect(report.status == .imported)
        #expect(report.rowsRead == 4)
        #expect(report.inserted == 4)
        #expect(report.rejected == 0, "\(h.rejects)")
    }

    @Test("Chinese, GB18030 and English-decimal exports store the same values")
    func sameValues() throws {
        var results: [[[String?]]] = []
        for fixture in ["utf8.csv", "utf8-bom-crlf.csv", "gb18030.csv", "english-decimal.csv"] {
            var h = try Harness()
            _ = try h.run(fixture)
            results.append(try h.rows("""
                SELECT student_id, screening_date, sex, grade, ucva_r_x10, ucva_l_x10, sph_r_mdpt, cyl_r_mdpt, glasses, cva_r_x10,
                       myopic, poor_vision, myopia_grade, complete FROM vision_screening ORDER BY student_id
                """))
        }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
        #expect(results[0] == results[3])
        // Leading zeros and 19-character IDs kept; classification as DOMAIN.md §1.
        #expect(results[0][0][0] == "0012345678")
        #expect(results[0].map { $0[0]! }.contains("G990000000000000002"))
        let byID = Dictionary(uniqueKeysWithValues: results[0].map { ($0[0]!, $0) })
        #expect(byID["0012345678"]![10] == "0")               // normal: not myopic
        #expect(byID["G99000000000000001"]![10] == "1")       // 4.9 & −0.50: myopic
        #expect(byID["G99000000000000001"]![12] == "1")       // low
        #expect(byID["G990000000000000002"]![12] == "3")      // −6.50 SE left: high
        #expect(byID["G990000000000000003"]![10] == "1")      // ortho-k: myopic
        #expect(byID["G990000000000000003"]![12] == "9")      // not graded
    }

    @Test("Each batch records the rule version, the SHA-256 and the encoding")
    func batchRecords() throws {
        var h = try Harness()
        let report = try h.run("gb18030.csv")
        let batch = try h.rows("SELECT file_sha256, encoding, rule_version, rows_read, inserted FROM import_batch")[0]
        #expect(batch[0] == report.sha256)
        #expect(batch[1] == "GB18030")
        #expect(batch[2]?.hasPrefix("2025.2@") == true)
        #expect(batch[3] == "4" && batch[4] == "4")
        #expect(try h.rows("SELECT DISTINCT rule_version FROM vision_screening_readable")[0][0] == batch[2])
    }

    @Test("Quoted commas, quotes and multi-line fields; extra columns are named in a warning")
    func quoted() throws {
        var h = try Harness()
        let report = try h.run("quoted-multiline.csv")
        #expect(report.inserted == 4)
        #expect(report.warnings.contains { $0.contains("remarks") })
        #expect(try h.rows("SELECT class_name FROM vision_screening ORDER BY student_id").map { $0[0] } == ["1,2班", "say \"hi\"", "3", "4"])
        #expect(try h.rows("SELECT source_line FROM vision_screening ORDER BY student_id").map { $0[0] } == ["2", "4", "5", "8"])
    }

    @Test("Ragged and short rows are rejected with their physical line; blank rows are skipped and counted")
    func ragged() throws {
        var h = try Harness()
        let report = try h.run("ragged.csv")
        #expect(report.inserted == 2)
        #expect(report.rejected == 2)
        #expect(h.rejects.map(\.line) == [3, 5])
        #expect(h.rejects[0].reason.contains("8 fields but the header has 7"))
        #expect(h.rejects[1].reason.contains("5 fields"))
        #expect(report.warnings.contains { $0.contains("1 empty row(s)") })   // ",,,,,," — an empty line is not a row
    }

    @Test("Every kind of bad value is rejected with line, column, value and reason")
    func badValues() throws {
        var h = try Harness()
        let report = try h.run("bad-values.csv")
        #expect(report.inserted == 1)
        #expect(report.rejected == 12)
        let byLine = Dictionary(grouping: h.rejects, by: \.line)
        func check(_ line: Int, _ column: String, _ value: String, _ words: String) {
            let r = byLine[line]?.first
            #expect(r?.column == column, "line \(line)")
            #expect(r?.value == value, "line \(line)")
            #expect(r?.reason.contains(words) == true, "line \(line): \(r?.reason ?? "none")")
            #expect(r?.file.hasSuffix("bad-values.csv") == true)
        }
        check(2, "学籍号", "1.23457E+18", "scientific notation")
        check(3, "性别", "3", "sex code")
        check(4, "筛查日期", "2024-02-30", "real calendar date")
        check(5, "右眼裸眼视力", "0.9", "decimal chart")
        check(6, "左眼裸眼视力", "2.9", "outside both")
        check(7, "右眼球镜", "-31.00", "range")
        check(8, "左眼轴位", "200", "axis")
        check(9, "年级编号", "19", "grade code")
        check(10, "戴镜类型", "7", "glasses")
        check(11, "学籍号", "", "required")
        check(12, "出生日期", "2024-10-02", "age")
        check(13, "筛查日期", "2099-09-12", "future")
        #expect(try h.count() == 1)
    }

    @Test("A missing required column stops the import before any row is written, naming the aliases")
    func missingColumn() throws {
        var h = try Harness()
        #expect {
            _ = try h.run("missing-column.csv")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("screening_date") && text.contains("筛查日期") && text.contains("line 1")
        }
        #expect(try h.count() == 0)
        #expect(try h.count("import_batch") == 0)
    }

    @Test("Files that are not CSV text are refused with a message that says what to do", arguments: [
        ("empty.csv", "empty"), ("header-only.csv", "no data rows"), ("workbook.xlsx", "Save As"), ("utf16.csv", "UTF-16"),
        ("binary.csv", "binary"), ("unterminated-quote.csv", "line 3"),
    ])
    func refused(fixture: String, words: String) throws {
        var h = try Harness()
        #expect {
            _ = try h.run(fixture)
        } throws: { error in
            String(describing: error).contains(words) && String(describing: error).contains(fixture)
        }
        #expect(try h.count() == 0)
        #expect(try h.count("import_batch") == 0)
    }

    @Test("Importing the same file again changes nothing and says so")
    func idempotent() throws {
        var h = try Harness()
        let first = try h.run("utf8.csv")
        let second = try h.run("utf8.csv")
        #expect(first.status == .imported)
        #expect(second.status == .alreadyImported)
        #expect(second.batch == first.batch)
        #expect(second.inserted == 0)
        #expect(try h.count() == 4)
        #expect(try h.count("import_batch") == 1)
        // The same content under another encoding is another file, but its rows are unchanged.
        let third = try h.run("gb18030.csv")
        #expect(third.unchanged == 4)
        #expect(third.inserted == 0 && third.updated == 0)
    }

    @Test("A corrected export updates changed rows and keeps the previous values as a revision")
    func corrected() throws {
        var h = try Harness()
        _ = try h.run("utf8.csv")
        let report = try h.run("utf8-corrected.csv")
        #expect(report.updated == 1)
        #expect(report.unchanged == 3)
        #expect(report.inserted == 1)   // the same student screened on a second date keeps both
        #expect(try h.count() == 5)
        let revision = try h.rows("SELECT r.table_name, r.replaced_by_batch, r.previous_batch, json_extract(r.previous_values, '$.ucva_l_x10') FROM revision r")
        #expect(revision.count == 1)
        #expect(revision[0] == ["vision_screening", "2", "1", "48"])
        #expect(try h.rows("SELECT ucva_l_x10, batch_id FROM vision_screening WHERE student_id = 'G99000000000000001'")[0] == ["47", "2"])
        #expect(try h.count("vision_screening WHERE student_id = 'G990000000000000002'") == 2)
    }

    @Test("Repeated student and date within one file: first kept, later rejected (bulk load and incremental load)")
    func duplicatesInFile() throws {
        for preload in [false, true] {
            var h = try Harness()
            if preload { _ = try h.run("english-decimal.csv") }   // same rows: table not empty, index kept
            let report = try h.run("duplicates.csv")
            #expect(report.rejected == 2, "preload \(preload)")
            let lines = h.rejects.map(\.line).sorted()
            #expect(lines == [6, 7], "preload \(preload)")
            let six = h.rejects.first { $0.line == 6 }!, seven = h.rejects.first { $0.line == 7 }!
            #expect(six.reason.contains("repeats line 3 exactly"))
            #expect(seven.reason.contains("same student and screening date as line 4"))
            #expect(try h.count() == 4)
        }
    }

    @Test("A file over two years into a database holding one: that year is corrected in place, the new year bulk-loaded, repeats rejected in both")
    func twoYears() throws {
        var h = try Harness()
        _ = try h.run("utf8.csv")   // school year 2024, screened in calendar year 2024
        let header = try String(contentsOfFile: TestSupport.fixture("vision/utf8.csv"), encoding: .utf8).split(separator: "\n")[0]
        let rows = [
            "G99000000000000001,2,2013-05-20,SH-P01,14,1,2024-09-12,4.9,4.7,-0.50,0.00,,-1.00,-0.50,180,1,5.0,5.0",   // 2: corrects 2024
            "G99000000000000007,1,2014-01-02,SH-P01,13,1,2025-03-10,5.0,5.0,0.25,0.00,,0.25,0.00,,0,,",            // 3: new year
            "G99000000000000007,1,2014-01-02,SH-P01,13,1,2025-03-10,5.0,5.0,0.25,0.00,,0.25,0.00,,0,,",            // 4: repeats 3
            "G99000000000000001,2,2013-05-20,SH-P01,14,1,2024-09-12,4.9,4.6,-0.50,0.00,,-1.00,-0.50,180,1,5.0,5.0",   // 5: repeats 2's key
            "G99000000000000008,2,2014-02-03,SH-P01,13,1,2025-03-11,4.8,4.9,-0.25,0.00,,0.00,0.00,,0,,",           // 6: new year
            "G99000000000000008,2,2014-02-03,SH-P01,13,1,2025-03-11,4.7,4.9,-0.25,0.00,,0.00,0.00,,0,,",           // 7: 6's key, other values
        ]
        let path = TestSupport.temporaryDirectory("two-years") + "/vision.csv"
        try ([String(header)] + rows).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let report = try h.run("", path: path)
        #expect(report.updated == 1 && report.inserted == 2 && report.rejected == 3, "\(h.rejects)")
        #expect(h.rejects.map(\.line).sorted() == [4, 5, 7])
        #expect(h.rejects.first { $0.line == 4 }!.reason.contains("repeats line 3 exactly"))
        #expect(h.rejects.first { $0.line == 5 }!.reason.contains("same student and screening date as line 2"))
        #expect(h.rejects.first { $0.line == 7 }!.reason.contains("same student and screening date as line 6"))
        #expect(try h.count() == 6)
        #expect(try h.rows("SELECT ucva_l_x10 FROM vision_screening WHERE student_id = 'G99000000000000001'") == [["47"]])
        // The new year is a table of its own, loaded in bulk (repeats found when its index was built): ids from 2025 × 10⁹.
        #expect(try h.rows("SELECT student_id, id FROM vision_screening_2025 ORDER BY id")
                == [["G99000000000000007", "2025000000001"], ["G99000000000000008", "2025000000003"]])   // line 4 took 2, then left
        #expect(try h.count("vision_screening_2024") == 4)
        #expect(try h.rows("PRAGMA integrity_check") == [["ok"]])
    }

    @Test("A dry run reports exactly what the import does and writes nothing")
    func dryRun() throws {
        for fixture in ["bad-values.csv", "duplicates.csv", "utf8.csv"] {
            var h = try Harness()
            let dry = try h.run(fixture, dryRun: true)
            let dryRejects = h.rejects
            #expect(dry.status == .dryRun)
            #expect(try h.count() == 0)
            #expect(try h.count("import_batch") == 0)
            let real = try h.run(fixture)
            #expect(real.inserted == dry.inserted && real.rejected == dry.rejected && real.rowsRead == dry.rowsRead)
            #expect(h.rejects == dryRejects)
        }
    }

    @Test("--strict rejects the whole file if any row fails")
    func strict() throws {
        var h = try Harness()
        let report = try h.run("bad-values.csv", strict: true)
        #expect(report.status == .refused)
        #expect(report.error?.contains("--strict") == true)
        #expect(h.rejects.count == 13)   // 12 rows; the future-dated one also gives an implausible age
        #expect(try h.count() == 0)
        #expect(try h.count("import_batch") == 0)
        #expect(try h.run("utf8.csv", strict: true).status == .imported)
    }

    @Test("--school fills in the school for exports without a school column")
    func fixedSchool() throws {
        let text = "学号,性别,年级,筛查日期,右眼裸眼视力,左眼裸眼视力\n001,1,11,2024-09-02,5.0,4.9\n"
        var h = try Harness()
        #expect(throws: IngestError.self) { try h.run("", path: TestSupport.writeTemporary(text)) }
        let report = try h.run("", school: "SH-P03", path: TestSupport.writeTemporary(text))
        #expect(report.inserted == 1)
        #expect(try h.rows("SELECT school_code FROM vision_screening")[0][0] == "SH-P03")
    }

    @Test("Invalid GB18030 bytes reject the row that holds them, with its line")
    func invalidGB18030() throws {
        var bytes = Array("学号,性别,学校代码,年级,筛查日期,右眼裸眼视力,左眼裸眼视力,班级\n".data(using: .utf8)!)
        bytes = Array(String(decoding: bytes, as: UTF8.self).cString(using: .utf8)!.dropLast()).map { UInt8(bitPattern: $0) }
        let gbHeader = try #require(convertToGB18030("学号,性别,学校代码,年级,筛查日期,右眼裸眼视力,左眼裸眼视力,班级\n001,1,S,11,2024-09-02,5.0,5.0,一班\n"))
        let bad: [UInt8] = Array("002,1,S,11,2024-09-02,5.0,5.0,".utf8) + [0x81, 0x20] + Array("\n".utf8)
        let path = TestSupport.temporaryDirectory() + "/bad-gb.csv"
        FileManager.default.createFile(atPath: path, contents: Data(gbHeader + bad))
        var h = try Harness()
        let report = try h.run("", path: path)
        #expect(report.encoding == "GB18030")
        #expect(report.inserted == 1)
        #expect(h.rejects.map(\.line) == [3])
        #expect(h.rejects.first?.reason.contains("not valid text") == true)
    }

    @Test("A user profile that extends the shipped one adds aliases without recompiling")
    func userProfile() throws {
        let dir = TestSupport.temporaryDirectory("profile")
        let profile = dir + "/my-vendor.yaml"
        try "profile: my-vendor\nextends: vision\nfields:\n  ucva_right: { aliases: [R-VA] }\n  ucva_left: { aliases: [L-VA] }\n"
            .write(toFile: profile, atomically: true, encoding: .utf8)
        let config = try SchoolHealthConfig.load(directory: TestSupport.configDirectory, extraProfiles: [profile])
        let store = try Store.inMemory()
        let csv = TestSupport.writeTemporary("学籍号,性别,学校代码,年级编号,筛查日期,R-VA,L-VA\n001,1,S,11,2024-09-02,5.0,4.8\n")
        var options = ImportOptions()
        options.profile = "my-vendor"
        let report = try FileImporter(store: store, config: config).importFile(path: csv, kind: .vision, options: options) { _ in }
        #expect(report.inserted == 1)
        #expect(report.profile == "my-vendor")
    }

    @Test("A column that mixes notations is converted and named in a warning")
    func mixedNotation() throws {
        var h = try Harness()
        let report = try h.run("", path: TestSupport.writeTemporary(
            "student_id,sex,school_code,grade,screening_date,ucva_right,ucva_left\n1,1,S,11,2024-09-02,5.0,1.0\n2,1,S,11,2024-09-02,0.8,4.9\n"))
        #expect(report.inserted == 2)
        #expect(report.warnings.contains { $0.contains("ucva_right mixes 5-point (1 rows) and decimal (1 rows)") })
        #expect(try h.rows("SELECT ucva_r_x10, ucva_l_x10 FROM vision_screening ORDER BY student_id") == [["50", "50"], ["49", "49"]])
    }
}

func convertToGB18030(_ s: String) -> [UInt8]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
    process.arguments = ["-f", "UTF-8", "-t", "GB18030"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    guard (try? process.run()) != nil else { return nil }
    input.fileHandleForWriting.write(Data(s.utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}
