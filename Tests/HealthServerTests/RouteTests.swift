import Foundation
import HealthCore
import HealthIngest
import HealthRisk
@testable import HealthServer
import HealthServices
import HealthStore
import HealthTestSupport
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Testing

@Suite("Web: login, sessions, CSRF, headers")
struct LoginTests {
    @Test("Unauthenticated: pages send to the login page, the API answers 401 with a code")
    func unauthenticated() async throws {
        let w = try WebWorld()
        try await w.test { client in
            for path in ["/", "/upload", "/dashboard", "/queue", "/cases/1", "/accounts", "/batches", "/reports/trends.csv"] {
                let r = try await client.execute(uri: path, method: .get)
                #expect(r.status == .seeOther, "\(path)")
                #expect(r.headers[.location] == "/login", "\(path)")
            }
            let api = try await client.execute(uri: "/api/queue", method: .get)
            #expect(api.status == .unauthorized)
            #expect(String(buffer: api.body).contains("\"code\":\"unauthenticated\""))
        }
    }

    @Test("Every response carries the security headers; the session cookie is HttpOnly and SameSite=Strict; pages are Chinese first")
    func headers() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let page = try await client.execute(uri: "/login", method: .get)
            let csp = page.headers[.contentSecurityPolicy] ?? ""
            #expect(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[.referrerPolicy] == "no-referrer")
            #expect(String(buffer: page.body).contains("登录") && String(buffer: page.body).contains("lang=\"zh-CN\""))
            #expect(!String(buffer: page.body).contains("<script>"), "no inline script")
            let (_, login) = try await Browser.login(client, "nurse-p01")
            #expect(login.status == .seeOther)
            let setCookie = login.headers[values: .setCookie].first { $0.hasPrefix("sid=") } ?? ""
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && !setCookie.contains("Secure"))
            // The switch to English.
            let en = try await client.execute(uri: "/lang/en", method: .get)
            let lang = Browser.cookies(en)["lang"] ?? ""
            let english = try await client.execute(uri: "/login", method: .get, headers: [.cookie: "lang=\(lang)"])
            #expect(String(buffer: english.body).contains("Log in"))
        }
    }

    @Test("Wrong password: 401 and a message; after five failures even the right password waits (per account and per address)")
    func rateLimit() async throws {
        let w = try WebWorld()
        try await w.test { client in
            for _ in 0..<5 {
                let (_, r) = try await Browser.login(client, "nurse-p01", password: "wrong password!")
                #expect(r.status == .unauthorized)
                #expect(String(buffer: r.body).contains("账号或密码不正确"))
            }
            let (_, limited) = try await Browser.login(client, "nurse-p01")
            #expect(limited.status == .tooManyRequests)
            #expect(String(buffer: limited.body).contains("尝试次数过多"))
            // The same address trying another account is paused too.
            let (_, other) = try await Browser.login(client, "office")
            #expect(other.status == .tooManyRequests)
            // After the window, the right password works again.
            w.clock.advance(16 * 60)
            let (_, later) = try await Browser.login(client, "nurse-p01")
            #expect(later.status == .seeOther)
        }
    }

    @Test("A login form without its token, or posted from another site, is refused; the site's own form (Origin null with Sec-Fetch-Site same-origin, or Origin = this host) is not")
    func loginCSRF() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let bare = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                body: ByteBuffer(string: "login=nurse-p01&password=correct+horse+battery"))
            #expect(bare.status == .forbidden)
            let cross = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .secFetchSite: "cross-site"],
                                                 body: ByteBuffer(string: "login=nurse-p01&password=x"))
            #expect(cross.status == .forbidden)
            let origin = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"],
                                                  body: ByteBuffer(string: "login=nurse-p01&password=x"))
            #expect(origin.status == .forbidden)
            // What a browser sends for the site's own form: Chromium under Referrer-Policy no-referrer says `Origin: null`
            // with Sec-Fetch-Site same-origin; a browser without Sec-Fetch-Site names the server's authority (the test client's is localhost).
            let page = try await client.execute(uri: "/login", method: .get)
            let token = Browser.hidden("csrf", in: String(buffer: page.body)) ?? ""
            let cookie = "login_csrf=\(Browser.cookies(page)["login_csrf"] ?? "")"
            for (origin, site) in [("null", "same-origin"), ("http://localhost", nil)] as [(String, String?)] {
                var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded",
                                           .origin: origin, .cookie: cookie]
                if let site { headers[.secFetchSite] = site }
                let sameOrigin = try await client.execute(uri: "/login", method: .post, headers: headers,
                                                          body: ByteBuffer(string: "login=nurse-p01&password=correct+horse+battery&csrf=\(token)"))
                #expect(sameOrigin.status == .seeOther, "Origin \(origin), Sec-Fetch-Site \(site ?? "none sent")")
            }
        }
    }

    @Test("Sessions end after 30 idle minutes and 12 hours in any case; logging out ends one; disabling an account ends its sessions")
    func expiry() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            #expect(try await nurse.get(client, "/upload").status == .ok)
            w.clock.advance(31 * 60)
            let idle = try await nurse.get(client, "/upload")
            #expect(idle.status == .seeOther)
            let login = try await nurse.get(client, idle.headers[.location] ?? "")
            #expect(String(buffer: login.body).contains("登录已超时"))
            // Absolute: used every 20 minutes, still ended after 12 hours.
            let (again, _) = try await Browser.login(client, "nurse-p01")
            for _ in 0..<36 {
                w.clock.advance(20 * 60)
                _ = try await again.get(client, "/upload")
            }
            w.clock.advance(20 * 60)
            #expect(try await again.get(client, "/upload").status == .seeOther)
            // Log out.
            let (third, _) = try await Browser.login(client, "nurse-p01")
            #expect(try await third.post(client, "/logout", form: []).status == .seeOther)
            #expect(try await third.get(client, "/upload").status == .seeOther)
            // Disabled by the administrator.
            let (fourth, _) = try await Browser.login(client, "nurse-p02")
            #expect(try await fourth.get(client, "/upload").status == .ok)
            let (admin, _) = try await Browser.login(client, "admin")
            #expect(try await admin.post(client, "/accounts", form: [("action", "disable"), ("login", "nurse-p02")]).status == .ok)
            #expect(try await fourth.get(client, "/upload").status == .seeOther)
        }
    }
}

