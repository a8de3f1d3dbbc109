import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthCore
import HealthTestSupport

/// Files in the exact layouts public screening systems write (Fixtures/layouts/, made by
/// Tests/Scripts/make-layout-fixtures.py; synthetic students), each read value by value.
@Suite("Layouts real systems write")
struct LayoutTests {
    /// The vision row of a student: glasses, orthok, UCVA r/l, sphere r/l, cylinder r, axis r/l, corrected r/l, myopic, poor vision, complete.
    func vision(_ h: Harness, _ student: String) throws -> [String?] {
        try h.rows("""
            SELECT glasses, orthok, ucva_r_x10, ucva_l_x10, sph_r_mdpt, sph_l_mdpt, cyl_r_mdpt, axis_r, axis_l, cva_r_x10, cva_l_x10,
                   myopic, poor_vision, complete, class_code, class_name, school_code, screening_date
            FROM vision_screening WHERE student_id = '\(student)'
            """).first ?? []
    }

    @Test("National upload with vision (2022): right eye first, 9.0 is below the chart, 是/否 OK lens is its own field, an unscreened student is listed")
    func national2022() throws {
        var h = try Harness()
        let report = try h.run("layouts/national-2022-vision.csv", school: "SH-S01", screeningDate: "2024-09-20", path: TestSupport.fixture("layouts/national-2022-vision.csv"))
        #expect(report.profile == "vision-national-2022")
        #expect(report.inserted == 4 && report.rejected == 1)
        #expect(report.layout?.headerLines == [1] && report.layout?.titleLines == [])
        // 4.8/4.6, -1.25/-0.50×180: screening myopia; 否 is not "no glasses": glasses not recorded, orthok 0.
        #expect(try vision(h, "G99000000000000001") == ["9", "0", "48", "46", "-1250", "-1000", "-500", "180", nil, nil, nil, "1", "2", "1", "01", "01班", "SH-S01", "2024-09-20"])
        // 9.0 = below 3.0: stored as <3.0 (29), banded severe.
        #expect(try vision(h, "G99000000000000002")[2] == "29")
        #expect(try vision(h, "G99000000000000002")[12] == "3")
        #expect(try h.rows("SELECT ucva_r FROM vision_screening_readable WHERE student_id = 'G99000000000000002'") == [["<3.0"]])
        // 是: an ortho-k wearer, blank UCVA accepted, myopic (WS/T 663).
        #expect(try vision(h, "G99000000000000003")[0...2] == ["9", "1", nil])
        #expect(try vision(h, "G99000000000000003")[11] == "1")
        // Everything blank: not screened, listed, not stored.
        #expect(h.rejects.map(\.line) == [5] && h.rejects[0].reason.contains("not screened"))
        #expect(try vision(h, "G99000000000000004").isEmpty)
    }

    @Test("The 2021 fitness upload with vision: left eye first, 左屈光轴位A, 0 below the chart, fitness columns ignored; GB18030")
    func national2021() throws {
        var h = try Harness()
        let report = try h.run("", school: "SH-J01", screeningDate: "2021-10-10", path: TestSupport.fixture("layouts/national-2021-fitness-vision.csv"))
        #expect(report.profile == "vision-national-2021" && report.encoding == "GB18030")
        #expect(report.inserted == 2 && report.rejected == 0, "\(h.rejects)")
        #expect(try vision(h, "G99000000000000011")[2...8] == ["50", "49", "-250", "-750", "0", "0", "175"])
        // Left eye 0 → below the chart; right 4.3.
        #expect(try vision(h, "G99000000000000012")[2...3] == ["43", "29"])
        #expect(report.warnings.contains { $0.contains("身高") && $0.contains("1000米跑") })
    }

