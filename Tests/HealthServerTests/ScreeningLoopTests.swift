import Foundation
import Testing
import HealthAnalytics
import HealthCore
import HealthIngest
import HealthRisk
import HealthServices
import HealthStore
import HealthTestSupport
import HummingbirdTesting
import HTTPTypes
import NIOCore
@testable import HealthServer

/// The loop from the school's list to the closed notice: coverage, notices, clinic results, the report's measures.
@Suite("Screening loop: coverage, notices to parents, clinic results")
struct ScreeningLoopTests {
    // SH-P01's list for 2024: A, B, C screened; D never (its screening was typed as …41); M moved in and was
    // screened at SH-P02 before the move. SH-P02 lists E.
    static let a = "G2012010100000011", b = "G2012010100000012", c = "G2012010100000013", d = "G2012010100000014"
    static let m = "G2012010100000015", e = "G2012010100000016", mistyped = "G2012010100000041"

    static let roster1 = """
        学校代码,年级编号,班级编号,班级名称,学籍号,性别,出生日期
        SH-P01,16,01,六年级1班,\(a),1,2012-01-01
        SH-P01,16,01,六年级1班,\(b),2,2012-02-01
        SH-P01,16,02,六年级2班,\(c),1,2012-03-01
        SH-P01,16,02,六年级2班,\(d),2,2012-04-01
        SH-P01,16,02,六年级2班,\(m),1,2012-05-01
        SH-P02,16,01,六年级1班,\(e),2,2012-06-01

        """
    static let vision = """
        学籍号,性别,出生日期,学校代码,年级编号,班级编号,班级,筛查日期,右眼裸眼视力,左眼裸眼视力,右眼球镜,右眼柱镜,右眼轴位,左眼球镜,左眼柱镜,左眼轴位,戴镜类型,右眼矫正视力,左眼矫正视力
        \(a),1,2012-01-01,SH-P01,16,01,六年级1班,2024-09-12,4.6,4.7,-2.00,-0.50,180,-1.75,0.00,,0,,
        \(b),2,2012-02-01,SH-P01,16,01,六年级1班,2024-09-12,5.0,5.1,0.25,0.00,,0.25,0.00,,0,,
        \(c),1,2012-03-01,SH-P01,16,02,六年级2班,2024-09-12,4.8,5.0,0.00,0.00,,0.00,0.00,,0,,
        \(mistyped),2,2012-04-01,SH-P01,16,02,六年级2班,2024-09-12,5.0,5.0,0.00,0.00,,0.00,0.00,,0,,
        \(m),1,2012-05-01,SH-P02,16,01,六年级1班,2024-09-10,5.0,5.0,0.00,0.00,,0.00,0.00,,0,,
        \(e),2,2012-06-01,SH-P02,16,01,六年级1班,2024-09-10,4.5,4.5,-3.00,0.00,,-3.00,0.00,,0,,

        """
    static let spine = """
        学籍号,性别,出生日期,学校代码,年级编号,班级,筛查日期,一般检查,前屈试验胸段,前屈试验胸腰段,前屈试验腰段,胸段躯干旋转角,胸腰段躯干旋转角,腰段躯干旋转角,脊柱运动试验,前后弯曲一般检查,俯卧试验,疾病史
        \(a),1,2012-01-01,SH-P01,16,六年级1班,2024-10-10,1,3,1,1,7,0,0,,正常,,无
        \(b),2,2012-02-01,SH-P01,16,六年级1班,2024-10-10,1,1,1,1,0,0,0,,正常,,无

        """

    struct Loop {
        let world: WebWorld
        let nurse: Actor
        let nurse2: Actor
        let dir: String
    }

