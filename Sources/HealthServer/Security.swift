import Logging
import HealthCore
import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
    static let csrfToken = Self("X-CSRF-Token")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
}

/// Headers on every response: a content security policy with no inline script and no framing, nosniff, no
/// referrer, no caching of pages that hold students' data; HSTS under TLS.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let secure: Bool

    /// The full HTML report carries its own inline style (it is also a file that opens offline); nothing else does.
    static func policy(inlineStyle: Bool) -> String {
        "default-src 'none'; script-src 'self'; style-src 'self'\(inlineStyle ? " 'unsafe-inline'" : ""); img-src 'self' data:; "
            + "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = Self.policy(inlineStyle: false) }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if secure { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}

/// A request that changes something must come from this site: a browser says so in `Sec-Fetch-Site` or `Origin`
/// (a script with a token sends neither and is let through to the token check). The form's or header's
/// token is then checked against the session's by the route (`WebApp.requireCSRF`).
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method != .get && request.method != .head && request.method != .options {
            // A browser that sends Sec-Fetch-Site says where the request comes from; it is the check that counts. Under
            // Referrer-Policy: no-referrer Chromium sends `Origin: null` for the site's own forms, so Origin is checked
            // only when there is no Sec-Fetch-Site, and then it must name this host (the CSRF token is checked as well).
            if let site = request.headers[.secFetchSite] {
                guard site == "same-origin" || site == "none" else { throw HTTPError(.forbidden, message: "cross-site request refused") }
            } else if let origin = request.headers[.origin] {
                // HTTP/1.1 carries the authority in Host (HTTP/2 in :authority).
                let authority = request.head.authority ?? request.headers[HTTPField.Name("Host")!] ?? ""
                guard origin == "http://\(authority)" || origin == "https://\(authority)" else {
                    throw HTTPError(.forbidden, message: "cross-origin request refused")
                }
            }
        }
        return try await next(request, context)
    }
}