    @Test("Shanghai: three head rows with merged labels, left eye first, 9 and -- not measured, OK lens coded 0/9")
    func shanghai() throws {
        var h = try Harness()
        let report = try h.run("", school: "SH-P01", screeningDate: "2024-09-21", path: TestSupport.fixture("layouts/shanghai-3row.csv"))
        #expect(report.profile == "vision-shanghai")
        #expect(report.layout?.headerLines == [1, 2, 3])
        #expect(report.layout?.columns[10].header == "视力/左眼" && report.layout?.columns[10].field == "ucva_left")
        #expect(report.inserted == 3 && report.rejected == 0, "\(h.rejects)")
        // 视力/左眼 4.7, 视力/右眼 4.9; 轴位A/右眼 "--" → not measured.
        #expect(try vision(h, "SH000021")[0...8] == ["9", "0", "49", "47", "-750", "-1500", "+0".isEmpty ? nil : "0", nil, "180"])
        // All 9: not measured, stored as an incomplete screening, never a reject.
        #expect(try vision(h, "SH000022")[2...3] == [nil, nil])
        #expect(try vision(h, "SH000022")[13] == "0")
        // OK lens code 0: a wearer.
        #expect(try vision(h, "SH000023")[1] == "1")
        #expect(report.warnings.contains { $0.contains("marked as not measured (9, --)") || $0.contains("marked as not measured (--, 9)") })
        // 身份证号 and 姓名 are never stored.
        #expect(report.warnings.contains { $0.contains("身份证号") && $0.contains("姓名") })
    }

    @Test("Changsha: title row, three head rows; the non-cycloplegic block is read, 散瞳后 not; schools by name")
    func changsha() throws {
        var h = try Harness()
        let (schools, schoolRejects) = try h.importSchools()
        #expect(schools.inserted == 3 && schools.rejected == 3 && schoolRejects.map(\.line) == [5, 6, 7])
        let report = try h.run("", path: TestSupport.fixture("layouts/changsha-archive.csv"))
        #expect(report.profile == "vision-changsha")
        #expect(report.layout?.titleLines == [1] && report.layout?.headerLines == [2, 3, 4])
        #expect(report.inserted == 2 && report.rejected == 1)
        // 裸眼远视力 4.6/4.7; non-cycloplegic sphere -1.75 (the 散瞳后 -1.00 is not read); 测试第一小学 → SH-P01.
        #expect(try vision(h, "G99000000000000031")[2...4] == ["46", "47", "-1750"])
        #expect(try vision(h, "G99000000000000031")[16] == "SH-P01")
        // 测试一小 is another spelling of the same school; 框架眼镜 with 戴镜视力 4.9/5.0.
        #expect(try vision(h, "G99000000000000032")[16] == "SH-P01")
        #expect(try vision(h, "G99000000000000032")[0] == "1" && (try vision(h, "G99000000000000032")[9...10]) == ["49", "50"])
        #expect(h.rejects.first?.column == "学校*" && h.rejects.first?.value == "不存在的学校")
        let excluded = report.layout?.columns.filter { $0.note?.contains("散瞳") == true } ?? []
        #expect(excluded.count == 6)
        #expect(report.warnings.contains { $0.contains("6 column(s) not read") && $0.contains("cycloplegic") })
    }

    @Test("The platform's own export: a title row, -- not measured, glasses as 不佩戴眼镜 / 夜戴角膜塑形镜")
    func platformExport() throws {
        var h = try Harness()
        let report = try h.run("", school: "SH-P02", screeningDate: "2024-09-03", path: TestSupport.fixture("layouts/platform-export.csv"))
        #expect(report.layout?.titleLines == [1] && report.layout?.headerLines == [2])
        #expect(report.inserted == 4 && report.rejected == 0, "\(h.rejects)")
        #expect(try vision(h, "G99000000000000041")[0...4] == ["0", nil, "48", "49", "-1250"])
        #expect(try vision(h, "G99000000000000042")[0] == "1")
        // 夜戴角膜塑形镜 with every acuity and refraction "--": myopic by WS/T 663, corrected 4.9/5.0.
        #expect(try vision(h, "G99000000000000043")[0] == "3" && (try vision(h, "G99000000000000043")[11]) == "1")
        #expect(try vision(h, "G99000000000000044")[2...3] == [nil, "50"])
    }

