public import Foundation
public import HealthServices
public import Hummingbird
import HealthAnalytics
import HealthCore
import HealthIngest
import HealthRisk
import HealthStore
import HTTPTypes
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// How the server runs.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Cookies marked Secure and HSTS sent: set when TLS terminates here or at the reverse proxy in front.
    public var secureCookies = false
    /// A session ends after this long without use, and this long after the login in any case.
    public var sessionIdle: TimeInterval = 30 * 60
    public var sessionAbsolute: TimeInterval = 12 * 3600
    /// Failed logins per account and per address before a pause, and the pause.
    public var loginLimit = 5
    public var loginWindow: TimeInterval = 15 * 60
    /// The largest upload, in bytes.
    public var uploadLimit = 200 << 20
    /// Where uploads are spooled and rejects files kept (owner-only).
    public var workDirectory: String
    /// Where the daily backups go (`Config/backup.yaml`); nil: the server takes none.
    public var backupDirectory: String?
    public init(workDirectory: String) { self.workDirectory = workDirectory }
}

/// The web application: pages for the nurse, the health office, the referral roles and the administrator, and
/// a JSON API with the same scopes, every route a few lines over `SchoolHealthServices`.
public struct WebApp: Sendable {
    let services: SchoolHealthServices
    let options: ServerOptions
    let sessions: SessionStore
    let limiter: LoginLimiter
    let uploads: UploadResults
    /// The daily backup, when the server takes backups.
    let backupSchedule: BackupSchedule?

    public init(services: SchoolHealthServices, options: ServerOptions) throws {
        self.services = services
        self.options = options
        sessions = SessionStore(idle: options.sessionIdle, absolute: options.sessionAbsolute)
        limiter = LoginLimiter(limit: options.loginLimit, window: options.loginWindow)
        uploads = UploadResults()
        backupSchedule = options.backupDirectory.map { BackupSchedule(services: services, directory: $0) }
        try FileManager.default.createDirectory(atPath: options.workDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        _ = chmod(options.workDirectory, 0o700)
        // Uploads and rejects files of an earlier run: nothing refers to them any more (the results were in memory),
        // and they hold students' data.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: options.workDirectory)) ?? []
        where name.hasSuffix(".upload") || name.hasSuffix(".rejects.csv") {
            unlink(options.workDirectory + "/" + name)
        }
    }

    /// The application, ready to run or to test (`app.test(.router)`).
    public func application(logger: Logger = Logger(label: "schoolhealth.web"),
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), server: .http1(configuration: .init(idleTimeout: .seconds(60))),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// Runs until SIGTERM or SIGINT; a stalled request cannot hold the shutdown longer than 5 s.
    public func run(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        let group = ServiceGroup(configuration: {
            var running: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: application(logger: logger, onRunning: onRunning))]
            if let backupSchedule { running.append(.init(service: backupSchedule)) }
            var c = ServiceGroupConfiguration(services: running,
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            c.maximumGracefulShutdownDuration = .seconds(5)
            return c
        }())
        try await group.run()
    }

    func router() -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityHeadersMiddleware(secure: options.secureCookies))
        router.add(middleware: SameOriginMiddleware())
        router.add(middleware: SessionMiddleware(app: self))
        Pages(app: self).register(router)
        API(app: self).register(router)
        return router
    }

    // MARK: - Shared by pages and API

    /// What an upload asks for, from the page's form or the API's query: the kind (a screening kind, `roster` or `results`),
    /// the school year and the date where the file has none.
    func importRequest(kind: String, schoolYear: String?, date: String?, _ context: WebContext) throws -> ImportRequest {
        let screening = ScreeningKind(rawValue: kind)
        guard screening != nil || kind == "roster" || kind == "results" else { throw WebError.badRequest(t("upload.kind", [:], context)) }
        var options = ImportOptions()
        if let y = schoolYear, !y.isEmpty {
            guard let year = Int(y), (1990...2099).contains(year) else { throw WebError.badRequest("\(t("upload.schoolYear", [:], context)): \(y)") }
            options.schoolYear = year
        }
        if let d = date, !d.isEmpty {
            guard case .success(let day) = CivilDate.parse(d) else { throw WebError.badRequest("\(t("upload.date", [:], context)): \(d)") }
            options.screeningDate = day
        }
        if kind == "results" { return .clinicResults(options: options) }
        return screening.map { ImportRequest(kind: $0, options: options) } ?? .roster(options: options)
    }

    /// Imports a spooled upload for `actor` and keeps the result for the page and the API. A file refused for want
    /// of columns waits, spooled, for the mapping step; any other is removed.
    func importUpload(_ upload: SpooledUpload, _ request: ImportRequest, kind: String, actor: Actor, _ context: WebContext) async throws -> UploadResults.Entry {
        let outcome: UploadOutcome
        do {
            outcome = try await services.imports.importUpload(upload, request, actor: actor, rejectsDirectory: options.workDirectory, language: context.language)
        } catch {
            upload.remove()
            throw error
        }
        let waits = outcome.mapping != nil
        if !waits { upload.remove() }
        let entry = UploadResults.Entry(account: actor.accountID ?? -1, outcome: outcome, kind: kind, pending: waits ? upload : nil, request: request)
        await uploads.put(upload.id, entry)
        return entry
    }

    /// The mapping step for a waiting upload: the school's profile saved and the upload imported with it; the entry
    /// kept as it now stands.
    func mapUpload(_ id: String, _ entry: UploadResults.Entry, _ upload: SpooledUpload, _ request: ImportRequest, choices: [Int: String],
                   actor: Actor, _ context: WebContext) async throws(ServiceError) -> UploadResults.Entry {
        var entry = entry
        entry.outcome = try await services.imports.mapUpload(upload, request, choices: choices, actor: actor,
                                                             rejectsDirectory: options.workDirectory, language: context.language)
        entry.mappingError = nil
        if entry.outcome.mapping == nil { entry.pending = nil }
        await uploads.put(id, entry)
        return entry
    }

    func t(_ key: String, _ args: [String: String] = [:], _ context: WebContext) -> String {
        services.messages.text(key, args, in: context.language)
    }

    /// The signed-in session, or an error that sends the reader to the login page.
    func requireSession(_ context: WebContext) throws -> WebSession {
        guard let session = context.session else { throw WebError.unauthenticated }
        return session
    }

    /// The form's or header's CSRF token must be the session's.
    func requireCSRF(_ given: String?, _ session: WebSession) throws {
        guard let given, Secret.equal(given, session.csrf) else { throw WebError.csrf }
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: options.secureCookies, httpOnly: true, sameSite: .strict)
    }
}