@Suite("Web: the nurse's uploads")
struct UploadTests {
    @Test("Upload: summary, the rejects table (escaped) and CSV; only her own school's rows; only she sees the result")
    func upload() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            let r = try await nurse.upload(client, file: TestSupport.fixture("vision/bad-values.csv"), name: "视力 bad-values.csv", kind: "vision")
            #expect(r.status == .seeOther)
            let location = r.headers[.location] ?? ""
            #expect(location.hasPrefix("/upload/"))
            let result = try await nurse.get(client, location)
            let page = String(buffer: result.body)
            #expect(result.status == .ok)
            #expect(page.contains("已导入，批次号") && page.contains("退回（未导入）"))
            #expect(page.contains("<table id=\"rejects\">") && page.contains("<td class=\"num\">2</td>"))
            let csv = try await nurse.get(client, location + "/rejects.csv")
            #expect(csv.status == .ok)
            #expect(Array(csv.body.readableBytesView.prefix(3)) == [0xEF, 0xBB, 0xBF])
            // The other school's nurse cannot open it.
            let (other, _) = try await Browser.login(client, "nurse-p02")
            #expect(try await other.get(client, location).status == .notFound)
            #expect(try await other.get(client, location + "/rejects.csv").status == .notFound)
            // Her history lists it; the other nurse's is empty.
            #expect(String(buffer: try await nurse.get(client, "/batches").body).contains("视力 bad-values.csv"))
            #expect(!String(buffer: try await other.get(client, "/batches").body).contains("bad-values"))
            // The same file again: imported once.
            let again = try await nurse.upload(client, file: TestSupport.fixture("vision/bad-values.csv"), name: "again.csv", kind: "vision")
            #expect(String(buffer: try await nurse.get(client, again.headers[.location] ?? "").body).contains("以前已经导入过"))
            // Rows of another school are rejected when SH-P02's nurse uploads SH-P01's file.
            let foreign = try await other.upload(client, file: TestSupport.fixture("vision/english-decimal.csv"), name: "foreign.csv", kind: "vision")
            let foreignPage = String(buffer: try await other.get(client, foreign.headers[.location] ?? "").body)
            #expect(foreignPage.contains("<dt>退回（未导入）</dt><dd>0</dd>") == false, "\(foreignPage)")
            #expect(!foreignPage.contains("<dt>新增</dt><dd>") || foreignPage.contains("<dt>新增</dt><dd>0</dd>"), "\(foreignPage)")
        }
    }

    @Test("Roster upload: the school's student list for a school year, imported for her school; without the year it is refused, saying so")
    func roster() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            let form = String(buffer: try await nurse.get(client, "/upload").body)
            #expect(form.contains("<option value=\"roster\">学籍名单"))
            let noYear = try await nurse.upload(client, file: TestSupport.fixture("roster/national-template.csv"), name: "学籍名单.csv", kind: "roster")
            let refused = String(buffer: try await nurse.get(client, noYear.headers[.location] ?? "").body)
            #expect(refused.contains("学籍名单属于某一个学年") && !refused.contains("id=\"mapping\""), "\(refused)")
            let r = try await nurse.upload(client, file: TestSupport.fixture("roster/national-template.csv"), name: "学籍名单.csv", kind: "roster",
                                           fields: [("schoolYear", "2024")])
            let page = String(buffer: try await nurse.get(client, r.headers[.location] ?? "").body)
            #expect(page.contains("<dt>新增</dt><dd>4</dd>") && page.contains("<dt>识别的格式</dt><dd>roster</dd>"), "\(page)")
            #expect(page.contains("<td>性别</td><td>3</td><td>不是性别代码"), "\(page)")
            #expect(page.contains("与第 5 行是同一名学生"), "\(page)")
            #expect(try w.store.roster(school: "SH-P01", schoolYear: 2024).count == 4)
            // Her history lists it; the other school's nurse does not see it.
            let batches = String(buffer: try await nurse.get(client, "/batches").body)
            #expect(batches.contains("<td>学籍名单（本学年在校学生）</td><td>学籍名单.csv</td>"), "\(batches)")
            let (other, _) = try await Browser.login(client, "nurse-p02")
            #expect(!String(buffer: try await other.get(client, "/batches").body).contains("学籍名单.csv"))
        }
    }

    @Test("Upload refused: without the CSRF token, by a role that does not upload, of a workbook")
    func refused() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            let noToken = try await nurse.upload(client, file: TestSupport.fixture("vision/bad-values.csv"), name: "x.csv", kind: "vision", csrf: false)
            #expect(noToken.status == .forbidden)
            #expect(try w.store.counts().batches == 0)
            let (counsellor, _) = try await Browser.login(client, "counsellor-p01")
            let wrongRole = try await counsellor.upload(client, file: TestSupport.fixture("vision/bad-values.csv"), name: "x.csv", kind: "vision")
            #expect(wrongRole.status == .forbidden)
            let binary = try await nurse.upload(client, file: TestSupport.fixture("vision/binary.csv"), name: "book.csv", kind: "vision")
            #expect(binary.status == .unprocessableContent)
            #expect(try w.store.counts().batches == 0)
            // No spooled file is left behind.
            let left = try FileManager.default.contentsOfDirectory(atPath: w.dir + "/work").filter { $0.hasSuffix(".upload") }
            #expect(left.isEmpty)
            // A server started again removes what an earlier run left (its results were in memory; the files hold students' data).
            for name in ["old.upload", "old.rejects.csv", "notes.txt"] { try "x".write(toFile: w.dir + "/work/" + name, atomically: true, encoding: .utf8) }
            _ = try WebApp(services: w.services, options: ServerOptions(workDirectory: w.dir + "/work"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir + "/work").sorted() == ["notes.txt"])
        }
    }
}

