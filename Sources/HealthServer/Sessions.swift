import Logging
import HealthCore
import Foundation
import HealthRisk
import HealthServices

/// A signed-in person: who (the authenticated account, never a form field), their CSRF token, their language and
/// when the session started and was last used.
struct WebSession: Sendable {
    let id: String
    let actor: Actor
    let name: String
    let csrf: String
    let created: Date
    var lastSeen: Date
    var language: Language
}

/// Sessions live in the server's memory (a restart signs everyone out) and end after `idle` without use or
/// `absolute` after the login, whichever comes first; a disabled account's sessions end at its next request.
actor SessionStore {
    private var sessions: [String: WebSession] = [:]
    let idle: TimeInterval
    let absolute: TimeInterval

    init(idle: TimeInterval, absolute: TimeInterval) {
        self.idle = idle
        self.absolute = absolute
    }

    enum Lookup { case found(WebSession), expired, none }

    func create(actor: Actor, name: String, language: Language, now: Date) -> WebSession {
        sweep(now)
        let session = WebSession(id: Secret.make(), actor: actor, name: name, csrf: Secret.make(), created: now, lastSeen: now, language: language)
        sessions[session.id] = session
        return session
    }

    func find(_ id: String, now: Date) -> Lookup {
        guard var session = sessions[id] else { return .none }
        if now.timeIntervalSince(session.lastSeen) > idle || now.timeIntervalSince(session.created) > absolute {
            sessions[id] = nil
            return .expired
        }
        session.lastSeen = now
        sessions[id] = session
        return .found(session)
    }

    func setLanguage(_ id: String, _ language: Language) { sessions[id]?.language = language }

    func end(_ id: String) { sessions[id] = nil }

    /// Ends every session of an account (disabled, or its password reset).
    func endAll(account: Int64) { sessions = sessions.filter { $0.value.actor.accountID != account } }

    private func sweep(_ now: Date) {
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastSeen) <= idle && now.timeIntervalSince($0.value.created) <= absolute }
    }
}

/// Failed logins, limited per account and per address: after `limit` failures within `window`, further attempts
/// are refused until the window has passed (a correct password included, so guessing gains nothing).
actor LoginLimiter {
    private var failures: [String: [Date]] = [:]
    let limit: Int
    let window: TimeInterval

    init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until `keys` may try again, or nil when they may now.
    func blocked(_ keys: [String], now: Date) -> TimeInterval? {
        var wait: TimeInterval?
        for key in keys {
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait ?? 0, window - now.timeIntervalSince(oldest))
            }
        }
        return wait
    }

    func fail(_ keys: [String], now: Date) { for key in keys { failures[key, default: []].append(now) } }
    func succeed(_ keys: [String]) { for key in keys where key.hasPrefix("login:") { failures[key] = nil } }
}

/// Which upload's rejects file belongs to which account (a nurse downloads her own uploads' lists only).
actor UploadLedger {
    private var owners: [String: (account: Int64, path: String, name: String)] = [:]
    func record(id: String, account: Int64, path: String, name: String) { owners[id] = (account, path, name) }
    func rejects(id: String, account: Int64) -> (path: String, name: String)? {
        guard let o = owners[id], o.account == account else { return nil }
        return (o.path, o.name)
    }
}

enum Secret {
    /// 32 random bytes, URL-safe base64 (a session id or a CSRF token).
    static func make() -> String {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares in time independent of where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }
}
