import HealthCore
import Foundation

/// Risk tier of a psychological-crisis flag or case (DOMAIN.md §5.3): red is the most urgent.
public enum Tier: String, Sendable, Codable, CaseIterable, Comparable {
    case red, orange, yellow
    /// 0 red, 1 orange, 2 yellow: lower is more urgent.
    public var urgency: Int { Tier.allCases.firstIndex(of: self)! }
    public static func < (a: Tier, b: Tier) -> Bool { a.urgency < b.urgency }
    public var chinese: String { ["红", "橙", "黄"][urgency] }
}

/// Where a case is on the chain school → county centre → hospital → school (DOMAIN.md §5.4).
public enum CaseState: String, Sendable, Codable, CaseIterable {
    case identified
    case assessed
    case referredToCentre = "referred_to_centre"
    case centreAssessed = "centre_assessed"
    case referredToHospital = "referred_to_hospital"
    case hospitalFeedback = "hospital_feedback"
    case schoolSupportPlan = "school_support_plan"
    case inSchool = "in_school"
    case onLeave = "on_leave"
    case returnToSchoolAssessment = "return_to_school_assessment"
    case followUp = "follow_up"
    case closed

    /// The states a case may move to next.
    public var next: [CaseState] {
        switch self {
        case .identified: return [.assessed, .referredToCentre, .closed]
        case .assessed: return [.referredToCentre, .schoolSupportPlan, .closed]
        case .referredToCentre: return [.centreAssessed]
        case .centreAssessed: return [.referredToHospital, .schoolSupportPlan, .closed]
        case .referredToHospital: return [.hospitalFeedback]
        case .hospitalFeedback: return [.schoolSupportPlan, .referredToHospital]
        case .schoolSupportPlan: return [.inSchool, .onLeave]
        case .inSchool: return [.followUp, .onLeave]
        case .onLeave: return [.returnToSchoolAssessment]
        case .returnToSchoolAssessment: return [.inSchool, .onLeave]
        case .followUp: return [.followUp, .inSchool, .referredToCentre, .closed]
        case .closed: return []
        }
    }

    /// Hand-offs out of the school: they need the guardian's recorded consent (or, for red, an emergency override).
    public var isHandOff: Bool { self == .referredToCentre || self == .referredToHospital }

    /// Who performs the step that leads into this state.
    public var actingRole: Role {
        switch self {
        case .centreAssessed, .referredToHospital: return .centre
        case .hospitalFeedback: return .hospital
        default: return .counsellor
        }
    }
}

/// The roles of accounts. Administrators manage accounts and read no case.
public enum Role: String, Sendable, Codable, CaseIterable {
    case mentor, counsellor, centre, hospital
    case healthOffice = "health-office"
    case admin
    /// The school nurse (校医 / 保健老师): uploads and corrects her school's screenings; reads no case.
    case nurse
}

/// Who is acting: made only by authenticating a registered account (`Store.authenticate`), never from a flag
/// (nor decoded from JSON: Encodable only).
/// Role and organisation are the account's.
public struct Actor: Sendable, Equatable, Encodable {
    public let role: Role
    /// The school code (counsellor, mentor), centre or hospital the account belongs to.
    public let organisation: String
    /// The account's login.
    public let user: String
    /// The account's row, or nil for the system itself (imports, escalation).
    public let accountID: Int64?
    package init(role: Role, organisation: String, user: String, accountID: Int64?) {
        self.role = role; self.organisation = organisation; self.user = user; self.accountID = accountID
    }

    /// The system acting on its own (escalation, an import's rule flags), recorded as such.
    package static func system(_ what: String, organisation: String = "") -> Actor {
        Actor(role: .counsellor, organisation: organisation, user: "system: \(what)", accountID: nil)
    }
}

/// Case handling rules of `Config/rules/risk.yaml` (`cases:`).
public struct CaseRules: Sendable, Equatable {
    /// Days a closed case stays in the centre's and hospital's scope.
    public var closedRetentionDays = 365
    /// The longest note on a transition, and the longest reason (flag, override, review), in characters.
    public var noteLimit = 2000
    public var reasonLimit = 500
    public init() {}

    /// Throws when a text is longer than its limit.
    public func check(note: String? = nil, reason: String? = nil) throws(TransitionError) {
        if let note, note.count > noteLimit { throw .tooLong(field: "note", limit: noteLimit, length: note.count) }
        if let reason, reason.count > reasonLimit { throw .tooLong(field: "reason", limit: reasonLimit, length: reason.count) }
    }
}

/// Consent recorded with a transition.
public enum Consent: String, Sendable, Codable {
    case given, refused, notAsked = "not-asked"
}

/// A requested move of a case.
public struct TransitionRequest: Sendable, Equatable {
    public var to: CaseState
    public var note: String
    public var guardianInformed: Bool
    public var consent: Consent
    /// Red tier only: hand off without consent, with the reason recorded and marked in the audit.
    public var emergencyOverride: String?
    /// Hospital feedback to the school: only what the school needs.
    public var feedback: HospitalFeedback?
    /// Which hospital, for a referral to one.
    public var hospital: String?