@Suite("Web: the mapping step for a layout SchoolHealth does not know")
struct MappingTests {
    @Test("An unknown layout is held for mapping; an incomplete mapping saves nothing; a complete one becomes the school's profile and imports")
    func mapping() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            let file = TestSupport.fixture("vision/unknown-layout.csv")
            let r = try await nurse.upload(client, file: file, name: "区平台导出.csv", kind: "vision")
            let location = r.headers[.location] ?? ""
            let page = String(buffer: try await nurse.get(client, location).body)
            // The head as read (title line 1, header line 2), the unread columns with a choice, the first row's values.
            #expect(page.contains("id=\"mapping\"") && page.contains("标题行：1；表头行：2"), "\(page)")
            #expect(page.contains("<select name=\"col-8\"") && page.contains("<td>OD裸眼</td><td class=\"muted\">5.0</td>"))
            #expect(page.contains("右眼裸眼视力") && page.contains("（不读取）"))
            #expect(try w.store.counts().batches == 0)
            // Without the token, or from another school's nurse: refused, nothing saved.
            #expect(try await nurse.post(client, location + "/mapping", form: [("col-8", "ucva_right")], csrf: false).status == .forbidden)
            let (other, _) = try await Browser.login(client, "nurse-p02")
            #expect(try await other.post(client, location + "/mapping", form: [("col-8", "ucva_right"), ("col-9", "ucva_left")]).status == .notFound)
            // One required field left without a column: said so, nothing saved, the upload still waits.
            let partial = try await nurse.post(client, location + "/mapping", form: [("col-8", "ucva_right"), ("col-9", "")])
            #expect(partial.status == .seeOther)
            let again = String(buffer: try await nurse.get(client, location).body)
            #expect(again.contains("id=\"mapping-error\"") && again.contains("仍没有对应的列：左眼裸眼视力"), "\(again)")
            #expect(try w.store.schoolProfiles(school: "SH-P01").isEmpty)
            // Two columns for one field: refused.
            _ = try await nurse.post(client, location + "/mapping", form: [("col-8", "ucva_right"), ("col-9", "ucva_right")])
            #expect(String(buffer: try await nurse.get(client, location).body).contains("id=\"mapping-error\""))
            #expect(try w.store.schoolProfiles(school: "SH-P01").isEmpty)
            // Complete: saved as the school's profile and imported (the row with "x" is rejected with its reason).
            _ = try await nurse.post(client, location + "/mapping", form: [("col-8", "ucva_right"), ("col-9", "ucva_left"), ("col-10", "sphere_right"), ("col-11", "sphere_left")])
            let done = String(buffer: try await nurse.get(client, location).body)
            #expect(done.contains("已导入，批次号") && !done.contains("id=\"mapping\""), "\(done)")
            #expect(done.contains("<dt>新增</dt><dd>2</dd>") && done.contains("<dt>识别的格式</dt><dd>school-SH-P01-vision-1</dd>"), "\(done)")
            // The rejected value's reason in Chinese, values kept (the range comes from the rules).
            #expect(done.contains("<td>OS裸眼</td><td>x</td><td>不是视力值：请用 五分记录 "), "\(done)")
            let rejectsCSV = String(buffer: try await nurse.get(client, location + "/rejects.csv").body)
            #expect(rejectsCSV.hasPrefix("\u{FEFF}文件,行号,列,值,退回原因\r\n") && rejectsCSV.contains("OS裸眼,x,不是视力值"), "\(rejectsCSV)")
            let saved = try w.store.schoolProfiles(school: "SH-P01")
            #expect(saved.map(\.name) == ["school-SH-P01-vision-1"] && saved[0].savedBy == "nurse-p01")
            #expect(saved[0].yaml.contains("signature: [\"OD裸眼\", \"OS裸眼\", \"OD球镜\", \"OS球镜\"]"), "\(saved[0].yaml)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir + "/work").filter { $0.hasSuffix(".upload") }.isEmpty)
            // The school's next file of that layout imports at once; another school's nurse still maps her own.
            let next = w.dir + "/next.csv"
            try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "2024-09-12", with: "2025-03-12").write(toFile: next, atomically: true, encoding: .utf8)
            let second = try await nurse.upload(client, file: next, name: "春季.csv", kind: "vision")
            let secondPage = String(buffer: try await nurse.get(client, second.headers[.location] ?? "").body)
            #expect(secondPage.contains("已导入，批次号") && secondPage.contains("school-SH-P01-vision-1"), "\(secondPage)")
            let theirFile = w.dir + "/theirs.csv"
            try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "SH-P01", with: "SH-P02").write(toFile: theirFile, atomically: true, encoding: .utf8)
            let theirs = try await other.upload(client, file: theirFile, name: "x.csv", kind: "vision")
            #expect(String(buffer: try await other.get(client, theirs.headers[.location] ?? "").body).contains("id=\"mapping\""))
            // The command line's import for the school (--school) reads that layout with the school's profile too.
            let third = w.dir + "/third.csv"
            try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "2024-09-12", with: "2025-09-12").write(toFile: third, atomically: true, encoding: .utf8)
            var options = ImportOptions()
            options.school = "SH-P01"
            let cli = try await w.services.imports.importFile(path: third, ImportRequest(kind: .vision, options: options), rejects: RejectionList())
            #expect(cli.status == .imported && cli.profile == "school-SH-P01-vision-1")
        }
    }
}

