import Logging
import HealthCore
import Hummingbird
import HealthServices
import NIOCore

/// Per request: the signed-in session (set by `SessionMiddleware`), the language and the peer's address.
struct WebContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var session: WebSession?
    /// The language of this request: the session's, else the `lang` cookie, else Chinese.
    var language: Language = .zh
    /// Set when the request carried a session cookie that has expired (the login page says so).
    var sessionExpired = false
    let peer: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Uploads are streamed by their own route; every other body is small.
    var maxUploadSize: Int { 256 * 1024 }
}