    func loop() async throws -> Loop {
        let world = try WebWorld()
        let dir = TestSupport.temporaryDirectory("loop")
        func file(_ name: String, _ text: String) throws -> String {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            return dir + "/" + name
        }
        var options = ImportOptions()
        options.schoolYear = 2024
        _ = try await world.services.imports.importRoster(path: try file("roster.csv", Self.roster1), options: options, actor: nil, rejects: RejectionList())
        for (kind, name, text) in [(ScreeningKind.vision, "vision.csv", Self.vision), (.spine, "spine.csv", Self.spine)] {
            let r = try await world.services.imports.importFile(path: try file(name, text), ImportRequest(kind: kind), rejects: RejectionList())
            #expect(r.status == .imported && r.rejected == 0, "\(r)")
        }
        let nurse = try world.store.authenticate(token: world.tokens["nurse-p01"]!)
        let nurse2 = try world.store.authenticate(token: world.tokens["nurse-p02"]!)
        return Loop(world: world, nurse: nurse, nurse2: nurse2, dir: dir)
    }

    @Test("Coverage per class: a student who moved counts where listed, screened at the old school; the mistyped ID is offered its nearest")
    func coverage() async throws {
        let l = try await loop()
        let c = try await l.world.services.followUp.coverage(schoolYear: 2024, actor: l.nurse)
        let vision = c.rows.filter { $0.kind == "vision" }
        #expect(vision.map(\.classKey) == ["16:01", "16:02"])
        #expect(vision.map(\.enrolled) == [2, 3] && vision.map(\.screened) == [2, 2], "\(vision)")
        #expect(c.total("vision") == (enrolled: 5, screened: 4))
        #expect(c.unscreened["vision"]?.map(\.studentID) == [Self.d])
        // Spine: only A and B were screened.
        #expect(c.total("spine") == (enrolled: 5, screened: 2))
        #expect(Set(c.unscreened["spine"]?.map(\.studentID) ?? []) == [Self.c, Self.d, Self.m])
        #expect(c.unmatched.map(\.studentID) == [Self.mistyped] && c.unmatched[0].suggestions == [Self.d])
        // Fitness has no test anywhere: not shown.
        #expect(!c.rows.contains { $0.kind == "fitness" })
        // SH-P02's nurse sees her own list only: E and nothing of SH-P01.
        let other = try await l.world.services.followUp.coverage(schoolYear: 2024, actor: l.nurse2)
        #expect(other.total("vision") == (enrolled: 1, screened: 1) && other.unmatched.isEmpty)
        // A counsellor has no coverage.
        let counsellor = try l.world.store.authenticate(token: l.world.tokens["counsellor-p01"]!)
        await #expect(throws: ServiceError.self) { _ = try await l.world.services.followUp.coverage(schoolYear: 2024, actor: counsellor) }
    }