@Suite("Web: the health office, the queue, the administrator, the API")
struct ScopeTests {
    /// SH-P01's screenings, uploaded by its nurse.
    func seed(_ client: some TestClientProtocol) async throws {
        let (nurse, _) = try await Browser.login(client, "nurse-p01")
        let r = try await nurse.upload(client, file: TestSupport.fixture("vision/english-decimal.csv"), name: "v.csv", kind: "vision")
        #expect(r.status == .seeOther)
    }

    @Test("Dashboard and downloads for the health office; never a student identity; the hospital and the administrator are refused")
    func dashboard() async throws {
        let w = try WebWorld()
        try await w.test { client in
            try await seed(client)
            let (office, _) = try await Browser.login(client, "office")
            let d = try await office.get(client, "/dashboard")
            let page = String(buffer: d.body)
            #expect(d.status == .ok)
            #expect(page.contains("筛查性近视率") && page.contains("目标完成情况") && page.contains("心理危机个案数"))
            #expect(!page.contains("G99000000000000001"), "no student ID on the dashboard")
            let csv = try await office.get(client, "/reports/trends.csv?by=grade")
            #expect(csv.status == .ok && (csv.headers[.contentType] ?? "").hasPrefix("text/csv"))
            let html = try await office.get(client, "/reports/trends.html")
            #expect((html.headers[.contentSecurityPolicy] ?? "").contains("frame-ancestors 'none'"))
            // The HTML report in the reader's language: Chinese by default, English after the switch.
            let zh = String(buffer: html.body)
            #expect(zh.contains("<html lang=\"zh-CN\">") && zh.contains("学年全县概况") && zh.contains("<h2>数据表</h2>") && zh.contains("分子、分母或分母减分子小于"), "\(zh.prefix(3000))")
            #expect(!zh.contains("County summary") && !zh.contains("<th>area</th>"))
            _ = try await client.execute(uri: "/lang/en", method: .get, headers: [.cookie: office.cookie])
            let en = String(buffer: try await office.get(client, "/reports/trends.html").body)
            #expect(en.contains("<html lang=\"en\">") && en.contains("County summary") && en.contains("<th>area</th>"), "\(en.prefix(2000))")
            _ = try await client.execute(uri: "/lang/zh-Hans", method: .get, headers: [.cookie: office.cookie])
            let json = try await office.get(client, "/api/report?from=2024&to=2024")
            #expect(json.status == .ok && String(buffer: json.body).contains("\"cells\""))
            #expect(try await office.get(client, "/queue").status == .forbidden)
            #expect(try await office.get(client, "/dashboard?from=abc").status == .badRequest)
            let (hospital, _) = try await Browser.login(client, "hospital")
            #expect(try await hospital.get(client, "/dashboard").status == .forbidden)
            let (admin, _) = try await Browser.login(client, "admin")
            #expect(try await admin.get(client, "/dashboard").status == .forbidden)
            #expect(try await admin.get(client, "/queue").status == .forbidden)
        }
    }

    @Test("Queue and case: a flag, the case page, another school's counsellor sees nothing, consent is asked for with a hint, CSRF checked")
    func cases() async throws {
        let w = try WebWorld()
        try await w.test { client in
            try await seed(client)
            let (counsellor, _) = try await Browser.login(client, "counsellor-p01")
            let flag = try await counsellor.post(client, "/flag", form: [("student", "G99000000000000001"), ("tier", "red"), ("kind", "disclosure"), ("reason", "<b>自述</b>")])
            #expect(flag.status == .seeOther)
            let casePath = flag.headers[.location] ?? ""
            #expect(casePath.hasPrefix("/cases/"))
            let page = String(buffer: try await counsellor.get(client, casePath).body)
            #expect(page.contains("G99000000000000001") && page.contains("&lt;b&gt;自述&lt;/b&gt;") && !page.contains("<b>自述</b>"))
            #expect(String(buffer: try await counsellor.get(client, "/queue").body).contains(casePath))
            // Another school's counsellor: as if it did not exist.
            let (other, _) = try await Browser.login(client, "counsellor-p02")
            let foreign = try await other.get(client, casePath)
            #expect(foreign.status == .notFound)
            #expect(String(buffer: try await other.get(client, "/cases/999999").body) == String(buffer: foreign.body).replacingOccurrences(of: other.csrf, with: other.csrf))
            // A student of another school cannot be flagged by SH-P02's counsellor.
            #expect(try await other.post(client, "/flag", form: [("student", "G99000000000000001"), ("tier", "red"), ("reason", "x")]).status == .notFound)
            // Hand-off without consent: refused on the case page, with what to do.
            let refused = try await counsellor.post(client, casePath, form: [("to", "referred_to_centre"), ("note", "转介"), ("consent", "not-asked")])
            #expect(refused.status == .conflict)
            let refusedPage = String(buffer: refused.body)
            #expect(refusedPage.contains("需要记录监护人同意") && refusedPage.contains("在“监护人同意”中选择“同意”"))
            // Without the token: refused, nothing changed.
            #expect(try await counsellor.post(client, casePath, form: [("to", "assessed"), ("consent", "not-asked")], csrf: false).status == .forbidden)
            let ok = try await counsellor.post(client, casePath, form: [("to", "referred_to_centre"), ("note", "转介"), ("guardianInformed", "yes"), ("consent", "given")])
            #expect(ok.status == .ok)
            #expect(String(buffer: ok.body).contains("个案已更新为：已转介县中心"))
            let (centre, _) = try await Browser.login(client, "centre")
            #expect(try await centre.get(client, casePath).status == .ok)
            // The nurse reads no case.
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            #expect(try await nurse.get(client, casePath).status == .forbidden)
            // Every look was logged.
            let reads = try w.store.debugRows("SELECT COUNT(*) FROM audit_event WHERE action IN ('read', 'denied read')")[0][0].flatMap { Int($0) } ?? 0
            #expect(reads >= 4)
        }
    }