    @Test("Common-disease export: units after values, the 复测 block not read, spine as 左低右高、Ⅱ")
    func commonDisease() throws {
        var h = try Harness()
        _ = try h.importSchools()
        let report = try h.run("", screeningDate: "2024-09-05", path: TestSupport.fixture("layouts/common-disease.csv"))
        #expect(report.profile == "vision-common-disease")
        #expect(report.inserted == 4 && report.rejected == 0, "\(h.rejects)")
        // -1.25D, -0.50D, 90° from the first screening; the re-test's +0.50D is not read.
        #expect(try vision(h, "G99000000000000051")[2...8] == ["47", "48", "-1250", "-1000", "-500", "90", "0"])
        #expect(report.warnings.contains { $0.contains("18 column(s) not read") && $0.contains("复测") })
        // 个人隐私 and 疾病史 are ignored, never stored.
        #expect(report.warnings.contains { $0.contains("个人隐私") })

        let spine = try h.run("", kind: .spine, screeningDate: "2024-09-05", path: TestSupport.fixture("layouts/common-disease.csv"))
        #expect(spine.profile == "spine-common-disease")
        #expect(spine.inserted == 3 && spine.rejected == 1)
        let s = try h.rows("""
            SELECT student_id, side_thoracic, degree_thoracic, side_thoracolumbar, degree_thoracolumbar, sagittal_result, sagittal_degree,
                   lateral_positive, grade_roman, abnormal FROM spine_screening ORDER BY student_id
            """)
        #expect(s[0] == ["G99000000000000051", "2", "2", "1", nil, "0", nil, "1", "2", "1"])
        #expect(s[1] == ["G99000000000000052", "1", nil, "3", "1", "1", "1", "1", "1", "1"])
        // 左低右高、Ⅳ is no degree: rejected with its reason, never stored without it.
        #expect(h.rejects.first?.value == "左低右高、Ⅳ" && h.rejects.first?.reason.contains("not stored without its degree") == true)
    }

    @Test("Eye-health archive: both eyes in one cell (右/左), grade and class in one cell, three 初步结果 told apart")
    func eyeHealth() throws {
        var h = try Harness()
        let report = try h.run("", school: "SH-P01", path: TestSupport.fixture("layouts/eye-health.csv"))
        #expect(report.profile == "vision-eye-health")
        #expect(report.layout?.titleLines == [1] && report.layout?.headerLines == [2, 3])
        #expect(report.inserted == 3 && report.rejected == 0, "\(h.rejects)")
        #expect(try vision(h, "G99000000000000061")[2...8] == ["49", "50", "-750", "-500", "-250", "180", "0"])
        #expect(try vision(h, "G99000000000000062")[9...10] == ["49", "49"])
        #expect(try h.rows("SELECT grade, class_name, screening_date FROM vision_screening WHERE student_id = 'G99000000000000061'") == [["13", "2班", "2024-09-20"]])
        #expect(try h.rows("SELECT grade FROM vision_screening WHERE student_id = 'G99000000000000063'") == [["21"]])
        #expect(report.layout?.columns.filter { $0.header.hasSuffix("初步结果") }.count == 3)
    }

    @Test("Spine record system: 一般检查 twice told apart, 腰胸段 for 胸腰段, ATR band codes, the motion test as its result, 姿态不良")
    func spineForm() throws {
        var h = try Harness()
        let report = try h.run("", kind: .spine, path: TestSupport.fixture("layouts/spine-form.csv"))
        #expect(report.profile == "spine-form" && report.inserted == 4 && report.rejected == 0, "\(h.rejects)")
        let s = try h.rows("""
            SELECT general_inspection, side_thoracic, atr_band_thoracic, motion_test, motion_persisted, atr_after_band_thoracic,
                   sagittal_inspection, prone_test, lateral_positive, grade_roman, postural, abnormal, suggestion FROM spine_screening ORDER BY student_id
            """)
        #expect(s[0] == ["1", "1", "0", nil, nil, nil, "0", nil, "0", nil, "0", "0", "0"])
        // 左低右高 ATR≥5° (band 5–7°), 体征消失 and ATR < 5° after: 姿态不良, not screen-positive, 随访.
        #expect(s[1] == ["2", "2", "1", "1", "0", "0", "0", nil, "0", nil, "1", "0", "1"])
        // ATR ≥ 10° and still ≥ 10° after the motion test: Ⅲ, refer; 后凸 persisting prone.
        #expect(s[2] == ["2,6", "3", "3", "1", "1", "3", "2", "2", "1", "3", "0", "1", "2"])
        #expect(report.warnings.contains { $0.contains("姿态不良") && $0.contains("UNCONFIRMED") })
    }

