import Foundation
import HealthCore
import HealthIngest
import HealthRisk
import HealthServices
import HealthStore
import HealthSynthetic
import HealthTestSupport
import Testing
@testable import HealthServer
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import NIOCore

/// The national upload file: written as the platform's template expects, and read back by SchoolHealth's own
/// import into exactly what was stored (every template version, GB18030 and UTF-8).
@Suite("National upload export")
struct NationalExportTests {
    /// A county (one school year of vision and fitness) and the nurses of a primary and a junior school.
    final class County: Sendable {
        let world: WebWorld
        let nurses: [String: Actor]
        let year = 2024

        init() async throws {
            let w = try WebWorld()
            let county = SyntheticCounty(seed: 5, students: 900, firstYear: year, years: 1)
            let dir = w.dir + "/county"
            for (kind, files) in [(ScreeningKind.vision, try county.writeVision(to: dir)), (.fitness, try county.writeFitness(to: dir))] {
                for f in files {
                    var options = ImportOptions()
                    options.schoolYear = f.schoolYear
                    options.today = CivilDate(year: 2026, month: 1, day: 1)!
                    _ = try await w.services.imports.importFile(path: f.path, ImportRequest(kind: kind, options: options), rejects: RejectionList())
                }
            }
            let admin = try w.store.authenticate(token: w.tokens["admin"]!)
            let junior = try w.store.addAccount(by: admin, login: "nurse-j01", name: "初中校医", role: .nurse, organisation: "SH-J01", password: WebWorld.password, issueToken: true)
            nurses = ["SH-P01": try w.store.authenticate(token: w.tokens["nurse-p01"]!), "SH-J01": try w.store.authenticate(token: junior.token!)]
            world = w
        }
    }

    /// What a template carries of a record (the screening date is not in any template; an exempt student's
    /// measurements are not written).
    static func carried(_ r: NationalRecord, _ t: NationalTemplate) -> NationalRecord {
        var r = r
        if !t.fitness { r.fitness = nil }
        if !t.vision { r.vision = nil }
        r.vision?.screeningDate = ""
        if let f = r.fitness, f.exempt { r.fitness = NationalRecord.Fitness(exempt: true, status: f.status, missing: f.missing) }
        if !t.columns.contains(where: { $0.value == .orthok }) { r.vision?.orthok = nil }
        return r
    }

