/// How many backups to keep and when the server takes one (`Config/backup.yaml`).
///
///     let keep = BackupSettings(keepDaily: 7, keepWeekly: 5, dailyAt: "02:30").kept([t1, t2, t3])
public struct BackupSettings: Sendable, Codable, Equatable {
    public var keepDaily: Int
    public var keepWeekly: Int
    /// County time (UTC+8), "HH:MM".
    public var dailyAt: String

    public init(keepDaily: Int, keepWeekly: Int, dailyAt: String) {
        self.keepDaily = keepDaily; self.keepWeekly = keepWeekly; self.dailyAt = dailyAt
    }

    /// The minutes after county midnight of `dailyAt`, or nil when it is not HH:MM.
    public var dailyMinute: Int? {
        let parts = dailyAt.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else { return nil }
        return h * 60 + m
    }

    /// The next time (Unix seconds) after `t` at which the daily backup is due.
    public func nextRun(after t: Int) -> Int? {
        guard let minute = dailyMinute else { return nil }
        let day = CivilDate(countyTime: t).daysSinceEpoch
        for d in day...(day + 1) {
            let at = d * 86400 - 8 * 3600 + minute * 60
            if at > t { return at }
        }
        return nil
    }

    /// Which of the backups taken at `times` (Unix seconds) to keep: the newest of each of the last `keepDaily`
    /// county days that have a backup, and the newest of each of the last `keepWeekly` weeks (Monday–Sunday).
    /// The newest backup is always kept.
    public func kept(_ times: [Int]) -> Set<Int> {
        let order = times.indices.sorted { times[$0] > times[$1] }
        var keep = Set<Int>()
        if let newest = order.first { keep.insert(newest) }
        var days = Set<Int>(), weeks = Set<Int>()
        for i in order {
            let day = CivilDate(countyTime: times[i]).daysSinceEpoch
            // 1970-01-01 was a Thursday: days + 3 counts from a Monday.
            let week = Int((Double(day + 3) / 7).rounded(.down))
            if !days.contains(day), days.count < keepDaily { days.insert(day); keep.insert(i) }
            if !weeks.contains(week), weeks.count < keepWeekly { weeks.insert(week); keep.insert(i) }
        }
        return keep
    }
}
