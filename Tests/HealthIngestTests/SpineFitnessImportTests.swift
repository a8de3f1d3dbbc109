import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthCore
import HealthTestSupport

@Suite("Spine import")
struct SpineImportTests {
    @Test("Each ATR band and each sagittal finding is classified; lateral and sagittal kept apart")
    func classification() throws {
        var h = try Harness()
        let report = try h.run("spine/spine.csv", kind: .spine)
        #expect(report.rejected == 0, "\(h.rejects)")
        #expect(report.inserted == 10)
        #expect(report.warnings.contains { $0.contains("UNCONFIRMED") })
        let rows = try h.rows("""
            SELECT student_id, max_atr_x10, band_thoracic, band_thoracolumbar, band_lumbar, lateral_finding, lateral_positive,
                   grade_roman, grade_confirmed, sagittal, sagittal_abnormal, abnormal, suggestion FROM spine_screening ORDER BY student_id
            """)
        let by = Dictionary(uniqueKeysWithValues: rows.map { ($0[0]!, Array($0.dropFirst())) })
        //                      maxATR bands      lat  pos  grade conf sag  sagAb abn  sugg
        #expect(by["S001"]! == ["10", "0", "0", "0", "0", "0", nil, "0", "0", "0", "0", "0"])   // normal
        #expect(by["S002"]! == ["30", "0", "0", "0", "1", "0", nil, "0", "0", "0", "1", "1"])   // side finding, ATR 3°: follow up
        #expect(by["S003"]! == ["60", "1", "0", "0", "1", "1", "1", "0", "0", "0", "1", "2"])   // 6°: band 1, Ⅰ, refer
        #expect(by["S004"]! == ["85", "0", "2", "0", "1", "1", "2", "0", "0", "0", "1", "2"])   // 8.5°: band 2, Ⅱ
        #expect(by["S005"]! == ["120", "0", "0", "3", "1", "1", "3", "0", "0", "0", "1", "2"])  // 12°: band 3, Ⅲ
        #expect(by["S006"]![8...10] == ["1", "1", "1"])   // lordosis persisting in the prone test
        #expect(by["S007"]![8...10] == ["2", "1", "1"])   // kyphosis persisting
        #expect(by["S008"]![8...10] == ["0", "0", "0"])   // disappeared lying prone: postural
        #expect(by["S009"]![8...10] == ["3", "1", "1"])   // flat back, no prone test
        #expect(by["S010"]![4...5] == ["1", "1"])        // only the form's "≥5°" text: positive without an angle
        #expect(try h.rows("SELECT grade_label FROM spine_screening_readable WHERE student_id = 'S004'")[0][0] == "Ⅱ (mapping unconfirmed)")
    }

    @Test("Bad spine values are rejected with their line and column")
    func badRows() throws {
        var h = try Harness()
        let report = try h.run("spine/bad-rows.csv", kind: .spine)
        #expect(report.rejected == 6)
        #expect(report.inserted == 0)
        let lines = Dictionary(grouping: h.rejects, by: \.line)
        #expect(lines[2]?.first?.column == "前屈试验胸段")
        #expect(lines[3]?.first?.reason.contains("scoliometer") == true)
        #expect(lines[4]?.first?.column == "前后弯曲一般检查")
        #expect(lines[5]?.first?.reason.contains("contradicts") == true)
        #expect(lines[6]?.first?.column == "一般检查")
        #expect(lines[7]?.first?.column == "俯卧试验")
    }
}

@Suite("Fitness import (national 2014 template)")
struct FitnessImportTests {
    @Test("GB18030 template with mixed run-time notations and an exempt student: zero rejects, scored")
    func nationalTemplate() throws {
        var h = try Harness()
        let report = try h.run("fitness/national-template-gb18030.csv", kind: .fitness, school: "SH-X01", schoolYear: 2024)
        #expect(report.encoding == "GB18030")
        #expect(report.rejected == 0, "\(h.rejects)")
        #expect(report.inserted == 8)
        #expect(report.warnings.contains { $0.contains("民族代码") && $0.contains("姓名") && $0.contains("家庭住址") })
        #expect(report.warnings.contains { $0.contains("1 exempt") })
        #expect(report.warnings.contains { $0.contains("1 student(s) miss an item") })
        let rows = try h.rows("SELECT student_id, status, total_x100, band, bonus, run_800m, run_1000m, shuttle_50x8 FROM fitness_test ORDER BY student_id")
        #expect(rows[0] == ["G99F00000000000001", "0", "9750", "0", "6", nil, nil, nil])
        #expect(rows[1][2] == "7540")
        #expect(rows[2][2] == "9320" && rows[2][7] == "101")      // 1′41″
        #expect(rows[3][2] == "9610" && rows[3][5] == "200")      // 3'20"
        #expect(rows[4][2] == "7310" && rows[4][6] == "270")      // 4.30
        #expect(rows[5][6] == "238")                               // 3’58”
        #expect(rows[6][1] == "2" && rows[6][2] == nil)           // 免体: exempt, not scored
        #expect(rows[7][1] == "1" && rows[7][2] == nil)           // no sit-ups in grade 3: incomplete
        // Provenance is recorded and shown: the 高一 boy's BMI band rested on a PARTIAL row; since the tables were
        // re-copied with 260 more junior and BMI rows confirmed, every score of this file rests on VERIFIED rows.
        let weak = try h.rows("SELECT provenance_name, weak_items FROM fitness_test_readable WHERE student_id = 'G99F00000000000005'")[0]
        #expect(weak[0] == "VERIFIED" && weak[1] == nil)
        #expect(try h.rows("SELECT COUNT(*) FROM fitness_test_readable WHERE provenance <> 0") == [["0"]])
    }