    @Test("every template, GB18030 and UTF-8: the template's header and codes, and an import of the file gives back what is stored",
          arguments: ["2014", "2021", "2022"], [false, true])
    func roundTrip(template version: String, utf8: Bool) async throws {
        let county = try await County()
        let templates = try ExportService.nationalTemplates(TestSupport.configDirectory)
        let template = try #require(templates[version])
        for (school, nurse) in county.nurses.sorted(by: { $0.key < $1.key }) {
            let export = try await county.world.services.exports.national(school: school, schoolYear: county.year, template: version, utf8: utf8, actor: nurse)
            #expect(export.rows > 20, "\(school) \(version): \(export.rows) rows")
            let bytes = [UInt8](export.data)
            // Encoding and line ends as the platform's Excel template writes them.
            let header = template.headers.joined(separator: ",") + "\r\n"
            if utf8 {
                #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
                #expect(Array(bytes.dropFirst(3).prefix(header.utf8.count)) == Array(header.utf8))
            } else {
                let expected = try #require(TextEncoder.gb18030(header))
                #expect(Array(bytes.prefix(expected.count)) == expected, "\(version): the GB18030 header")
            }
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            #expect(lines.dropLast().allSatisfy { $0.last == UInt8(ascii: "\r") }, "CRLF throughout")
            #expect(lines.count == export.rows + 2)

            // The file, imported into an empty database, as a nurse would import it.
            let path = county.world.dir + "/\(school)-\(version)-\(utf8).csv"
            try export.data.write(to: URL(fileURLWithPath: path))
            let fresh = try Store.open(path: county.world.dir + "/fresh-\(school)-\(version)-\(utf8).sqlite")
            let services = try SchoolHealthServices(store: fresh, configDirectory: TestSupport.configDirectory)
            let stored = try county.world.store.nationalRecords(school: school, schoolYear: county.year, fitness: template.fitness, vision: template.vision)
            let written = Set(stored.map(\.studentID)).subtracting(export.leftOut.map(\.studentID))
            let date = stored.compactMap { $0.vision?.screeningDate }.max() ?? "\(county.year)-10-01"
            for kind in [template.fitness ? ScreeningKind.fitness : nil, template.vision ? .vision : nil].compactMap({ $0 }) {
                var options = ImportOptions()
                options.school = school
                options.schoolYear = county.year
                options.screeningDate = kind == .vision ? try CivilDate.parse(date).get() : nil
                options.today = CivilDate(year: 2026, month: 1, day: 1)!
                let rejects = RejectionList()
                let report = try await services.imports.importFile(path: path, ImportRequest(kind: kind, options: options), rejects: rejects)
                #expect(rejects.rejections.isEmpty, "\(school) \(version) \(kind): \(rejects.rejections.prefix(3))")
                #expect(report.inserted == written.count, "\(school) \(version) \(kind)")
            }
            let back = try fresh.nationalRecords(school: school, schoolYear: county.year, fitness: template.fitness, vision: template.vision)
            let expected = stored.filter { written.contains($0.studentID) }.map { Self.carried($0, template) }
            let got = back.map { Self.carried($0, template) }
            #expect(got.count == expected.count)
            for (a, b) in zip(got, expected) where a != b {
                Issue.record("\(school) \(version): \(a.studentID) came back as \(a), stored \(b)")
                break
            }
        }
    }

    @Test("codes, times and marks as the template writes them; rows it cannot hold are listed, not dropped; only the school's nurse")
    func templateDetails() async throws {
        let county = try await County()
        let services = county.world.services
        let p01 = county.nurses["SH-P01"]!, j01 = county.nurses["SH-J01"]!
        let primary = try await services.exports.national(school: nil, schoolYear: county.year, template: "2014", utf8: true, actor: p01)
        let text = String(decoding: primary.data.dropFirst(3), as: UTF8.self)
        let rows = text.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows[0].count == 21 && rows[0][0] == "年级编号" && rows[0][15] == "50米×8往返跑")
        #expect(rows.dropFirst().allSatisfy { Int($0[0]).map { (11...16).contains($0) } == true && ["1", "2"].contains($0[6]) })
        // The shuttle run as m'ss" (quoted, since it holds a quote), the 50 m run with its decimal point.
        #expect(text.contains(#/,"\d'\d\d""",/#), "m'ss\" shuttle times")
        #expect(rows.dropFirst().filter { !$0[12].isEmpty }.allSatisfy { $0[12].contains(".") })
        // Exempt students: 免体 in 身高 and nothing else measured.
        let exempt = rows.filter { $0[9] == "免体" }
        #expect(!exempt.isEmpty)
        #expect(exempt.allSatisfy { $0[10...].allSatisfy(\.isEmpty) })
        // Nothing SchoolHealth does not keep: name, ethnicity and address are empty.
        #expect(rows.dropFirst().allSatisfy { $0[4].isEmpty && $0[5].isEmpty && $0[8].isEmpty })
        #expect(primary.notStored == ["民族代码", "姓名", "家庭住址"])
        let junior = try await services.exports.national(school: "SH-J01", schoolYear: county.year, template: "2014", utf8: true, actor: j01)
        #expect(String(decoding: junior.data, as: UTF8.self).contains(#/,"[3-5]'\d\d""",/#), "800 m / 1000 m as m'ss\"")

