import HealthIngest
public import HealthCore
public import HealthRisk
public import HealthStore
import Foundation

/// The crisis queue for any front end: every call acts as an authenticated account, and the store checks
/// scope, state machine and consent and writes the keyed audit log, exactly as for the CLI.
public struct ReferralService: Sendable {
    let services: SchoolHealthServices

    public func queue(actor: Actor, limit: Int = 50, at time: Int? = nil) async throws(ServiceError) -> [QueueItem] {
        let store = try services.store
        return try await offload { try store.queue(actor: actor, at: time, limit: limit) }
    }

    public func show(actor: Actor, caseID: Int64, purpose: String = "show", at time: Int? = nil) async throws(ServiceError) -> CaseView {
        let (store, rules) = (try services.store, services.config.risk.cases)
        return try await offload { try store.showCase(actor: actor, id: caseID, at: time, rules: rules, purpose: purpose) }
    }

    public func advance(actor: Actor, caseID: Int64, request: TransitionRequest, at time: Int? = nil) async throws(ServiceError) -> CaseView {
        let (store, risk) = (try services.store, services.config.risk)
        return try await offload { try store.advance(actor: actor, id: caseID, request: request, at: time, policy: risk.deadlines, rules: risk.cases) }
    }

    public func raiseFlag(actor: Actor, student: String, className: String?, tier: Tier, kind: String, reason: String,
                          at time: Int? = nil) async throws(ServiceError) -> Int64 {
        let (store, risk) = (try services.store, services.config.risk)
        return try await offload {
            try store.raiseFlag(actor: actor, student: student, className: className, tier: tier, kind: kind, reason: reason,
                                at: time, policy: risk.deadlines, rules: risk.cases).caseID
        }
    }

    public func auditTrail(actor: Actor, caseID: Int64, at time: Int? = nil) async throws(ServiceError) -> [AuditEvent] {
        let (store, rules) = (try services.store, services.config.risk.cases)
        return try await offload { try store.auditTrail(actor: actor, id: caseID, at: time, rules: rules) }
    }

    public func counts(actor: Actor, at time: Int? = nil) async throws(ServiceError) -> CaseCounts {
        let store = try services.store
        return try await offload { try store.caseCounts(actor: actor, at: time) }
    }
}

/// Accounts: authentication (scrypt runs off the cooperative pool) and the administrator's management.
public struct AccountService: Sendable {
    let services: SchoolHealthServices

    public func authenticate(login: String, password: String) async throws(ServiceError) -> Actor {
        let store = try services.store
        return try await offload { try store.authenticate(login: login, password: password) }
    }

    public func authenticate(token: String) async throws(ServiceError) -> Actor {
        let store = try services.store
        return try await offload { try store.authenticate(token: token) }
    }

    /// The actor's account if it is still enabled and unchanged (nil ends a web session).
    public func current(_ actor: Actor) async throws(ServiceError) -> Account? {
        let store = try services.store
        return try await offload { try store.activeAccount(of: actor) }
    }

    /// Every account (administrators only; logged).
    public func list(by admin: Actor) async throws(ServiceError) -> [Account] {
        let store = try services.store
        return try await offload { try store.accounts(by: admin) }
    }

    public func add(by admin: Actor, login: String, name: String, role: Role, organisation: String, password: String?,
                    issueToken: Bool) async throws(ServiceError) -> IssuedCredentials {
        let store = try services.store
        return try await offload {
            try store.addAccount(by: admin, login: login, name: name, role: role, organisation: organisation, password: password, issueToken: issueToken)
        }
    }

    public func disable(by admin: Actor, login: String) async throws(ServiceError) -> Account {
        let store = try services.store
        return try await offload { try store.disableAccount(by: admin, login: login) }
    }

    public func reset(by admin: Actor, login: String, password: String?, issueToken: Bool) async throws(ServiceError) -> IssuedCredentials {
        let store = try services.store
        return try await offload { try store.resetAccount(by: admin, login: login, password: password, issueToken: issueToken) }
    }

    /// The county's schools (any signed-in account may read the list; it holds no student data).
    public func schools() async throws(ServiceError) -> [School] {
        let store = try services.store
        return try await offload { try store.schools() }
    }
}
