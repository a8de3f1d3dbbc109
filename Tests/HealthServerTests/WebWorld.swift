import Foundation
import HealthCore
import HealthRisk
@testable import HealthServer
import HealthServices
import HealthStore
import HealthTestSupport
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Synchronization

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
}

/// A database with one account of every role (password "correct horse battery"), the services and the web app.
struct WebWorld {
    static let password = "correct horse battery"
    let dir: String
    let store: Store
    let services: SchoolHealthServices
    let app: WebApp
    let clock = TestClock()
    /// Tokens by login.
    var tokens: [String: String] = [:]

    init(loginLimit: Int = 5, backups: Bool = false) throws {
        dir = TestSupport.temporaryDirectory("web")
        store = try Store.open(path: dir + "/web.sqlite")
        let first = try store.createFirstAdministrator(login: "admin", name: "管理员", password: Self.password, issueToken: true)
        tokens["admin"] = first.token
        let admin = try store.authenticate(token: first.token!)
        for (login, role, org) in [("nurse-p01", Role.nurse, "SH-P01"), ("nurse-p02", .nurse, "SH-P02"), ("counsellor-p01", .counsellor, "SH-P01"),
                                   ("counsellor-p02", .counsellor, "SH-P02"), ("office", .healthOffice, "bureau"), ("centre", .centre, "county-centre"),
                                   ("hospital", .hospital, "county-hospital")] {
            tokens[login] = try store.addAccount(by: admin, login: login, name: "\(login) 名", role: role, organisation: org, password: Self.password, issueToken: true).token
        }
        let clock = self.clock
        services = try SchoolHealthServices(store: store, configDirectory: TestSupport.configDirectory, now: { clock.now() })
        var options = ServerOptions(workDirectory: dir + "/work")
        options.loginLimit = loginLimit
        if backups { options.backupDirectory = dir + "/backups" }
        app = try WebApp(services: services, options: options)
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await app.application().test(.router, body)
    }
}

/// A browser's view of one signed-in person: the session cookie and the page's CSRF token.
struct Browser: Sendable {
    var cookie = ""
    var csrf = ""

    static func cookies(_ response: TestResponse) -> [String: String] {
        var out: [String: String] = [:]
        for value in response.headers[values: .setCookie] {
            let first = value.split(separator: ";")[0]
            let kv = first.split(separator: "=", maxSplits: 1).map(String.init)
            out[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        return out
    }

    static func hidden(_ name: String, in body: String) -> String? {
        guard let r = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(body[r.upperBound...].prefix { $0 != "\"" })
    }

    /// Logs in through the form; returns the browser and the login response.
    static func login(_ client: some TestClientProtocol, _ login: String, password: String = WebWorld.password) async throws -> (Browser, TestResponse) {
        let page = try await client.execute(uri: "/login", method: .get)
        let loginCSRF = cookies(page)["login_csrf"] ?? ""
        let token = hidden("csrf", in: String(buffer: page.body)) ?? ""
        let body = "login=\(login)&password=\(password.replacingOccurrences(of: " ", with: "+"))&csrf=\(token)"
        let response = try await client.execute(uri: "/login", method: .post,
                                                headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "login_csrf=\(loginCSRF)"],
                                                body: ByteBuffer(string: body))
        var browser = Browser()
        if let sid = cookies(response)["sid"] {
            browser.cookie = "sid=\(sid)"
            let home = try await client.execute(uri: "/batches", method: .get, headers: [.cookie: browser.cookie])
            browser.csrf = hidden("csrf", in: String(buffer: home.body)) ?? ""
            if browser.csrf.isEmpty {
                let other = try await client.execute(uri: "/queue", method: .get, headers: [.cookie: browser.cookie])
                browser.csrf = hidden("csrf", in: String(buffer: other.body)) ?? ""
            }
            if browser.csrf.isEmpty {
                let other = try await client.execute(uri: "/accounts", method: .get, headers: [.cookie: browser.cookie])
                browser.csrf = hidden("csrf", in: String(buffer: other.body)) ?? ""
            }
        }
        return (browser, response)
    }

    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }

    func post(_ client: some TestClientProtocol, _ uri: String, form: [(String, String)], csrf include: Bool = true) async throws -> TestResponse {
        var fields = form
        if include { fields.append(("csrf", csrf)) }
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookie],
                                        body: ByteBuffer(string: body))
    }

    /// A multipart upload as a browser sends it: the fields in form order, then the file.
    func upload(_ client: some TestClientProtocol, file: String, name: String, kind: String, fields: [(String, String)] = [], csrf include: Bool = true) async throws -> TestResponse {
        let boundary = "----shtest\(UInt32.random(in: 0...UInt32.max))"
        var body = ByteBuffer()
        var all: [(String, String)] = include ? [("csrf", csrf)] : []
        all += [("kind", kind)] + fields
        for (k, v) in all { body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n") }
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: text/csv\r\n\r\n")
        body.writeBytes(try Data(contentsOf: URL(fileURLWithPath: file)))
        body.writeString("\r\n--\(boundary)--\r\n")
        return try await client.execute(uri: "/upload", method: .post, headers: [.contentType: "multipart/form-data; boundary=\(boundary)", .cookie: cookie], body: body)
    }
}
