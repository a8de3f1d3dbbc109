import Foundation
public import Crypto

/// One event of the audit log, as its MAC covers it.
public struct AuditRecord: Sendable, Equatable {
    public var seq: Int64
    public var at: Int
    /// "system" (the machine's clock) or "drill" (a drill database, where times may be set by hand).
    public var clock: String
    public var actorAccount: Int64?
    public var actorUser: String
    public var actorRole: String
    public var actorOrg: String
    public var action: String
    public var caseID: Int64?
    public var detail: String
    /// The rows this event wrote or removed, each with its content digest: `psych_case:12=ab34…;case_transition:40=…`.
    public var subjects: String
    public init(seq: Int64, at: Int, clock: String, actorAccount: Int64?, actorUser: String, actorRole: String, actorOrg: String,
                action: String, caseID: Int64?, detail: String, subjects: String) {
        self.seq = seq; self.at = at; self.clock = clock; self.actorAccount = actorAccount; self.actorUser = actorUser
        self.actorRole = actorRole; self.actorOrg = actorOrg; self.action = action; self.caseID = caseID; self.detail = detail
        self.subjects = subjects
    }
}

/// The keyed hash chain of the audit log: each event's MAC = HMAC-SHA-256(key, previous MAC ‖ event). The key
/// is kept outside the database file, so someone holding only the file can neither edit an event nor append a
/// valid one, and a signed checkpoint (count and head) lets the bureau detect a log cut short.
public enum AuditChain {
    /// What the first keyed event's action says; a log without one was emptied.
    public static let genesisAction = "audit log started"
    public static let zeroHash = String(repeating: "0", count: 64)

    public static func mac(prev: String, _ r: AuditRecord, key: SymmetricKey) -> String {
        let text = ["v2", prev, String(r.seq), String(r.at), r.clock, r.actorAccount.map(String.init) ?? "", r.actorUser, r.actorRole,
                    r.actorOrg, r.action, r.caseID.map(String.init) ?? "", r.detail, r.subjects].joined(separator: "\u{1F}")
        return hex(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
    }

    /// The unkeyed SHA-256 chain of events written before the keyed chain began (schema v3–v5). Those events are
    /// protected because the first keyed event covers their head.
    public static func legacyHash(prev: String, seq: Int64, at: Int, user: String, role: String, org: String, action: String,
                                  caseID: Int64?, detail: String) -> String {
        let text = [prev, String(seq), String(at), user, role, org, action, caseID.map(String.init) ?? "", detail].joined(separator: "\u{1F}")
        return hex(Array(SHA256.hash(data: Data(text.utf8))))
    }

    /// A row's content digest, for `subjects`: SHA-256 over its fields in order.
    public static func rowDigest(_ fields: [String?]) -> String {
        let text = fields.map { $0.map { "=" + $0 } ?? "∅" }.joined(separator: "\u{1F}")
        return String(hex(Array(SHA256.hash(data: Data(text.utf8)))).prefix(32))
    }

    /// A signed statement of how long the log was and what its last MAC was.
    ///
    ///     AuditChain.checkpoint(count: 1200, head: "9f…", key: key)   // "shcp1-1200-9f…-<mac>"
    public static func checkpoint(count: Int, head: String, key: SymmetricKey) -> String {
        "shcp1-\(count)-\(head)-\(checkpointMAC(count: count, head: head, key: key))"
    }

    /// The count and head of a checkpoint whose signature holds under `key`, or nil.
    public static func readCheckpoint(_ text: String, key: SymmetricKey) -> (count: Int, head: String)? {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "-").map(String.init)
        guard parts.count == 4, parts[0] == "shcp1", let count = Int(parts[1]), count >= 0 else { return nil }
        guard constantTimeEqual(Array(checkpointMAC(count: count, head: parts[2], key: key).utf8), Array(parts[3].utf8)) else { return nil }
        return (count, parts[2])
    }

    static func checkpointMAC(count: Int, head: String, key: SymmetricKey) -> String {
        String(hex(Array(HMAC<SHA256>.authenticationCode(for: Array("checkpoint\u{1F}\(count)\u{1F}\(head)".utf8), using: key))).prefix(32))
    }
}