/// Errors of the web layer itself (the services' errors are `ServiceError`s).
enum WebError: Error {
    case unauthenticated
    case csrf
    case badRequest(String)
    case notFound
}

/// Restores the session from its cookie, ends it when it has expired or its account was disabled, and picks the
/// request's language.
struct SessionMiddleware: RouterMiddleware {
    let app: WebApp
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        if let lang = request.cookies["lang"]?.value, let language = Language(rawValue: lang) { context.language = language }
        if let id = request.cookies["sid"]?.value {
            switch await app.sessions.find(id, now: app.services.now()) {
            case .found(let session):
                if try await app.services.accounts.current(session.actor) == nil {
                    await app.sessions.end(id)
                    context.sessionExpired = true
                } else {
                    context.session = session
                    context.language = session.language
                }
            case .expired: context.sessionExpired = true
            case .none: break
            }
        }
        return try await next(request, context)
    }
}

/// Upload results kept for the page that shows them (and the rejects download): the uploader's only.
actor UploadResults {
    struct Entry: Sendable {
        let account: Int64
        var outcome: UploadOutcome
        let kind: String
        /// The spooled file, kept while the mapping step waits for the nurse's choices (removed with the entry).
        var pending: SpooledUpload? = nil
        var request: ImportRequest? = nil
        var mappingError: String? = nil
    }
    private var entries: [String: Entry] = [:]
    private var order: [String] = []

    func put(_ id: String, _ entry: Entry) {
        if let previous = entries[id] {
            if previous.pending?.path != entry.pending?.path { previous.pending?.remove() }
        } else {
            order.append(id)
        }
        entries[id] = entry
        // Keep the latest 500 results; their rejects files and waiting uploads go with them.
        while order.count > 500 {
            let old = order.removeFirst()
            if let path = entries[old]?.outcome.rejectsPath { unlink(path) }
            entries[old]?.pending?.remove()
            entries[old] = nil
        }
    }

    func get(_ id: String, account: Int64) -> Entry? {
        guard let e = entries[id], e.account == account else { return nil }
        return e
    }
}

/// Small helpers for form bodies and responses.
enum Web {
    /// `application/x-www-form-urlencoded` fields (the last value of a repeated name wins; `all` keeps them).
    static func form(_ body: String) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { (String(s).replacingOccurrences(of: "+", with: " ")).removingPercentEncoding ?? "" }
            guard let k = kv.first else { continue }
            fields[decode(k), default: []].append(kv.count > 1 ? decode(kv[1]) : "")
        }
        return fields
    }

    static func readForm(_ request: Request, _ context: WebContext) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        return form(String(buffer: buffer)).mapValues { $0.last ?? "" }
    }

    static func html(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page.text)))
    }

    static func text(_ text: String, mediaType: String, status: HTTPResponse.Status = .ok, filename: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: mediaType]
        if let filename { headers[.contentDisposition] = "attachment; filename=\"\(filename)\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// How the API writes JSON: keys sorted, slashes as they are.
    static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? jsonEncoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        for c in cookies { response.setCookie(c) }
        return response
    }

    /// The HTTP status for a service error's code.
    static func status(_ code: ServiceError.Code) -> HTTPResponse.Status {
        switch code {
        case .unauthenticated: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .invalid: return .unprocessableContent
        case .conflict: return .conflict
        case .fileRefused: return .unprocessableContent
        case .busy, .unavailable: return .serviceUnavailable
        case .configuration, .internalError: return .internalServerError
        case .tooLarge: return .contentTooLarge
        }
    }
}

extension Result where Failure == ServiceError {
    /// The outcome of an async call that throws `ServiceError`, to branch on its code.
    init(catching body: () async throws(ServiceError) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
