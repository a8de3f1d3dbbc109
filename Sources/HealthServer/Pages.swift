import Logging
import Foundation
import HealthAnalytics
import HealthCore
import HealthIngest
import HealthRisk
import HealthServices
import HealthStore
import Hummingbird
import HTTPTypes
import MultipartKit
import NIOCore

/// The pages people use, in Chinese by default (English with the switch).
struct Pages {
    let app: WebApp

    func register(_ router: Router<WebContext>) {
        router.get("/static/app.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: Static.css)))
        }
        router.get("/static/app.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: Static.js)))
        }
        // Browsers ask for it on every page that names none (the downloaded HTML report): no icon, and no 404 in the log.
        router.get("/favicon.ico") { _, _ in Response(status: .noContent, headers: [.cacheControl: "max-age=86400"]) }
        router.get("/") { _, context in try await guarded(context) { try home(context) } }
        router.get("/login") { request, context in
            loginPage(context, error: context.sessionExpired || request.uri.queryParameters["expired"] != nil ? app.t("login.expired", [:], context) : nil)
        }
        router.post("/login") { request, context in try await guarded(context) { try await login(request, context) } }
        router.post("/logout") { request, context in try await guarded(context) { try await logout(request, context) } }
        router.get("/lang/:language") { request, context in try await guarded(context) { try await switchLanguage(request, context) } }
        router.get("/upload") { _, context in try await guarded(context) { try uploadPage(context) } }
        router.post("/upload") { request, context in try await guarded(context) { try await upload(request, context) } }
        router.get("/upload/:id") { _, context in try await guarded(context) { try await uploadResult(context) } }
        router.post("/upload/:id/mapping") { request, context in try await guarded(context) { try await mapping(request, context) } }
        router.get("/upload/:id/rejects.csv") { _, context in try await guarded(context) { try await rejectsDownload(context) } }
        router.get("/batches") { _, context in try await guarded(context) { try await batches(context) } }
        router.get("/coverage") { request, context in try await guarded(context) { try await coveragePage(request, context) } }
        router.get("/notices") { request, context in try await guarded(context) { try await noticesPage(request, context, message: issuedMessage(request, context)) } }
        router.post("/notices/issue") { request, context in try await guarded(context) { try await issueNotices(request, context) } }
        router.get("/notices/class") { request, context in try await guarded(context) { try await noticeClass(request, context) } }
        router.get("/notices/print") { request, context in try await guarded(context) { try await printNotices(request, context) } }
        router.post("/notices/:id/reissue") { request, context in try await guarded(context) { try await reissueNotice(request, context) } }
        router.post("/notices/:id/result") { request, context in try await guarded(context) { try await recordResult(request, context) } }
        router.get("/export/national") { request, context in try await guarded(context) { try await nationalExportPage(request, context) } }
        router.get("/export/national/file") { request, context in try await guarded(context) { try await nationalExportFile(request, context) } }
        router.get("/dashboard") { request, context in try await guarded(context) { try await dashboard(request, context) } }
        router.get("/reports/:file") { request, context in try await guarded(context) { try await reportDownload(request, context) } }
        router.get("/queue") { _, context in try await guarded(context) { try await queue(context) } }
        router.get("/cases/:id") { _, context in try await guarded(context) { try await casePage(context, notice: nil) } }
        router.post("/cases/:id") { request, context in try await guarded(context) { try await advance(request, context) } }
        router.get("/flag") { _, context in try await guarded(context) { try flagPage(context) } }
        router.post("/flag") { request, context in try await guarded(context) { try await raiseFlag(request, context) } }
        router.get("/accounts") { _, context in try await guarded(context) { try await accounts(context, notice: nil) } }
        router.post("/accounts") { request, context in try await guarded(context) { try await changeAccounts(request, context) } }
        router.get("/schools") { _, context in try await guarded(context) { try await schools(context) } }
        router.get("/backups") { _, context in try await guarded(context) { try await backupsPage(context, notice: nil) } }
        router.post("/backups") { request, context in try await guarded(context) { try await takeBackup(request, context) } }
    }

    // MARK: - Frame

