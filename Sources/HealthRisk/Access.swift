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
    /// When it was closed (seconds since 1970), if it is.
    public var closedAt: Int?
    public init(caseID: Int64, studentID: String, school: String, className: String?, tier: Tier, state: CaseState,
                referredToCentre: Bool, hospital: String?, closedAt: Int? = nil) {
        self.caseID = caseID; self.studentID = studentID; self.school = school; self.className = className; self.tier = tier
        self.state = state; self.referredToCentre = referredToCentre; self.hospital = hospital; self.closedAt = closedAt
    }
}

/// Least privilege, enforced in the library (DOMAIN.md §6): mentor — own students; counsellor — own school;
/// centre — cases referred to the centre; hospital — cases referred to it (minimum-necessary fields);
/// health office — counts only, never a case; administrator — accounts only, never a case.
/// Closed cases leave the centre's and hospital's scope `CaseRules.closedRetentionDays` after closing.
public enum Access {
    /// Whether `actor` may see the case at all at `now`. `mentorOf` says whether the actor mentors the student.
    public static func canRead(_ actor: Actor, _ c: CaseFacts, mentorOf: Bool, now: Int, rules: CaseRules = CaseRules()) -> Bool {
        let retained = c.closedAt.map { now - $0 <= rules.closedRetentionDays * 86400 } ?? true
        switch actor.role {
        case .mentor: return mentorOf && c.school == actor.organisation
        case .counsellor: return c.school == actor.organisation
        case .centre: return c.referredToCentre && retained
        case .hospital: return c.hospital != nil && c.hospital == actor.organisation && !actor.organisation.isEmpty && retained
        case .healthOffice, .admin, .nurse: return false
        }
    }

    /// Whether `actor` may raise a flag for a student. `studentSchool` is the school the student is known at
    /// *from the actor's side*: for a counsellor, their own school if the student is on its records (else nil);
    /// for a mentor, the school of their assignment (else nil). A student of another school and a student who
    /// does not exist look the same: nil.
    public static func canFlag(_ actor: Actor, studentSchool: String?, mentorOf: Bool) -> Bool {
        guard let studentSchool, studentSchool == actor.organisation else { return false }
        switch actor.role {
        case .mentor: return mentorOf
        case .counsellor: return true
        case .centre, .hospital, .healthOffice, .admin, .nurse: return false
        }
    }

    /// Who may move a case to another school: the counsellor of its school, or the centre for a case it holds.
    public static func canTransfer(_ actor: Actor, _ c: CaseFacts, now: Int, rules: CaseRules = CaseRules()) -> Bool {
        guard c.state != .closed else { return false }
        switch actor.role {
        case .counsellor: return c.school == actor.organisation
        case .centre: return canRead(actor, c, mentorOf: false, now: now, rules: rules)
        default: return false
        }
    }

    /// Whether `actor` may read the audit trail of a case they can read (not mentors, not the hospital).
    public static func canReadAudit(_ actor: Actor) -> Bool { actor.role == .counsellor || actor.role == .centre }

    /// Who reviews emergency overrides: the county centre.
    public static func canReviewOverrides(_ actor: Actor) -> Bool { actor.role == .centre }

    /// Who answers a student's or guardian's request to see or erase their data (PIPL arts. 44–47): the
    /// counsellor of the student's school, for what the school holds.
    public static func canServeDataRequest(_ actor: Actor, studentKnownAtOwnSchool: Bool) -> Bool {
        actor.role == .counsellor && studentKnownAtOwnSchool
    }

    /// Who uploads screenings and rosters for a school: its nurse, for her own school only.
    public static func canImport(_ actor: Actor, school: String) -> Bool {
        actor.role == .nurse && !actor.organisation.isEmpty && actor.organisation == school
    }

    /// Who reads the trend reports: the health office (the county), and a school's nurse and counsellor (suppressed,
    /// like every published report).
    public static func canReadReports(_ actor: Actor) -> Bool {
        switch actor.role {
        case .healthOffice, .nurse, .counsellor, .centre: return true
        case .mentor, .hospital, .admin: return false
        }
    }

    /// The fields of a case a role may see.
    public enum View: Sendable {
        /// Mentor: tier, state and actions; no scores, no notes, no hospital feedback.
        case actions
        /// Counsellor, centre: everything about the case.
        case full
        /// Hospital: identity, tier, referral and consent; not the school's notes, screening scores or feedback text.
        case minimumNecessary
    }

    public static func view(for role: Role) -> View? {
        switch role {
        case .mentor: return .actions
        case .counsellor, .centre: return .full
        case .hospital: return .minimumNecessary
        case .healthOffice, .admin, .nurse: return nil
        }
    }
}

/// The one error for anything outside an actor's scope: it never says whether the case exists.
public struct NotInScope: Error, Equatable, CustomStringConvertible {
    public var caseID: Int64
    public init(caseID: Int64) { self.caseID = caseID }
    public var description: String { "no case \(caseID) that you may see" }
}