    @Test("Surveillance variables QX51–QX71: coded answers, the order marked unconfirmed in every import")
    func surveillanceQX() throws {
        var h = try Harness()
        let report = try h.run("", kind: .spine, path: TestSupport.fixture("layouts/spine-qx.csv"))
        #expect(report.profile == "spine-surveillance-qx" && report.inserted == 3, "\(h.rejects)")
        #expect(report.warnings.contains { $0.contains("not from the 2025 SPSS syntax") })
        let s = try h.rows("SELECT general_inspection, side_thoracic, atr_band_thoracic, motion_test, atr_after_band_thoracic, history, lateral_positive, grade_roman, postural FROM spine_screening ORDER BY student_id")
        #expect(s[0] == ["1", "1", "0", "0", nil, nil, "0", nil, "0"])
        #expect(s[1] == ["2", "2", "2", "1", "2", "1", "1", "2", "0"])
        #expect(s[2] == ["2", "2", "1", "1", "0", nil, "0", nil, "1"])
    }

    @Test("District fitness upload: 1000/800米跑 and 引体向上/仰卧起坐 read by sex, 总分等级 compared, 3.4 explained")
    func fitnessDistrict() throws {
        var h = try Harness()
        let report = try h.run("", kind: .fitness, school: "SH-J01", schoolYear: 2024, path: TestSupport.fixture("layouts/fitness-district.csv"))
        #expect(report.inserted == 2 && report.rejected == 1)
        let f = try h.rows("SELECT student_id, run_1000m, run_800m, pull_up, sit_up, ext_band FROM fitness_test ORDER BY student_id")
        #expect(f[0] == ["G99000000000000091", "225", nil, "8", nil, "1"])
        #expect(f[1] == ["G99000000000000092", nil, "230", nil, "42", "2"])
        #expect(h.rejects.first { $0.kind == .rejected }?.reason.contains("3′40″ with its trailing zero dropped by Excel") == true)
        #expect(report.disagreements == 2)
    }

    @Test("Semicolon and tab delimiters are detected and reported", arguments: [("semicolon.csv", ";"), ("tab.csv", "tab")])
    func delimiters(file: String, delimiter: String) throws {
        var h = try Harness()
        let report = try h.run("", path: TestSupport.fixture("layouts/" + file))
        #expect(report.layout?.delimiter == delimiter)
        #expect(report.inserted == 3 && report.rejected == 0)
        #expect(report.warnings.first?.contains("not commas") == true)
        #expect(try vision(h, "G99000000000000100")[2...4] == ["49", "50", "-500"])
    }

