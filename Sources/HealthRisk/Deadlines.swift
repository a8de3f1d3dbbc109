
/// A span of time before a step is due: hours on the clock, or school days (Monday–Friday).
public struct Deadline: Sendable, Equatable, Codable {
    public enum Unit: String, Sendable, Codable { case hours, schoolDays = "school-days" }
    public var amount: Int
    public var unit: Unit
    public init(amount: Int, unit: Unit) { self.amount = amount; self.unit = unit }

    /// When a step entered at `start` (seconds since 1970, UTC) is due, in `utcOffset` seconds' local time.
    /// School days end at 17:00 local time; weekends do not count. (Public holidays are not modelled.)
    ///
    ///     Deadline(amount: 1, unit: .schoolDays).due(from: fridayNoon)   // Monday 17:00
    public func due(from start: Int, utcOffset: Int = 8 * 3600) -> Int {
        switch unit {
        case .hours: return start + amount * 3600
        case .schoolDays:
            var day = Self.localDay(start, utcOffset)
            var remaining = amount
            while remaining > 0 {
                day += 1
                if Self.isSchoolDay(day) { remaining -= 1 }
            }
            return day * 86400 + 17 * 3600 - utcOffset
        }
    }

    static func localDay(_ t: Int, _ offset: Int) -> Int { let local = t + offset; return local >= 0 ? local / 86400 : (local - 86399) / 86400 }

    /// 1970-01-01 was a Thursday.
    static func isSchoolDay(_ day: Int) -> Bool {
        let weekday = ((day % 7) + 7 + 3) % 7   // 0 = Monday … 6 = Sunday
        return weekday < 5
    }
}

/// How soon each open step is due, per tier (Config/rules/risk.yaml).
public struct DeadlinePolicy: Sendable, Equatable {
    public var deadlines: [Tier: [CaseState: Deadline]]
    public init(deadlines: [Tier: [CaseState: Deadline]]) { self.deadlines = deadlines }

    /// When the step after entering `state` is due, or nil if the state has no deadline.
    public func due(tier: Tier, state: CaseState, enteredAt: Int) -> Int? {
        deadlines[tier]?[state].map { $0.due(from: enteredAt) }
    }
}

/// A case as the queue orders it.
public struct QueueEntry: Sendable, Equatable, Codable {
    public var caseID: Int64
    public var tier: Tier
    /// The tier after escalations: each overdue step raises the case one tier (red stays red).
    public var effectiveTier: Tier { Tier.allCases[max(0, tier.urgency - escalations)] }
    public var state: CaseState
    public var openedAt: Int
    public var dueAt: Int?
    public var escalations: Int
    public init(caseID: Int64, tier: Tier, state: CaseState, openedAt: Int, dueAt: Int?, escalations: Int) {
        self.caseID = caseID; self.tier = tier; self.state = state; self.openedAt = openedAt; self.dueAt = dueAt; self.escalations = escalations
    }

    /// Seconds overdue at `now` (0 if not due yet).
    public func overdue(at now: Int) -> Int { dueAt.map { max(0, now - $0) } ?? 0 }
}

public enum Queue {
    /// By tier after escalation (red first), then most overdue, then oldest.
    public static func order(_ entries: [QueueEntry], now: Int) -> [QueueEntry] {
        entries.sorted { a, b in
            let (oa, ob) = (a.overdue(at: now), b.overdue(at: now))
            if a.effectiveTier != b.effectiveTier { return a.effectiveTier < b.effectiveTier }
            if oa != ob { return oa > ob }
            if a.openedAt != b.openedAt { return a.openedAt < b.openedAt }
            return a.caseID < b.caseID
        }
    }
}