    public init(to: CaseState, note: String, guardianInformed: Bool = false, consent: Consent = .notAsked,
                emergencyOverride: String? = nil, feedback: HospitalFeedback? = nil, hospital: String? = nil) {
        self.to = to; self.note = note; self.guardianInformed = guardianInformed; self.consent = consent
        self.emergencyOverride = emergencyOverride; self.feedback = feedback; self.hospital = hospital
    }
}

/// What the hospital returns to the school (minimum necessary: no clinical notes).
public struct HospitalFeedback: Sendable, Equatable, Codable {
    public var attendance: String
    public var safetyAdvice: String
    /// ISO date of the next visit, if any.
    public var nextVisit: String?
    public init(attendance: String, safetyAdvice: String, nextVisit: String?) {
        self.attendance = attendance; self.safetyAdvice = safetyAdvice; self.nextVisit = nextVisit
    }
}

/// Why a transition was refused.
public enum TransitionError: Error, Equatable, CustomStringConvertible {
    case illegal(from: CaseState, to: CaseState, allowed: [CaseState])
    case wrongRole(to: CaseState, needed: Role, actor: Role)
    case consentRequired(to: CaseState)
    case overrideNotAllowed(tier: Tier)
    case feedbackRequired
    case clinicalNotesNotAllowed
    case overrideReasonRequired
    case tooLong(field: String, limit: Int, length: Int)
    case hospitalNotRegistered(String)

    /// The message catalogue's key for this refusal (`transition.*`) and its arguments.
    public var messageKey: (key: String, arguments: [String: String]) {
        switch self {
        case let .illegal(from, to, allowed): return ("transition.illegal", ["from": from.rawValue, "to": to.rawValue, "allowed": allowed.map(\.rawValue).joined(separator: ", ")])
        case let .wrongRole(to, needed, actor): return ("transition.wrongRole", ["to": to.rawValue, "needed": needed.rawValue, "actor": actor.rawValue])
        case let .consentRequired(to): return ("transition.consentRequired", ["to": to.rawValue])
        case let .overrideNotAllowed(tier): return ("transition.overrideNotAllowed", ["tier": tier.rawValue])
        case .feedbackRequired: return ("transition.feedbackRequired", [:])
        case .clinicalNotesNotAllowed: return ("transition.clinicalNotesNotAllowed", [:])
        case .overrideReasonRequired: return ("transition.overrideReasonRequired", [:])
        case let .tooLong(field, limit, length): return ("transition.tooLong", ["field": field, "limit": String(limit), "length": String(length)])
        case let .hospitalNotRegistered(name): return ("transition.hospitalNotRegistered", ["name": name])
        }
    }

    public var description: String {
        switch self {
        case let .illegal(from, to, allowed):
            return "a case in state \(from.rawValue) cannot move to \(to.rawValue); allowed next: \(allowed.isEmpty ? "none (closed)" : allowed.map(\.rawValue).joined(separator: ", "))"
        case let .wrongRole(to, needed, actor): return "moving a case to \(to.rawValue) is done by the \(needed.rawValue), not by a \(actor.rawValue)"
        case let .consentRequired(to): return "a hand-off (\(to.rawValue)) needs the guardian's recorded consent, or, for a red-tier case only, an emergency override with its reason"
        case let .overrideNotAllowed(tier): return "an emergency override is only for red-tier cases; this case is \(tier.rawValue)"
        case .feedbackRequired: return "hospital feedback needs attendance and safety advice (and the next visit, if any)"
        case .clinicalNotesNotAllowed: return "hospital feedback to the school carries attendance, safety advice and the next visit only; leave clinical notes out of the note"
        case .overrideReasonRequired: return "an emergency override needs a reason (not empty); the county centre reviews every override"
        case let .tooLong(field, limit, length): return "the \(field) is \(length) characters long; at most \(limit) are kept (Config/rules/risk.yaml cases)"
        case let .hospitalNotRegistered(name): return "'\(name)' is not a registered hospital (a hospital needs an account of role hospital; name the hospital by that account's organisation)"
        }
    }
}

/// The referral state machine: which transitions are legal, for whom, and under which conditions. Pure.
public enum ReferralStateMachine {
    /// Checks a request against the rules; throws the reason it is refused.
    public static func check(from state: CaseState, tier: Tier, actor: Actor, request r: TransitionRequest,
                             rules: CaseRules = CaseRules()) throws(TransitionError) {
        guard state.next.contains(r.to) else { throw .illegal(from: state, to: r.to, allowed: state.next) }
        guard actor.role == r.to.actingRole else { throw .wrongRole(to: r.to, needed: r.to.actingRole, actor: actor.role) }
        try rules.check(note: r.note, reason: r.emergencyOverride)
        if let reason = r.emergencyOverride, reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .overrideReasonRequired }
        if r.to.isHandOff && r.consent != .given {
            guard r.emergencyOverride != nil else { throw .consentRequired(to: r.to) }
            guard tier == .red else { throw .overrideNotAllowed(tier: tier) }
        } else if r.emergencyOverride != nil && tier != .red {
            throw .overrideNotAllowed(tier: tier)
        }
        if r.to == .hospitalFeedback {
            guard let f = r.feedback, !f.attendance.isEmpty, !f.safetyAdvice.isEmpty else { throw .feedbackRequired }
            try rules.check(reason: f.attendance)
            try rules.check(reason: f.safetyAdvice)
            if !r.note.isEmpty { throw .clinicalNotesNotAllowed }
        }
    }
}