    @Test("Without a date column and without --screening-date the file is refused, saying what to pass")
    func needsDate() throws {
        var h = try Harness()
        #expect { _ = try h.run("", school: "SH-P01", path: TestSupport.fixture("layouts/platform-export.csv")) } throws: { error in
            String(describing: error).contains("--screening-date")
        }
        #expect(try h.count() == 0 && h.count("import_batch") == 0)
    }

    @Test("--inspect reads the head, maps each column, and drafts a profile that imports the file once saved")
    func inspect() throws {
        let config = try SchoolHealthConfig.load(directory: TestSupport.configDirectory)
        // A vendor file with English headers SchoolHealth does not know.
        let path = TestSupport.writeTemporary("""
            Pupil ID,Gender,School,Grade,Exam date,R-VA,L-VA,Notes
            G99000000000009001,1,SH-P01,13,2024-09-12,4.9,5.0,x
            """, name: "vendor.csv")
        let found = try LayoutInspector.inspect(path: path, kind: .vision, config: config, options: ImportOptions())
        #expect(found.problem != nil)
        #expect(Set(found.missing).isSuperset(of: ["student_id", "ucva_right", "ucva_left"]))
        #expect(found.layout.columns.map(\.header) == ["Pupil ID", "Gender", "School", "Grade", "Exam date", "R-VA", "L-VA", "Notes"])
        #expect(found.draft.contains("profile: draft-vendor") && found.draft.contains("extends:"))
        // Fill in what the draft marks as TODO or suggests, save it, and the file imports.
        let draft = TestSupport.temporaryDirectory("draft") + "/vendor.yaml"
        try """
            profile: vendor
            extends: vision
            signature: [R-VA]
            fields:
              student_id: { aliases: [Pupil ID] }
              school_code: { aliases: [School] }
              ucva_right: { aliases: [R-VA] }
              ucva_left: { aliases: [L-VA] }
              screening_date: { aliases: [Exam date] }
            """.write(toFile: draft, atomically: true, encoding: .utf8)
        let withDraft = try SchoolHealthConfig.load(directory: TestSupport.configDirectory, extraProfiles: [draft])
        let store = try Store.inMemory()
        let report = try FileImporter(store: store, config: withDraft).importFile(path: path, kind: .vision, options: ImportOptions(), rejects: RejectionList())
        #expect(report.profile == "vendor" && report.inserted == 1)
        // The draft itself is valid YAML that the loader accepts.
        let saved = TestSupport.temporaryDirectory("draft") + "/draft.yaml"
        try found.draft.write(toFile: saved, atomically: true, encoding: .utf8)
        _ = try SchoolHealthConfig.load(directory: TestSupport.configDirectory, extraProfiles: [saved])
    }

    @Test("An ambiguous leaf is refused naming both paths")
    func ambiguousLeaf() throws {
        var h = try Harness()
        let path = TestSupport.writeTemporary("""
            学籍号,性别,学校代码,年级编号,筛查日期,视力,,复查视力,
            ,,,,,右眼裸眼视力,左眼裸眼视力,右眼裸眼视力,左眼裸眼视力
            G99000000000009002,1,SH-P01,13,2024-09-12,4.9,5.0,4.8,5.0
            """)
        #expect { _ = try h.run("", path: path) } throws: { error in
            let text = String(describing: error)
            return (text.contains("视力/右眼裸眼视力") && text.contains("复查视力/右眼裸眼视力"))
                || (text.contains("视力/左眼裸眼视力") && text.contains("复查视力/左眼裸眼视力"))
        }
    }
}

/// A rejects sink that fails after `limit` rows, as a full disk would.
final class FailingSink: RejectionSink {
    var count = 0
    let limit: Int
    init(limit: Int) { self.limit = limit }
    func add(_ rejection: Rejection) throws {
        count += 1
        if count > limit { throw IngestError.outputUnwritable(file: "rejects.csv", reason: "No space left on device") }
    }
    func seal() throws {}
    func settle(kept: Bool) {}
}

@Suite("Rejects are safe before rows are stored")
struct RejectsSafetyTests {
    @Test("A rejects sink that fails mid-import rolls the whole file back")
    func failingSink() throws {
        let store = try Store.inMemory()
        let importer = FileImporter(store: store, config: try SchoolHealthConfig.load(directory: TestSupport.configDirectory))
        var options = ImportOptions()
        options.today = CivilDate(year: 2026, month: 1, day: 1)!
        #expect(throws: IngestError.self) {
            _ = try importer.importFile(path: TestSupport.fixture("vision/bad-values.csv"), kind: .vision, options: options, rejects: FailingSink(limit: 3))
        }
        #expect(try store.counts().screenings == 0 && store.counts().batches == 0)
    }
}