    /// Runs a page; a service error becomes a page in the reader's language, a missing session the login page.
    func guarded(_ context: WebContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch WebError.unauthenticated {
            return Web.redirect(context.sessionExpired ? "/login?expired=1" : "/login", cookies: context.sessionExpired ? [app.cookie("sid", "", maxAge: 0)] : [])
        } catch WebError.csrf {
            return errorPage(context, status: .forbidden, message: app.t("error.csrf", [:], context), remedy: nil)
        } catch WebError.notFound {
            return errorPage(context, status: .notFound, message: app.t("error.notFound", [:], context), remedy: nil)
        } catch WebError.badRequest(let detail) {
            return errorPage(context, status: .badRequest, message: app.t("error.badRequest", ["detail": detail], context), remedy: nil)
        } catch let error as ServiceError {
            if error.code == .internalError { app.services.logger.error("internal error", metadata: ["detail": "\(error.detail)"]) }
            return errorPage(context, status: Web.status(error.code), message: error.message(app.services.messages, context.language),
                             remedy: remedyText(error.remedy, context))
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            let e = ServiceError(error)
            if e.code == .internalError { app.services.logger.error("internal error", metadata: ["detail": "\(e.detail)"]) }
            return errorPage(context, status: Web.status(e.code), message: e.message(app.services.messages, context.language), remedy: remedyText(e.remedy, context))
        }
    }

    func remedyText(_ remedy: ServiceError.Remedy?, _ context: WebContext) -> String? {
        switch remedy {
        case .option(let name, let value)?:
            switch name {
            case "consent": return app.t("remedy.consent", [:], context)
            default: return app.t("remedy.option", ["field": name, "value": value], context)
            }
        case .login?: return app.t("remedy.login", [:], context)
        case .retry?: return app.t("remedy.retry", [:], context)
        case .administrator?: return app.t("remedy.contactAdmin", [:], context)
        case nil: return nil
        }
    }

    func page(_ context: WebContext, title: String, _ body: HTML, status: HTTPResponse.Status = .ok) -> Response {
        let t = { (k: String) in app.t(k, [:], context) }
        var nav: [HTML] = []
        if let s = context.session {
            let links: [(String, String)]
            switch s.actor.role {
            case .nurse: links = [("/upload", "nav.upload"), ("/batches", "nav.batches"), ("/coverage", "nav.coverage"), ("/notices", "nav.notices"),
                                  ("/export/national", "nav.export"), ("/dashboard", "nav.dashboard")]
            case .healthOffice: links = [("/dashboard", "nav.dashboard"), ("/schools", "nav.schools")]
            case .counsellor: links = [("/queue", "nav.queue"), ("/flag", "queue.flag"), ("/dashboard", "nav.dashboard")]
            case .mentor: links = [("/queue", "nav.queue"), ("/flag", "queue.flag")]
            case .centre: links = [("/queue", "nav.queue"), ("/dashboard", "nav.dashboard")]
            case .hospital: links = [("/queue", "nav.queue")]
            case .admin: links = [("/accounts", "nav.accounts"), ("/schools", "nav.schools"), ("/backups", "nav.backups")]
            }
            nav = links.map { "<a href=\"\($0.0)\">\(t($0.1))</a>" }
        }
        let other: Language = context.language == .zh ? .en : .zh
        let user: HTML = context.session.map { s in
            "<span>\(s.name) · \(t("role." + s.actor.role.rawValue))</span><form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"\(s.csrf)\"><button type=\"submit\">\(t("nav.logout"))</button></form>"
        } ?? .empty
        let doc: HTML = """
            <!doctype html>
            <html lang="\(context.language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
            <title>\(title) · \(t("app.name"))</title>
            <link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
            <body><header><a class="brand" href="/">\(t("app.name"))</a><nav>\(nav)</nav>\(user)
            <a class="lang" href="/lang/\(other.rawValue)">\(t("lang.switch"))</a></header>
            <main><h1>\(title)</h1>
            \(body)
            </main></body></html>
            """
        return Web.html(doc, status: status)
    }

