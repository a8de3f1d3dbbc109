import HealthCore

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

/// The roles that work with cases.
public enum Role: String, Sendable, Codable, CaseIterable {
    case mentor, counsellor, centre, hospital
    case healthOffice = "health-office"
}

/// Who is acting: passed by the CLI (and later by a web app that has authenticated the user).
public struct Actor: Sendable, Equatable, Codable {
    public var role: Role
    /// The school code (counsellor, mentor), centre or hospital the user works for.
    public var organisation: String
    public var user: String
    public init(role: Role, organisation: String, user: String) { self.role = role; self.organisation = organisation; self.user = user }
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

    public var description: String {
        switch self {
        case let .illegal(from, to, allowed):
            return "a case in state \(from.rawValue) cannot move to \(to.rawValue); allowed next: \(allowed.isEmpty ? "none (closed)" : allowed.map(\.rawValue).joined(separator: ", "))"
        case let .wrongRole(to, needed, actor): return "moving a case to \(to.rawValue) is done by the \(needed.rawValue), not by a \(actor.rawValue)"
        case let .consentRequired(to): return "a hand-off (\(to.rawValue)) needs the guardian's recorded consent (--consent given), or, for a red-tier case only, --emergency-override REASON"
        case let .overrideNotAllowed(tier): return "an emergency override is only for red-tier cases; this case is \(tier.rawValue)"
        case .feedbackRequired: return "hospital feedback needs attendance and safety advice (and the next visit, if any)"
        case .clinicalNotesNotAllowed: return "hospital feedback to the school carries attendance, safety advice and the next visit only; leave clinical notes out of the note"
        }
    }
}

/// The referral state machine: which transitions are legal, for whom, and under which conditions. Pure.
public enum ReferralStateMachine {
    /// Checks a request against the rules; throws the reason it is refused.
    public static func check(from state: CaseState, tier: Tier, actor: Actor, request r: TransitionRequest) throws(TransitionError) {
        guard state.next.contains(r.to) else { throw .illegal(from: state, to: r.to, allowed: state.next) }
        guard actor.role == r.to.actingRole else { throw .wrongRole(to: r.to, needed: r.to.actingRole, actor: actor.role) }
        if r.to.isHandOff && r.consent != .given {
            guard r.emergencyOverride != nil else { throw .consentRequired(to: r.to) }
            guard tier == .red else { throw .overrideNotAllowed(tier: tier) }
        } else if r.emergencyOverride != nil && tier != .red {
            throw .overrideNotAllowed(tier: tier)
        }
        if r.to == .hospitalFeedback {
            guard let f = r.feedback, !f.attendance.isEmpty, !f.safetyAdvice.isEmpty else { throw .feedbackRequired }
            if !r.note.isEmpty { throw .clinicalNotesNotAllowed }
        }
    }
}