    @Test("Nearest IDs: one swap, one substitution, nothing beyond two edits; nearest first")
    func nearest() {
        #expect(NearestIDs.suggest("G2012010100000041", among: ["G2012010100000014", "G2012010100000099", "G2012010100000040"])
                == ["G2012010100000014", "G2012010100000040", "G2012010100000099"])   // a swap, one digit, two digits
        #expect(NearestIDs.suggest("G2012010100000041", among: ["G2012010100000014", "G2012010100000099"], maxDistance: 1) == ["G2012010100000014"])
        #expect(NearestIDs.suggest("ABCDEF", among: ["UVWXYZ", "ABC"]).isEmpty)
        #expect(NearestIDs.distance(Array("abcd".utf8), Array("acbd".utf8), limit: 2) == 1)
        #expect(NearestIDs.distance(Array("abcd".utf8), Array("abd".utf8), limit: 2) == 1)
    }

    @Test("Notices: issued once per screening, again only as a marked re-issue with a reason; another school's nurse cannot touch them")
    func notices() async throws {
        let l = try await loop()
        let loop = l.world.services.followUp
        let first = try await loop.issueNotices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        // A (myopic + poor vision; and spine screen-positive), C (poor vision): three notices. B is normal.
        #expect(first.issued.count == 3 && first.already == 0)
        let again = try await loop.issueNotices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        #expect(again.issued.isEmpty && again.already == 3)
        let all = try await loop.notices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        let visionA = try #require(all.first { $0.findings.studentID == Self.a && $0.findings.kind == "vision" })
        #expect(visionA.findingIDs == ["myopia", "poor_vision"] && visionA.issuedBy == "nurse-p01" && visionA.findings.screeningDate == "2024-09-12")
        #expect(visionA.ruleVersion.hasPrefix("2026.1@"))
        await #expect(throws: ServiceError.self) { _ = try await loop.reissue(visionA.id, reason: "  ", actor: l.nurse) }
        await #expect(throws: ServiceError.self) { _ = try await loop.reissue(visionA.id, reason: "家长遗失", actor: l.nurse2) }
        let re = try await loop.reissue(visionA.id, reason: "家长遗失", actor: l.nurse)
        let after = try await loop.notices(schoolYear: 2024, classKey: "16:01", actor: l.nurse)
        #expect(after.first { $0.id == re }?.reissueOf == visionA.id && after.first { $0.id == visionA.id }?.reissues == 1)
        // The class print: one page per child, the re-issue marked, no other class's child; logged.
        let html = try await loop.printNotices(schoolYear: 2024, classKey: "16:01", actor: l.nurse)
        #expect(html.components(separatedBy: "<section class=\"notice\"").count - 1 == 2)   // A's vision (re-issued) and spine
        #expect(html.contains("补发") && html.contains("学生视力筛查结果告家长书") && html.contains("@page { size: A4"))
        #expect(!html.contains(Self.c) && !html.contains(Self.b) && html.contains(Self.a))
        for section in html.components(separatedBy: "<section class=\"notice\"").dropFirst() {
            let ids = Set(section.matches(of: /G\d{16}/).map { String($0.output) })
            #expect(ids == [Self.a], "a notice shows its own child only")
        }
        #expect(try l.world.store.debugRows("SELECT COUNT(*) FROM audit_event WHERE action = 'notices printed'")[0][0] == "1")
        #expect(try l.world.store.verifyAudit().ok)
        // SH-P02's nurse sees none of them.
        #expect(try await loop.notices(schoolYear: 2024, classKey: nil, actor: l.nurse2).isEmpty)
    }

    @Test("Clinic results: a file's bad rows rejected with line, column and reason; a re-issue's number answers its original; the same file changes nothing")
    func results() async throws {
        let l = try await loop()
        let loop = l.world.services.followUp
        _ = try await loop.issueNotices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        let notices = try await loop.notices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        let visionA = notices.first { $0.findings.studentID == Self.a && $0.findings.kind == "vision" }!
        let spineA = notices.first { $0.findings.studentID == Self.a && $0.findings.kind == "spine" }!
        let visionC = notices.first { $0.findings.studentID == Self.c }!
        let re = try await loop.reissue(visionC.id, reason: "家长遗失", actor: l.nurse)
        let csv = """
            通知编号,学籍号,检查类型,检查日期,检查机构,检查结果,右眼等效球镜,左眼等效球镜,Cobb角
            ,\(Self.a),视力,2024-10-20,县人民医院眼科,近视,-2.00,-1.50,
            \(spineA.id),\(Self.a),脊柱,2024-11-02,县人民医院骨科,脊柱侧弯,,,12.5
            \(re),\(Self.c),视力,2024-10-25,县人民医院眼科,非近视,0.25,0.00,
            ,\(Self.b),视力,2024-10-20,县人民医院眼科,近视,-1.00,-1.00,
            ,\(Self.a),视力,2024-10-21,县人民医院眼科,近视,-2.00,-1.50,
            ,G2012010100000031,视力,2024-10-20,县人民医院眼科,近视,-1.00,-1.00,
            ,\(Self.a),脊柱,2024-11-02,县人民医院骨科,脊柱侧弯,,,8
            ,\(Self.a),视力,2024-08-01,县人民医院眼科,近视,-2.00,-1.50,
            ,\(Self.a),视力,2099-01-01,县人民医院眼科,近视,-2.00,-1.50,
            ,\(Self.a),视力,2024-10-20,县人民医院眼科,远视,,,
            ,\(Self.a),视力,2024-10-20,县人民医院眼科,近视,0.50,0.25,

            """
        let path = l.dir + "/results.csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let rejects = RejectionList()
        let report = try await loop.importResults(path: path, options: ImportOptions(), kind: nil, actor: nil, rejects: rejects)
        #expect(report.status == .imported && report.rowsRead == 11 && report.inserted == 3 && report.rejected == 8, "\(report) \(rejects.rejections)")
        let why = Dictionary(rejects.rejections.map { ($0.line, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(why[5]?.column == "学籍号" && why[5]?.reason.contains("has no vision notice") == true, "B was never notified")
        #expect(why[6]?.reason.contains("answers notice \(visionA.id) again (line 2 did)") == true)
        #expect(why[7]?.reason.contains("did you mean") == true && why[7]?.reason.contains(Self.c) == true, "\(why[7]!.reason)")   // …31 for …13 (a swap)
        #expect(why[8]?.column == "Cobb角" && why[8]?.reason.contains("below 10°") == true)
        #expect(why[9]?.reason.contains("on or before") == true, "before the screening: no notice to answer")
        #expect(why[10]?.column == "检查日期" && why[10]?.reason == "is in the future")
        #expect(why[11]?.column == "检查结果")
        #expect(why[12]?.reason.contains("says myopia, but no eye's spherical equivalent") == true)
        let after = try await loop.notices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        #expect(after.first { $0.id == visionA.id }?.result?.outcome == .myopia)
        #expect(after.first { $0.id == visionA.id }?.result?.seRightMdpt == -2000)
        #expect(after.first { $0.id == spineA.id }?.result?.cobbX10 == 125)
        #expect(after.first { $0.id == visionC.id }?.result?.outcome == .notMyopic, "the re-issue's number answers the original")
        let again = try await loop.importResults(path: path, options: ImportOptions(), kind: nil, actor: nil, rejects: RejectionList())
        #expect(again.status == .alreadyImported)
        // The form checks the same rules.
        await #expect(throws: ServiceError.self) {
            _ = try await loop.recordResult(noticeID: spineA.id, date: "2024-11-02", provider: "县人民医院", outcome: "正常", seRight: nil, seLeft: nil, cobb: "15", actor: l.nurse)
        }
        await #expect(throws: ServiceError.self) {
            _ = try await loop.recordResult(noticeID: spineA.id, date: "2024-11-02", provider: "县人民医院", outcome: "脊柱侧弯", seRight: nil, seLeft: nil, cobb: "15", actor: l.nurse2)
        }
        let w = try await loop.recordResult(noticeID: spineA.id, date: "2024-11-03", provider: "县人民医院", outcome: "脊柱侧弯", seRight: nil, seLeft: nil, cobb: "15", actor: l.nurse)
        #expect(w == .updated)
    }

    @Test("Follow-up measures against hand-computed values: 复查率, confirmed among returned, median days with its interval")
    func measures() {
        func n(_ school: String, issued: Int, result: Int?, confirmed: Bool = false, kind: String = "vision") -> ScreeningLoop.NoticeOutcome {
            ScreeningLoop.NoticeOutcome(kind: kind, school: school, schoolYear: 2024, grade: 16, sex: 1, expectsResult: true, issuedDay: issued,
                                        resultDay: result, confirmed: confirmed)
        }
        // 10 notices: 7 returned after 3, 5, 8, 10, 12, 20, 30 days; 4 of them confirmed.
        let days = [3, 5, 8, 10, 12, 20, 30]
        var outcomes = days.enumerated().map { i, d in n("SH-P01", issued: 100, result: 100 + d, confirmed: i < 4) }
        outcomes += (0..<3).map { _ in n("SH-P01", issued: 100, result: nil) }
        let strata = ScreeningLoop.followUpStrata(outcomes)
        let returned = strata.first { $0.measure == "followup_returned_vision" }!
        let confirmed = strata.first { $0.measure == "followup_confirmed_vision" }!
        #expect((returned.numerator, returned.denominator) == (7, 10))
        #expect((confirmed.numerator, confirmed.denominator) == (4, 7))
        let times = ScreeningLoop.daysToResult(outcomes)
        #expect(times.count == 1 && times[0].days.sorted() == days)
        // Median of 7 values is the 4th (10); j = ⌊3.5 − 0.98·√7⌋ = ⌊0.907⌋ = 0 < 1: no interval for n = 7.
        #expect(MedianInterval.of(days) == MedianInterval(median: 10, lower: nil, upper: nil))
        // n = 20 (1…20): median 10.5; j = ⌊10 − 4.383⌋ = 5, k = ⌈11 + 4.383⌉ = 16: (5, 16).
        #expect(MedianInterval.of(Array(1...20)) == MedianInterval(median: 10.5, lower: 5, upper: 16))
        // Coverage strata: listed and screened by the list's school, grade and sex.
        let roster = [RosterEntry(schoolYear: 2024, studentID: "X1", school: "S", grade: 16, classCode: nil, className: nil, sex: 1, birthDate: nil),
                      RosterEntry(schoolYear: 2024, studentID: "X2", school: "S", grade: 16, classCode: nil, className: nil, sex: 1, birthDate: nil),
                      RosterEntry(schoolYear: 2024, studentID: "X3", school: "S", grade: 16, classCode: nil, className: nil, sex: 2, birthDate: nil)]
        let cov = ScreeningLoop.coverageStrata(schoolYear: 2024, roster: roster, screened: ["vision": ["X1", "X3", "Y9"]])
        #expect(cov.map { "\($0.measure) \($0.sex) \($0.numerator)/\($0.denominator)" } == ["coverage_vision 1 1/2", "coverage_vision 2 1/1"])
    }

    @Test("The trend report carries coverage and follow-up, suppressed like every rate: the returned count and the confirmed denominator hide together")
    func report() async throws {
        let l = try await loop()
        let loop = l.world.services.followUp
        _ = try await loop.issueNotices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        let report = try await l.world.services.reports.trends(TrendRequest())
        #expect(report.ruleVersions["follow-up"]?.hasPrefix("2026.1@") == true)
        let coverage = report.cells.filter { $0.measure == "coverage_vision" && $0.area == "county" && $0.grade == nil && $0.sex == nil }
        // Coverage is hidden for a small stratum only: being screened says nothing of a child's health.
        #expect(coverage.count == 1 && !coverage[0].suppressed && coverage[0].numerator == 5 && coverage[0].denominator == 6, "\(coverage)")
        let small = report.cells.filter { $0.measure == "coverage_vision" && $0.area == "SH-P02" && $0.grade == nil && $0.sex == nil }
        #expect(small.count == 1 && small[0].suppressed && small[0].denominator == nil, "1 listed at SH-P02: hidden")
        let unsuppressed = try await l.world.services.reports.trends(TrendRequest(suppress: false, actor: try l.world.store.authenticate(token: l.world.tokens["office"]!)))
        let open = unsuppressed.cells.first { $0.measure == "coverage_vision" && $0.area == "county" && $0.grade == nil && $0.sex == nil }!
        #expect((open.numerator, open.denominator) == (5, 6))
        let returned = unsuppressed.cells.first { $0.measure == "followup_returned_vision" && $0.area == "SH-P01" && $0.grade == nil && $0.sex == nil }!
        #expect((returned.numerator, returned.denominator) == (0, 2))
        // Linked suppression: wherever the returned count is hidden, the confirmed denominator is too.
        for cell in report.cells where cell.measure == "followup_returned_vision" && cell.suppressed {
            let twin = report.cells.first { $0.measure == "followup_confirmed_vision" && $0.area == cell.area && $0.year == cell.year && $0.grade == cell.grade && $0.sex == cell.sex }
            #expect(twin == nil || twin?.denominator == nil)
        }
        let html = try l.world.services.reports.render(report, .html, language: .zh).text
        #expect(html.contains("视力筛查覆盖率") && html.contains("视力复查率"))
    }

    @Test("The report's counts are read once while the database is unchanged, and again after any write: this process's or another's")
    func countsFollowEveryChange() async throws {
        let l = try await loop()
        let loop = l.world.services.followUp
        let office = try l.world.store.authenticate(token: l.world.tokens["office"]!)
        func cell(_ measure: String, _ area: String) async throws -> (Int?, Int?) {
            // Unsuppressed (the office, audited): the true counts.
            let r = try await l.world.services.reports.trends(TrendRequest(suppress: false, actor: office))
            let c = r.cells.first { $0.measure == measure && $0.area == area && $0.grade == nil && $0.sex == nil }
            return (c?.numerator, c?.denominator)
        }
        _ = try await loop.issueNotices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        #expect(try await cell("followup_returned_vision", "SH-P01") == (0, 2))
        let visionA = try await loop.notices(schoolYear: 2024, classKey: nil, actor: l.nurse).first { $0.findings.studentID == Self.a && $0.findings.kind == "vision" }!
        _ = try await loop.recordResult(noticeID: visionA.id, date: "2024-10-20", provider: "县人民医院眼科", outcome: "近视", seRight: "-2.00", seLeft: nil, cobb: nil, actor: l.nurse)
        #expect(try await cell("followup_returned_vision", "SH-P01") == (1, 2), "this process's write is seen")
        // Suppressed reports (no audit event is written) reuse the counts while nothing changes ...
        let stamp = try l.world.store.changeStamp()
        _ = try await l.world.services.reports.trends(TrendRequest())
        _ = try await l.world.services.reports.trends(TrendRequest())
        #expect(try l.world.store.changeStamp() == stamp)
        // An audit event (a queue's escalation writes them on every view) is not a count: the stamp stays.
        try l.world.store.recordEvent(actor: office, action: "test event", detail: "")
        #expect(try l.world.store.changeStamp() == stamp)
        // ... and another process's write (a second connection to the file) is seen too.
        let other = try Store.open(path: l.world.dir + "/web.sqlite")
        let list = l.dir + "/more.csv"
        try "学校代码,年级编号,班级编号,班级名称,学籍号,性别,出生日期\nSH-P02,16,01,六年级1班,G2012010100000099,1,2012-07-01\n".write(toFile: list, atomically: true, encoding: .utf8)
        var options = ImportOptions()
        options.schoolYear = 2024
        _ = try RosterImporter(store: other, config: l.world.services.config).importFile(path: list, options: options, rejects: RejectionList())
        #expect(try l.world.store.changeStamp() != stamp)
        #expect(try await cell("coverage_vision", "county") == (5, 7))
    }

    @Test("The report's SQL counts equal the loop's own arithmetic on the same data")
    func sqlCountsEqualPure() async throws {
        let l = try await loop()
        let loop = l.world.services.followUp
        _ = try await loop.issueNotices(schoolYear: 2024, classKey: nil, actor: l.nurse)
        let store = l.world.store
        var ids: [String: Set<String>] = [:]
        for kind in ScreeningLoop.kinds { ids[kind] = Set(try store.screenedStudents(kind: kind, schoolYear: 2024).map(\.studentID)) }
        let pure = ScreeningLoop.coverageStrata(schoolYear: 2024, roster: try store.roster(schoolYear: 2024), screened: ids)
        let sql = try ScreeningLoop.kinds.flatMap { try store.coverageCounts(kind: $0, schoolYears: [2024]) }
        func norm(_ s: [StratumCount]) -> [String] { s.map { "\($0.measure) \($0.school) \($0.grade) \($0.sex) \($0.numerator)/\($0.denominator)" }.sorted() }
        #expect(norm(pure) == norm(sql) && !pure.isEmpty)
        let notices = try store.notices(school: nil).filter { $0.reissueOf == nil }.map(FollowUpService.outcome)
        #expect(norm(ScreeningLoop.followUpStrata(notices)) == norm(try store.followUpCounts(schoolYears: 2024...2024).strata))
    }
}