    @Test("Administrator: the backups page shows the last good backup and takes one on request; nobody else sees it")
    func backups() async throws {
        let w = try WebWorld(backups: true)
        try await w.test { client in
            let (admin, _) = try await Browser.login(client, "admin")
            let empty = String(buffer: try await admin.get(client, "/backups").body)
            #expect(empty.contains("还没有通过校验的备份") && empty.contains("立即备份"), "\(empty)")
            // A backup that crashed long ago left a .partial folder: retention removes it; one under way is left.
            let stale = w.dir + "/backups/schoolhealth-20200101T000000Z.partial", current = w.dir + "/backups/" + Backups.folderName(at: Date().addingTimeInterval(-300)) + ".partial"
            for folder in [stale, current] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let taken = try await admin.post(client, "/backups", form: [])
            let body = String(buffer: taken.body)
            #expect(taken.status == .ok && body.contains("已备份并校验") && body.contains("最近一次有效备份"), "\(body)")
            #expect(BackupService.lastGood(w.dir + "/backups") != nil)
            #expect(!FileManager.default.fileExists(atPath: stale) && FileManager.default.fileExists(atPath: current))
            // The administrator's backup is in the live audit log under the administrator's account.
            #expect(try w.store.debugRows("SELECT actor_user FROM audit_event WHERE action = 'backup'").first?.first == "admin")
            #expect(try await admin.post(client, "/backups", form: [], csrf: false).status == .forbidden)
            let (office, _) = try await Browser.login(client, "office")
            #expect(try await office.get(client, "/backups").status == .forbidden)
            #expect(try await office.post(client, "/backups", form: []).status == .forbidden)
        }
        // Without --backup-dir the page says how to set it.
        let plain = try WebWorld()
        try await plain.test { client in
            let (admin, _) = try await Browser.login(client, "admin")
            #expect(String(buffer: try await admin.get(client, "/backups").body).contains("--backup-dir"))
        }
    }

