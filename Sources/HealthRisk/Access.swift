/// What the library knows about a case when deciding who may see it.
public struct CaseFacts: Sendable, Equatable {
    public var caseID: Int64
    public var studentID: String
    public var school: String
    public var className: String?
    public var tier: Tier
    public var state: CaseState
    /// The case was referred to the county centre at some point.
    public var referredToCentre: Bool
    /// The hospital it was referred to, if any.
    public var hospital: String?
    public init(caseID: Int64, studentID: String, school: String, className: String?, tier: Tier, state: CaseState,
                referredToCentre: Bool, hospital: String?) {
        self.caseID = caseID; self.studentID = studentID; self.school = school; self.className = className; self.tier = tier
        self.state = state; self.referredToCentre = referredToCentre; self.hospital = hospital
    }
}

/// Least privilege, enforced in the library (DOMAIN.md §6): mentor — own students; counsellor — own school;
/// centre — cases referred to the centre; hospital — cases referred to it (minimum-necessary fields);
/// health office — counts only, never a case.
public enum Access {
    /// Whether `actor` may see the case at all. `mentorOf` says whether the actor mentors the student.
    public static func canRead(_ actor: Actor, _ c: CaseFacts, mentorOf: Bool) -> Bool {
        switch actor.role {
        case .mentor: return mentorOf
        case .counsellor: return c.school == actor.organisation
        case .centre: return c.referredToCentre
        case .hospital: return c.hospital == actor.organisation
        case .healthOffice: return false
        }
    }

    /// Whether `actor` may raise a flag for a student of `school` (mentors for their own students only).
    public static func canFlag(_ actor: Actor, school: String, mentorOf: Bool) -> Bool {
        switch actor.role {
        case .mentor: return mentorOf
        case .counsellor: return school == actor.organisation
        case .centre, .hospital, .healthOffice: return false
        }
    }

    /// Whether `actor` may read the audit trail of a case they can read (not mentors, not the hospital).
    public static func canReadAudit(_ actor: Actor) -> Bool { actor.role == .counsellor || actor.role == .centre }

    /// The fields of a case a role may see.
    public enum View: Sendable {
        /// Mentor: tier, state and actions; no scores, no notes.
        case actions
        /// Counsellor, centre: everything about the case.
        case full
        /// Hospital: identity, tier, referral and consent; not the school's notes or screening scores.
        case minimumNecessary
    }

    public static func view(for role: Role) -> View? {
        switch role {
        case .mentor: return .actions
        case .counsellor, .centre: return .full
        case .hospital: return .minimumNecessary
        case .healthOffice: return nil
        }
    }
}

/// The one error for anything outside an actor's scope: it never says whether the case exists.
public struct NotInScope: Error, Equatable, CustomStringConvertible {
    public var caseID: Int64
    public init(caseID: Int64) { self.caseID = caseID }
    public var description: String { "no case \(caseID) that you may see" }
}