@Suite("Screening loop: the nurse's pages")
struct ScreeningLoopPageTests {
    @Test("Coverage, the notice board, issuing once, the class print (A4, inline style allowed, no script), results by form and by upload; other roles and schools refused")
    func pages() async throws {
        let l = try await ScreeningLoopTests().loop()
        let w = l.world
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            let coverage = String(buffer: try await nurse.get(client, "/coverage?year=2024").body)
            #expect(coverage.contains("id=\"coverage\"") && coverage.contains(ScreeningLoopTests.mistyped) && coverage.contains("<td class=\"suggest\">\(ScreeningLoopTests.d)</td>"), "\(coverage)")
            #expect(coverage.contains("视力未筛查学生：1 人"))
            let board = String(buffer: try await nurse.get(client, "/notices?year=2024").body)
            #expect(board.contains("id=\"notice-board\"") && board.contains("action=\"/notices/issue\""), "\(board)")
            let issued = try await nurse.post(client, "/notices/issue", form: [("year", "2024"), ("class", "")])
            #expect(issued.headers[.location] == "/notices?year=2024&issued=3&already=0")
            let again = try await nurse.post(client, "/notices/issue", form: [("year", "2024"), ("class", "")])
            #expect(again.headers[.location] == "/notices?year=2024&issued=0&already=3")
            #expect(String(buffer: try await nurse.get(client, again.headers[.location]!).body).contains("已签发 0 份；3 份此前已签发"))
            // Without the token nothing is issued.
            #expect(try await nurse.post(client, "/notices/issue", form: [("year", "2024")], csrf: false).status == .forbidden)
            let print = try await nurse.get(client, "/notices/print?year=2024&class=16:01")
            let html = String(buffer: print.body)
            #expect(print.status == .ok && html.components(separatedBy: "<section class=\"notice\"").count == 3 && !html.contains("<script"))
            #expect(print.headers[.contentSecurityPolicy]?.contains("style-src 'self' 'unsafe-inline'") == true || print.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == true)
            let notices = try w.store.notices(school: "SH-P01")
            let vision = notices.first { $0.findings.studentID == ScreeningLoopTests.a && $0.findings.kind == "vision" }!
            // A result that disagrees with itself is refused on the page, with the reason in Chinese.
            let back = "/notices/class?year=2024&class=16:01"
            let bad = try await nurse.post(client, "/notices/\(vision.id)/result", form: [("back", back), ("date", "2024-10-20"), ("provider", "县人民医院眼科"),
                                                                                     ("outcome", "myopia"), ("seRight", "0.50"), ("seLeft", "0.25")])
            let badPage = String(buffer: try await nurse.get(client, bad.headers[.location] ?? "").body)
            #expect(badPage.contains("id=\"result-error\"") && badPage.contains("结果为近视，但没有一只眼的等效球镜"), "\(badPage)")
            let good = try await nurse.post(client, "/notices/\(vision.id)/result", form: [("back", back), ("date", "2024-10-20"), ("provider", "县人民医院眼科"),
                                                                                      ("outcome", "myopia"), ("seRight", "-2.00"), ("seLeft", "-1.50")])
            #expect(good.headers[.location] == back)
            #expect(String(buffer: try await nurse.get(client, back).body).contains("近视（散瞳验光确诊）</span> 2024-10-20"))
            // Results by upload (kind 复查结果): the spine notice answered; the rejected row listed with its reason.
            let spine = notices.first { $0.findings.kind == "spine" }!
            let file = l.dir + "/回执.csv"
            try "学籍号,检查类型,检查日期,检查机构,检查结果,Cobb角\n\(ScreeningLoopTests.a),脊柱,2024-11-02,县人民医院骨科,脊柱侧弯,12\n\(ScreeningLoopTests.e),脊柱,2024-11-02,县人民医院骨科,正常,2\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            let up = try await nurse.upload(client, file: file, name: "回执.csv", kind: "results")
            let result = String(buffer: try await nurse.get(client, up.headers[.location] ?? "").body)
            #expect(result.contains("<dt>新增</dt><dd>1</dd>") && result.contains("没有脊柱告家长书"), "\(result)")
            #expect(try w.store.notice(spine.id)?.result?.cobbX10 == 120)
            #expect(String(buffer: try await nurse.get(client, "/batches").body).contains("<td>复查结果（医院回执）</td><td>回执.csv</td>"))
            // Another school's nurse: the notice does not exist for her; a counsellor has no notice pages.
            let (other, _) = try await Browser.login(client, "nurse-p02")
            #expect(try await other.post(client, "/notices/\(vision.id)/reissue", form: [("reason", "x")]).status == .notFound)
            #expect(!String(buffer: try await other.get(client, "/notices/print?year=2024&class=16:01").body).contains(ScreeningLoopTests.a))
            let (counsellor, _) = try await Browser.login(client, "counsellor-p01")
            #expect(try await counsellor.get(client, "/notices?year=2024").status == .forbidden)
            #expect(try await counsellor.get(client, "/coverage?year=2024").status == .forbidden)
        }
    }
}