    @Test("The 22-column variant (split sit-up columns, 50米x8) imports the same way")
    func variant22() throws {
        var h = try Harness()
        let report = try h.run("fitness/template-22-columns.csv", kind: .fitness, school: "SH-X01", schoolYear: 2024)
        #expect(report.rejected == 0, "\(h.rejects)")
        #expect(try h.rows("SELECT total_x100 FROM fitness_test ORDER BY student_id").map { $0[0] } == ["9320", "9610"])
    }

    @Test("Bad fitness rows are rejected with their line, column and reason")
    func badRows() throws {
        var h = try Harness()
        let report = try h.run("fitness/bad-rows.csv", kind: .fitness, school: "SH-X01", schoolYear: 2024)
        #expect(report.rejected == 8)
        let lines = Dictionary(grouping: h.rejects, by: \.line)
        #expect(lines[2]?.first?.column == "50米跑" && lines[2]?.first?.reason.contains("decimal point") == true)
        #expect(lines[3]?.first?.reason.contains("75 seconds") == true)
        #expect(lines[4]?.first?.reason.contains("--five-four") == true)
        #expect(lines[5]?.first?.column == "身高")
        #expect(lines[6]?.first?.column == "体重")
        #expect(lines[7]?.first?.reason.contains("trailing zero dropped by Excel") == true)
        #expect(lines[8]?.first?.reason.contains("scientific notation") == true)
        #expect(lines[9]?.first?.reason.contains("whole number") == true)
    }

    @Test("五四制: with --five-four, grade 24 is scored as 初三 (23) and 21 as grade 6 (16)")
    func fiveFour() throws {
        let text = "年级编号,学籍号,性别,身高,体重\n24,A1,2,160.0,50.0\n21,A2,1,150.0,40.0\n"
        var h = try Harness()
        let report = try h.run("", kind: .fitness, school: "S", schoolYear: 2024, fiveFour: true, path: TestSupport.writeTemporary(text))
        #expect(report.rejected == 0, "\(h.rejects)")
        #expect(try h.rows("SELECT grade, scoring_grade FROM fitness_test ORDER BY student_id") == [["24", "23"], ["21", "16"]])
    }

    @Test("Scores in the file are kept, compared, and every disagreement is reported")
    func externalScores() throws {
        var h = try Harness()
        let report = try h.run("fitness/with-scores.csv", kind: .fitness, school: "S", schoolYear: 2024)
        #expect(report.rejected == 0)
        #expect(report.disagreements == 2)
        let notes = h.rejects.filter { $0.kind == .disagreement }
        #expect(notes.map(\.line).sorted() == [4, 5])
        #expect(notes.contains { $0.line == 4 && $0.column == "等级" && $0.value == "良好" && $0.reason.contains("优秀") })
        #expect(notes.contains { $0.line == 5 && $0.column == "学年总分" && $0.value == "75.0" && $0.reason.contains("73.1") })
        // Both kept.
        #expect(try h.rows("SELECT ext_total_x100, total_x100 FROM fitness_test WHERE student_id = 'G99F00000000000005'")[0] == ["7500", "7310"])
    }

    @Test("Without --school, students are placed by their known enrolment; a file with unknown students is refused, naming them")
    func attribution() throws {
        var h = try Harness()
        let vision = "student_id,sex,school_code,grade,screening_date,ucva_right,ucva_left\nG99F00000000000001,1,SH-P09,11,2024-09-10,5.0,5.0\n"
        _ = try h.run("", path: TestSupport.writeTemporary(vision))
        #expect {
            _ = try h.run("fitness/national-template-gb18030.csv", kind: .fitness, schoolYear: 2024)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("G99F00000000000002 (line 3)") && text.contains("--school") && text.contains("7 student(s)")
        }
        #expect(try h.count("fitness_test") == 0)
        let one = "年级编号,学籍号,性别,身高,体重,肺活量,50米跑,坐位体前屈,一分钟跳绳\n11,G99F00000000000001,1,120.0,22.0,1500,10.6,13.0,121\n"
        let report = try h.run("", kind: .fitness, schoolYear: 2024, path: TestSupport.writeTemporary(one))
        #expect(report.inserted == 1)
        #expect(try h.rows("SELECT school_code FROM fitness_test")[0][0] == "SH-P09")
    }

    @Test("Without --school-year or a date column the template is refused before any row is written")
    func needsSchoolYear() throws {
        var h = try Harness()
        #expect(throws: IngestError.self) { try h.run("fitness/national-template-gb18030.csv", kind: .fitness, school: "S") }
        #expect(try h.count("import_batch") == 0)
    }

    @Test("Re-importing the same template changes nothing; a corrected one updates and keeps a revision")
    func idempotentAndRevised() throws {
        var h = try Harness()
        _ = try h.run("fitness/template-22-columns.csv", kind: .fitness, school: "S", schoolYear: 2024)
        #expect(try h.run("fitness/template-22-columns.csv", kind: .fitness, school: "S", schoolYear: 2024).status == .alreadyImported)
        let corrected = try String(contentsOfFile: TestSupport.fixture("fitness/template-22-columns.csv"), encoding: .utf8)
            .replacingOccurrences(of: ",9.5,", with: ",9.1,")
        let report = try h.run("", kind: .fitness, school: "S", schoolYear: 2024, path: TestSupport.writeTemporary(corrected))
        #expect(report.updated == 1 && report.unchanged == 1)
        #expect(try h.count("revision") == 1)
    }
}