    @Test("Administrator: accounts listed, added, given a token; nobody else manages them")
    func accounts() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let (admin, _) = try await Browser.login(client, "admin")
            let list = String(buffer: try await admin.get(client, "/accounts").body)
            #expect(list.contains("nurse-p01") && list.contains("校医") == false || list.contains("nurse-p01"))
            let added = try await admin.post(client, "/accounts", form: [("action", "add"), ("login", "nurse-p03"), ("name", "三小校医"), ("role", "nurse"), ("org", "SH-P03"), ("password", "a long enough pw")])
            #expect(added.status == .ok && String(buffer: added.body).contains("已新增账号 nurse-p03"))
            let token = try await admin.post(client, "/accounts", form: [("action", "token"), ("login", "nurse-p03")])
            #expect(String(buffer: token.body).contains("sht_"))
            let weak = try await admin.post(client, "/accounts", form: [("action", "add"), ("login", "nurse-p04"), ("name", "x"), ("role", "nurse"), ("org", "SH-P04"), ("password", "short")])
            #expect(weak.status == .unprocessableContent)
            let (nurse, _) = try await Browser.login(client, "nurse-p01")
            #expect(try await nurse.get(client, "/accounts").status == .forbidden)
            #expect(try await nurse.post(client, "/accounts", form: [("action", "disable"), ("login", "admin")]).status == .forbidden)
            // A password reset: too short is refused; a good one ends her session, the old password no longer works.
            #expect(try await admin.post(client, "/accounts", form: [("action", "reset"), ("login", "nurse-p01"), ("password", "short")]).status == .unprocessableContent)
            let reset = try await admin.post(client, "/accounts", form: [("action", "reset"), ("login", "nurse-p01"), ("password", "a new long password")])
            #expect(reset.status == .ok && String(buffer: reset.body).contains("已为 nurse-p01 设置新密码"))
            #expect(try await nurse.get(client, "/upload").status == .seeOther)
            #expect(try await Browser.login(client, "nurse-p01").0.cookie.isEmpty)
            #expect(try await !Browser.login(client, "nurse-p01", password: "a new long password").0.cookie.isEmpty)
        }
    }

    @Test("API: tokens for scripts, sessions need the CSRF header to change anything, problems carry code and remedy")
    func api() async throws {
        let w = try WebWorld()
        try await w.test { client in
            try await seed(client)
            let bearer: HTTPFields = [.authorization: "Bearer \(w.tokens["counsellor-p01"]!)"]
            let me = try await client.execute(uri: "/api/me", method: .get, headers: bearer)
            #expect(String(buffer: me.body).contains("\"role\":\"counsellor\""))
            let flag = try await w.services.referrals.raiseFlag(actor: try w.store.authenticate(token: w.tokens["counsellor-p01"]!), student: "G99000000000000001",
                                                                 className: nil, tier: .red, kind: "observation", reason: "api")
            let refused = try await client.execute(uri: "/api/cases/\(flag)/advance", method: .post, headers: [.authorization: "Bearer \(w.tokens["counsellor-p01"]!)", .contentType: "application/json"],
                                                   body: ByteBuffer(string: #"{"to":"referred_to_centre","consent":"not-asked"}"#))
            #expect(refused.status == .conflict)
            let problem = String(buffer: refused.body)
            #expect(problem.contains("\"code\":\"conflict\"") && problem.contains("\"name\":\"consent\"") && problem.contains("\"value\":\"given\""))
            let bad = try await client.execute(uri: "/api/cases/\(flag)/advance", method: .post, headers: bearer, body: ByteBuffer(string: "not json"))
            #expect(bad.status == .unprocessableContent)
            let (counsellor, _) = try await Browser.login(client, "counsellor-p01")
            let noHeader = try await client.execute(uri: "/api/cases/\(flag)/advance", method: .post, headers: [.cookie: counsellor.cookie, .contentType: "application/json"],
                                                    body: ByteBuffer(string: #"{"to":"assessed"}"#))
            #expect(noHeader.status == .forbidden)
            let withHeader = try await client.execute(uri: "/api/cases/\(flag)/advance", method: .post,
                                                      headers: [.cookie: counsellor.cookie, .contentType: "application/json", .csrfToken: counsellor.csrf],
                                                      body: ByteBuffer(string: #"{"to":"assessed","note":"评估"}"#))
            #expect(withHeader.status == .ok)
            #expect(try await client.execute(uri: "/api/queue", method: .get, headers: [.authorization: "Bearer sht_1_00"]).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/cases/\(flag)", method: .get, headers: [.authorization: "Bearer \(w.tokens["counsellor-p02"]!)"]).status == .notFound)
            #expect(try await client.execute(uri: "/api/counts", method: .get, headers: [.authorization: "Bearer \(w.tokens["office"]!)"]).status == .ok)
            #expect(try await client.execute(uri: "/api/queue", method: .get, headers: [.authorization: "Bearer \(w.tokens["office"]!)"]).status == .forbidden)
            // A parameter the page's parser refuses is the request's fault (the fuzz found this one a 500).
            let badYear = try await client.execute(uri: "/api/report?to=null&to=null", method: .get, headers: [.authorization: "Bearer \(w.tokens["office"]!)"])
            #expect(badYear.status == .unprocessableContent && String(buffer: badYear.body).contains("\"code\":\"invalid\""), "\(String(buffer: badYear.body))")
        }
    }

    @Test("API uploads: the CSV as the body, the result and the mapping step as JSON, only the nurse's own; a refused file is 422, never 500")
    func apiUploads() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let nurse: HTTPFields = [.authorization: "Bearer \(w.tokens["nurse-p01"]!)", .contentType: "text/csv"]
            let body = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("vision/unknown-layout.csv"))))
            let held = try await client.execute(uri: "/api/uploads?kind=vision&name=%E5%8C%BA.csv", method: .post, headers: nurse, body: body)
            #expect(held.status == .unprocessableContent)
            let first = try JSONSerialization.jsonObject(with: Data(held.body.readableBytesView)) as! [String: Any]
            let id = first["id"] as! String
            let mapping = first["mapping"] as! [String: Any]
            #expect((mapping["missing"] as! [String]).sorted() == ["ucva_left", "ucva_right"])
            // Another account cannot read it or map it.
            let other: HTTPFields = [.authorization: "Bearer \(w.tokens["nurse-p02"]!)", .contentType: "application/json"]
            #expect(try await client.execute(uri: "/api/uploads/\(id)", method: .get, headers: other).status == .notFound)
            let choices = ByteBuffer(string: #"{"choices":{"8":"ucva_right","9":"ucva_left"}}"#)
            #expect(try await client.execute(uri: "/api/uploads/\(id)/mapping", method: .post, headers: other, body: choices).status == .notFound)
            let json: HTTPFields = [.authorization: "Bearer \(w.tokens["nurse-p01"]!)", .contentType: "application/json"]
            #expect(try await client.execute(uri: "/api/uploads/\(id)/mapping", method: .post, headers: json, body: ByteBuffer(string: "[]")).status == .unprocessableContent)
            let mapped = try await client.execute(uri: "/api/uploads/\(id)/mapping", method: .post, headers: json, body: choices)
            #expect(mapped.status == .ok)
            let result = try JSONSerialization.jsonObject(with: Data(mapped.body.readableBytesView)) as! [String: Any]
            let report = result["report"] as! [String: Any]
            #expect(report["status"] as? String == "imported" && report["profile"] as? String == "school-SH-P01-vision-1" && result["mapping"] == nil)
            let rejection = (result["rejections"] as! [[String: Any]]).first!
            #expect(rejection["column"] as? String == "OS裸眼" && (rejection["reason"] as! String).hasPrefix("不是视力值"))
            let csv = try await client.execute(uri: "/api/uploads/\(id)/rejects.csv", method: .get, headers: json)
            #expect(csv.status == .ok && String(buffer: csv.body).contains("退回原因"))
            // Mapping again: nothing waits any more.
            #expect(try await client.execute(uri: "/api/uploads/\(id)/mapping", method: .post, headers: json, body: choices).status == .conflict)
            // Bad parameters, another role, garbage as the file.
            #expect(try await client.execute(uri: "/api/uploads?kind=teeth", method: .post, headers: nurse, body: body).status == .unprocessableContent)
            #expect(try await client.execute(uri: "/api/uploads?kind=vision&schoolYear=12", method: .post, headers: nurse, body: body).status == .unprocessableContent)
            let office: HTTPFields = [.authorization: "Bearer \(w.tokens["office"]!)", .contentType: "text/csv"]
            #expect(try await client.execute(uri: "/api/uploads?kind=vision", method: .post, headers: office, body: body).status == .forbidden)
            let garbage = try await client.execute(uri: "/api/uploads?kind=fitness", method: .post, headers: nurse, body: ByteBuffer(bytes: [0, 1, 2, 0xFF, 0xFE, 10, 44, 44]))
            #expect(garbage.status == .unprocessableContent, "\(String(buffer: garbage.body))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir + "/work").filter { $0.hasSuffix(".upload") }.isEmpty)
        }
    }

    @Test("The OpenAPI document describes exactly the API's routes, and each documented route answers (not 404) for some account")
    func openAPI() async throws {
        let w = try WebWorld()
        try await w.test { client in
            let doc = try await client.execute(uri: "/api/openapi.json", method: .get)
            let json = try JSONSerialization.jsonObject(with: Data(doc.body.readableBytesView)) as! [String: Any]
            let paths = json["paths"] as! [String: [String: Any]]
            let documented = Set(paths.flatMap { p, ops in ops.keys.map { "\($0.uppercased()) \(p)" } })
            let routed = Set(API.endpoints.map { "\($0.method.rawValue) \($0.path)" })
            #expect(documented == routed)
            for e in API.endpoints where e.method == .get {
                let uri = e.path.replacingOccurrences(of: "{id}", with: "1")
                var answered = false
                for login in ["admin", "office", "counsellor-p01", "nurse-p01"] {
                    let r = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(w.tokens[login]!)"])
                    // The route exists: it answers OK, or a problem of its own (a JSON body with a code), never the router's 404.
                    answered = answered || r.status == .ok || String(buffer: r.body).contains("\"code\"")
                }
                #expect(answered, "\(uri)")
            }
        }
    }
}

@Suite("Messages")
struct MessageTests {
    @Test("Both catalogues have the same keys and the same placeholders; LANG picks the CLI's language")
    func catalogues() throws {
        let c = try MessageCatalogue.load(configDirectory: TestSupport.configDirectory)
        #expect(c.keys(.zh) == c.keys(.en))
        let placeholder = /\{[a-zA-Z]+\}/
        for key in c.keys(.zh) {
            let zh = Set(c.text(key, in: .zh).matches(of: placeholder).map { String($0.output) })
            let en = Set(c.text(key, in: .en).matches(of: placeholder).map { String($0.output) })
            #expect(zh == en, "\(key)")
        }
        #expect(Language.fromEnvironment(["LANG": "zh_CN.UTF-8"]) == .zh)
        #expect(Language.fromEnvironment(["LANG": "en_US.UTF-8"]) == .en)
        #expect(Language.fromEnvironment(["LC_ALL": "zh_TW.UTF-8", "LANG": "C"]) == .zh)
        #expect(Language.fromEnvironment([:]) == .en)
    }

    @Test("Every key the pages use is in the catalogue, those built from a role, state, tier or consent included")
    func keysUsed() throws {
        let c = try MessageCatalogue.load(configDirectory: TestSupport.configDirectory)
        let findingIDs = try SchoolHealthConfig.load(directory: TestSupport.configDirectory).followUp.findings.map(\.id)
        let dir = TestSupport.repositoryRoot.appendingPathComponent("Sources/HealthServer").path
        var missing: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            for m in text.matches(of: /t\("([a-z]+\.[a-zA-Z.,-]+)"/) where !m.output.1.hasSuffix(".") {
                if !c.keys(.zh).contains(String(m.output.1)) { missing.append("\(file): \(m.output.1)") }
            }
        }
        // Keys the pages build from a value: every role, state, tier and consent has its words.
        let built = Role.allCases.map { "role." + $0.rawValue } + CaseState.allCases.map { "state." + $0.rawValue }
            + Tier.allCases.map { "tier." + $0.rawValue } + ["given", "refused", "not-asked"].map { "consent." + $0 }
            + ClinicOutcome.allCases.map { "outcome." + $0.rawValue } + findingIDs.map { "finding." + $0 }
        missing += built.filter { !c.keys(.zh).contains($0) || !c.keys(.en).contains($0) }
        #expect(missing.isEmpty, "\(missing)")
    }

    @Test("Every reason the importers write has its Chinese, with the same values; a value the catalogue knows is said too")
    func reasons() throws {
        let c = try MessageCatalogue.load(configDirectory: TestSupport.configDirectory)
        let dir = TestSupport.repositoryRoot.appendingPathComponent("Sources/HealthIngest").path
        var templates: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where file.hasSuffix(".swift") {
            templates += ReasonScanner.templates(in: try String(contentsOfFile: dir + "/" + file, encoding: .utf8), returns: file == "IngestError.swift")
        }
        // The national upload's reasons for leaving a student out.
        templates += ReasonScanner.templates(in: try String(contentsOfFile: TestSupport.repositoryRoot.appendingPathComponent("Sources/HealthCore/NationalRowProblem.swift").path,
                                                            encoding: .utf8), returns: true)
        let analytics = TestSupport.repositoryRoot.appendingPathComponent("Sources/HealthAnalytics").path
        for file in ["ReportHTML.swift", "ReportRendering.swift"] {
            templates += ReasonScanner.templates(in: try String(contentsOfFile: analytics + "/" + file, encoding: .utf8), report: true)
        }
        #expect(templates.count > 80)
        for template in Set(templates) where !c.hasReason(template, in: .zh) { Issue.record("no Chinese for: \(template)") }
        // Every translation keeps the template's placeholders (and the file holds nothing stale).
        let placeholder = /\{[0-9]+\}/
        for template in c.reasonTemplates(.zh) {
            let zh = Set(c.reason(ReasonText(template: template, arguments: []), in: .zh).matches(of: placeholder).map { String($0.output) })
            #expect(zh == Set(template.matches(of: placeholder).map { String($0.output) }), "\(template)")
        }
        let words: Set<String> = ["5-point {0}–{1} or decimal {2}–{3}", "sphere", "cylinder", "s", "PHQ-9 total", "PHQ-9 item-9 score", "PHQ-9 item score",
                                  "GAD-7 total", "MHT total", "MHT validity score", "SCL-90 total", "count of positive items", "SDQ total difficulties",
                                  "run_1000m", "run_800m", "pull_up", "sit_up_1min", "red", "orange", "yellow",
                                  "{0} (accepted headers: {1})",
                                  // The report's table headings and target statuses, said as values:
                                  "target", "area", "year", "status", "value", "gap", "change", "pp", "95 % CI", "years", "at risk", "followed",
                                  "incident", "rate", "lost", "met", "not met", "not measurable", "stratum", "difference (pp)",
                                  "trend (Cochran–Armitage)", "lost to follow-up", "grade {0}, boys", "grade {0}, girls", "grade {0}", "boys", "girls",
                                  // The screening loop's words, put into templates and the report's follow-up table:
                                  "vision notice", "spine notice", "vision result", "spine result", "vision follow-up", "spine follow-up",
                                  "kind", "returned", "median days",
                                  // The national upload's eyes:
                                  "right", "left", "right and left",
                                  // …and its several reasons for one student, joined:
                                  "{0}; {1}", "{0}; {1}; {2}", "{0}; {1}; {2}; {3}"]
        #expect(c.reasonTemplates(.zh).subtracting(templates).subtracting(words).isEmpty, "stale: \(c.reasonTemplates(.zh).subtracting(templates).subtracting(words))")
        // Rendering: the template's values in their places, a known value translated in its turn, English untouched.
        let width = 40, limit = 32
        let r: ReasonText = "is \(width) characters long; a student ID has at most 32"
        #expect(c.reason(r, in: .zh) == "长 40 个字符；学籍号最多 32 个字符" && c.reason(r, in: .en) == r.text && limit == 32)
        let range: ReasonText = "is outside the \("sphere") range a refractometer measures (\(-20.0) to \(20.0) D)"
        #expect(c.reason(range, in: .zh) == "超出电脑验光仪可测的球镜范围（-20.0 至 20.0 D）")
        #expect(ReasonText(value: "{0} literally").text == "{0} literally")
    }

    @Test("HTML escaping: markup, quotes and control characters")
    func escaping() {
        let value = "<script>alert('x')</script>\"&\u{1B}[31m\u{202E}"
        let html: HTML = "<td>\(value)</td>"
        #expect(html.text == "<td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;\u{FFFD}[31m\u{FFFD}</td>")
    }
}

/// Finds the reasons the importers write: the string literals given as `reason:` (both sides of a `? :`) and the
/// `ReasonText` constants, each as its template (`\(…)` → `{0}`, `{1}` …).
enum ReasonScanner {
    /// `returns`: also every literal a `return` gives (IngestError's explanations).
    /// `report`: the trend report's words instead (`w("…")` and the explained notice).
    static func templates(in source: String, returns: Bool = false, report: Bool = false) -> [String] {
        let s = Array(source)
        var found: [String] = []
        // `reason:` arguments, ReasonText constants and results, and the warnings (`warn(`, `notes.append(`, `w.append(`).
        let returned = #/\breturn\s+(?=")/#
        let given = #/reason:\s*|: ReasonText\??\s*=\s*|-> ReasonText in\s*|-> \[ReasonText\] in\s*|ReasonText\? \{\s*|\.warn\(|\bnotes\.append\(|\bw\.append\(|\bexample:\s*/#
        let spoken = #/[ (]w\(|explainedNotice: ReasonText \{\s*/#
        let starts = report ? source.ranges(of: spoken) : returns ? source.ranges(of: returned) : source.ranges(of: given)
        for range in starts {
            let at = source.distance(from: source.startIndex, to: range.lowerBound)
            // IngestError's own reasons (whole-file refusals, configuration) are not row reasons.
            let lineStart = s[..<at].lastIndex(of: "\n").map { $0 + 1 } ?? 0
            let line = String(s[lineStart..<at])
            if !returns, line.contains(/badConfig\(/) { continue }
            var i = source.distance(from: source.startIndex, to: range.upperBound)
            // A row problem's column name is not a reason; its `reason:` is found on its own.
            if source[range.upperBound...].hasPrefix("RowProblem(") { continue }
            var depth = 0
            while i < s.count {
                let ch = s[i]
                if ch == "\"" {
                    var template = "", n = 0
                    i += 1
                    while i < s.count, s[i] != "\"" {
                        if s[i] == "\\", i + 1 < s.count, s[i + 1] == "(" {
                            var d = 1
                            i += 2
                            while i < s.count, d > 0 {
                                if s[i] == "(" { d += 1 } else if s[i] == ")" { d -= 1 } else if s[i] == "\"" {
                                    i += 1
                                    while i < s.count, s[i] != "\"" { if s[i] == "\\" { i += 1 }; i += 1 }
                                }
                                i += 1
                            }
                            template += "{\(n)}"; n += 1
                            continue
                        }
                        if s[i] == "\\", i + 1 < s.count {
                            template.append(["n": "\n", "t": "\t"][s[i + 1]] ?? s[i + 1])
                            i += 2
                            continue
                        }
                        template += s[i] == "{" ? "{{" : s[i] == "}" ? "}}" : String(s[i])
                        i += 1
                    }
                    found.append(template)
                    i += 1
                    continue
                }
                if ch == "(" || ch == "[" { depth += 1 }
                if ch == ")" || ch == "]" { depth -= 1; if depth < 0 { break } }
                if ch == ",", depth == 0 { break }
                if ch == "\n", depth == 0 {
                    let before = String(s[max(0, i - 200)..<i]).trimmingCharacters(in: .whitespaces)
                    let after = String(s[(i + 1)...].prefix(200)).trimmingCharacters(in: .whitespaces)
                    if !(before.hasSuffix("?") || before.hasSuffix(":") || before.hasSuffix("+") || before.hasSuffix("(")
                         || after.hasPrefix("?") || after.hasPrefix(":") || after.hasPrefix("+")) { break }
                }
                i += 1
            }
        }
        return found
    }
}