        // 2021 needs a vision screening and refraction for every row: students without are listed with the reason.
        let visionless = try county.world.store.nationalRecords(school: "SH-P01", schoolYear: county.year, fitness: true, vision: true)
            .filter { $0.vision == nil || $0.fitness == nil }.map(\.studentID)
        let with2021 = try await services.exports.national(school: nil, schoolYear: county.year, template: "2021", actor: p01)
        for id in visionless { #expect(with2021.leftOut.contains { $0.studentID == id }, "\(id) is listed") }
        #expect(with2021.leftOut.allSatisfy { !$0.reason.isEmpty })
        // Several reasons for one student are said together, in Chinese with Chinese punctuation.
        let joined = ReasonText.joined([NationalRowProblem.noVisionScreening.reason, NationalRowProblem.acuityMissing(eyes: "left").reason], separator: "; ")
        #expect(services.messages.reason(joined, in: .zh) == "本学年没有视力筛查：模板需要；左眼缺少裸眼视力：模板要求必填")

        // Another school's nurse, the health office, a counsellor: refused (and nothing is written).
        await #expect(throws: ServiceError.self) { _ = try await services.exports.national(school: "SH-J01", schoolYear: county.year, template: "2014", actor: p01) }
        let office = try county.world.store.authenticate(token: county.world.tokens["office"]!)
        await #expect(throws: ServiceError.self) { _ = try await services.exports.national(school: "SH-P01", schoolYear: county.year, template: "2014", actor: office) }
        await #expect(throws: ServiceError.self) { _ = try await services.exports.national(school: nil, schoolYear: county.year, template: "2019", actor: p01) }
        // Each export is in the audit log.
        #expect(try county.world.store.debugRows("SELECT COUNT(*) FROM audit_event WHERE action = 'export national'")[0][0] == "3")
    }
}

@Suite("Web: the nurse's national upload file")
struct NationalExportPageTests {
    @Test("the nurse sees what the file will hold and downloads it in GB18030; nobody else can")
    func page() async throws {
        let w = try WebWorld()
        var options = ImportOptions()
        options.school = "SH-P01"
        options.schoolYear = 2024
        options.today = CivilDate(year: 2026, month: 1, day: 1)!
        let imported = try await w.services.imports.importFile(path: TestSupport.fixture("fitness/national-template-gb18030.csv"),
                                                               ImportRequest(kind: .fitness, options: options), rejects: RejectionList())
        #expect(imported.inserted > 0)
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            let page = String(buffer: try await nurse.get(client, "/export/national?year=2024&template=2014").body)
            #expect(page.contains("将写入 \(imported.inserted) 名学生") && page.contains("GB18030") && page.contains("/export/national/file?year=2024&amp;template=2014"), "\(page)")
            #expect(page.contains("民族代码、姓名、家庭住址"))
            // 2021 needs vision screenings: every student is listed, with the reason in Chinese.
            let with2021 = String(buffer: try await nurse.get(client, "/export/national?year=2024&template=2021").body)
            #expect(with2021.contains("id=\"left-out\"") && with2021.contains("本学年没有视力筛查"), "\(with2021)")
            let file = try await nurse.get(client, "/export/national/file?year=2024&template=2014")
            #expect(file.status == .ok && file.headers[.contentType] == "text/csv; charset=gb18030")
            #expect(file.headers[.contentDisposition] == "attachment; filename=\"SH-P01-2024-national-2014.csv\"")
            let header = try #require(TextEncoder.gb18030("年级编号,班级编号,班级名称,学籍号"))
            #expect(Array(file.body.readableBytesView.prefix(header.count)) == header)
            let utf8 = try await nurse.get(client, "/export/national/file?year=2024&template=2014&utf8=1")
            #expect(Array(utf8.body.readableBytesView.prefix(3)) == [0xEF, 0xBB, 0xBF])
            #expect(try await nurse.get(client, "/export/national?year=2024&template=1999").status == .unprocessableContent)
            let (office, _) = try await Browser.login(client, "office")
            #expect(try await office.get(client, "/export/national/file?year=2024&template=2014").status == .forbidden)
            let (counsellor, _) = try await Browser.login(client, "counsellor-p01")
            #expect(try await counsellor.get(client, "/export/national?year=2024").status == .forbidden)
        }
    }
}
