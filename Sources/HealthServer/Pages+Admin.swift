import Logging
import HealthCore
import Foundation
import HealthRisk
import HealthServices
import HealthStore
import Hummingbird
import HTTPTypes

extension Pages {
    func accounts(_ context: WebContext, notice: HTML?) async throws -> Response {
        let session = try role(context, .admin)
        let t = { (k: String) in app.t(k, [:], context) }
        let list = try await app.services.accounts.list(by: session.actor)
        let rows: [HTML] = list.map { a in
            let actions: HTML = a.disabledAt != nil ? .empty : """
                <form method="post" action="/accounts">\(csrfField(session))<input type="hidden" name="login" value="\(a.login)">
                <button name="action" value="disable">\(t("accounts.disable"))</button> <button name="action" value="token">\(t("accounts.token"))</button>
                <input type="password" name="password" autocomplete="new-password" minlength="12" placeholder="\(t("accounts.newPassword"))" aria-label="\(t("accounts.newPassword"))">
                <button name="action" value="reset">\(t("accounts.reset"))</button></form>
                """
            return "<tr><td>\(a.login)</td><td>\(a.name)</td><td>\(t("role." + a.role.rawValue))</td><td>\(a.organisation)</td><td>\(a.disabledAt == nil ? t("accounts.active") : t("accounts.disabled"))</td><td>\(actions)</td></tr>"
        }
        let roles: [HTML] = Role.allCases.map { "<option value=\"\($0.rawValue)\">\(t("role." + $0.rawValue))</option>" }
        return page(context, title: t("accounts.title"), """
            \(notice.map { "<p class=\"ok\" role=\"status\">\($0)</p>" as HTML } ?? .empty)
            <table id="accounts"><thead><tr><th>\(t("accounts.login"))</th><th>\(t("accounts.name"))</th><th>\(t("accounts.role"))</th><th>\(t("accounts.org"))</th>
            <th>\(t("accounts.status"))</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
            <div class="card"><h2>\(t("accounts.add"))</h2><form method="post" action="/accounts">\(csrfField(session))<input type="hidden" name="action" value="add">
            <label for="login">\(t("accounts.login"))</label><input type="text" id="login" name="login" required>
            <label for="name">\(t("accounts.name"))</label><input type="text" id="name" name="name" required>
            <label for="role">\(t("accounts.role"))</label><select id="role" name="role">\(roles)</select>
            <label for="org">\(t("accounts.org"))</label><input type="text" id="org" name="org" required>
            <label for="password">\(t("accounts.password"))</label><input type="password" id="password" name="password" autocomplete="new-password" required>
            <div><button class="primary" type="submit">\(t("accounts.add"))</button></div></form></div>
            """)
    }

    func changeAccounts(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .admin)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        let login = form["login"] ?? ""
        switch form["action"] {
        case "add":
            guard let role = form["role"].flatMap(Role.init(rawValue:)) else { throw WebError.badRequest(app.t("accounts.role", [:], context)) }
            _ = try await app.services.accounts.add(by: session.actor, login: login, name: form["name"] ?? login, role: role, organisation: form["org"] ?? "",
                                                    password: form["password"], issueToken: false)
            return try await accounts(context, notice: "\(app.t("accounts.added", ["login": login], context))")
        case "disable":
            let account = try await app.services.accounts.disable(by: session.actor, login: login)
            await app.sessions.endAll(account: account.id)
            return try await accounts(context, notice: "\(app.t("accounts.disabledDone", ["login": login], context))")
        case "reset":
            // A new password ends the account's sessions and its token (the person signs in again with it).
            guard let password = form["password"], !password.isEmpty else { throw WebError.badRequest(app.t("accounts.newPassword", [:], context)) }
            let issued = try await app.services.accounts.reset(by: session.actor, login: login, password: password, issueToken: false)
            await app.sessions.endAll(account: issued.account.id)
            return try await accounts(context, notice: "\(app.t("accounts.resetDone", ["login": login], context))")
        case "token":
            let issued = try await app.services.accounts.reset(by: session.actor, login: login, password: nil, issueToken: true)
            return try await accounts(context, notice: "\(app.t("accounts.issuedToken", ["token": issued.token ?? ""], context))")
        default:
            throw WebError.badRequest("action")
        }
    }
}