    func errorPage(_ context: WebContext, status: HTTPResponse.Status, message: String, remedy: String?) -> Response {
        page(context, title: app.t("error.title", [:], context), """
            <div class="card"><p class="error">\(message)</p>\(remedy.map { "<p>\($0)</p>" as HTML } ?? .empty)
            <p><a href="/">\(app.t("error.back", [:], context))</a></p></div>
            """, status: status)
    }

    func role(_ context: WebContext, _ allowed: Role...) throws -> WebSession {
        let session = try app.requireSession(context)
        guard allowed.contains(session.actor.role) else { throw ServiceError(.forbidden, key: "error.forbidden") }
        return session
    }

    func csrfField(_ session: WebSession) -> HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrf)\">" }

    // MARK: - Login

    func home(_ context: WebContext) throws -> Response {
        let session = try app.requireSession(context)
        switch session.actor.role {
        case .nurse: return Web.redirect("/upload")
        case .healthOffice: return Web.redirect("/dashboard")
        case .admin: return Web.redirect("/accounts")
        case .counsellor, .mentor, .centre, .hospital: return Web.redirect("/queue")
        }
    }

    /// The login form carries a token that must match a cookie set with it (double submit): a login cannot be
    /// forced from another site, beside the same-origin check and SameSite=Strict.
    func loginPage(_ context: WebContext, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let t = { (k: String) in app.t(k, [:], context) }
        let token = Secret.make()
        var response = page(context, title: t("login.title"), """
            <div class="card"><p class="muted">\(t("app.tagline"))</p>
            \(error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML } ?? .empty)
            <form method="post" action="/login"><input type="hidden" name="csrf" value="\(token)">
            <label for="login">\(t("login.login"))</label><input type="text" id="login" name="login" autocomplete="username" required>
            <label for="password">\(t("login.password"))</label><input type="password" id="password" name="password" autocomplete="current-password" required>
            <button class="primary" type="submit">\(t("login.submit"))</button></form></div>
            """, status: status)
        response.setCookie(app.cookie("login_csrf", token, maxAge: 3600))
        return response
    }

    func login(_ request: Request, _ context: WebContext) async throws -> Response {
        let form = try await Web.readForm(request, context)
        guard let expected = request.cookies["login_csrf"]?.value, let given = form["csrf"], Secret.equal(given, expected) else { throw WebError.csrf }
        let login = (form["login"] ?? "").trimmingCharacters(in: .whitespaces)
        let keys = ["login:" + login.lowercased(), "address:" + context.peer]
        let now = app.services.now()
        if let wait = await app.limiter.blocked(keys, now: now) {
            try? app.services.store.recordEvent(actor: .anonymous, action: "login refused (rate limit)", detail: login)
            return loginPage(context, error: app.t("login.limited", ["minutes": String(Int((wait / 60).rounded(.up)))], context), status: .tooManyRequests)
        }
        let result = await Result(catching: { () async throws(ServiceError) -> Actor in
            try await app.services.accounts.authenticate(login: login, password: form["password"] ?? "")
        })
        switch result {
        case .success(let actor):
            await app.limiter.succeed(keys)
            let name = try await app.services.accounts.current(actor)?.name ?? actor.user
            // A new session id at every login (no fixation); the language chosen before carries over.
            let session = await app.sessions.create(actor: actor, name: name, language: context.language, now: now)
            return Web.redirect("/", cookies: [app.cookie("sid", session.id)])
        case .failure(let error) where error.code == .unauthenticated:
            await app.limiter.fail(keys, now: now)
            return loginPage(context, error: app.t("login.failed", [:], context), status: .unauthorized)
        case .failure(let error):
            throw error
        }
    }

    func logout(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try app.requireSession(context)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        await app.sessions.end(session.id)
        return Web.redirect("/login", cookies: [app.cookie("sid", "", maxAge: 0)])
    }

    func switchLanguage(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let language = context.parameters.get("language").flatMap(Language.init(rawValue:)) else { throw WebError.notFound }
        if let s = context.session { await app.sessions.setLanguage(s.id, language) }
        return Web.redirect("/", cookies: [app.cookie("lang", language.rawValue, maxAge: 365 * 86400)])
    }
}

extension Actor {
    /// Someone not signed in, for the log of refused logins.
    static var anonymous: Actor { .system("web login") }
}
