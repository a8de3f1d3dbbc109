internal import HealthStorage
public import HealthCore
public import HealthRisk
internal import CSQLite
internal import GRDB
import Foundation

extension ImportSession {
    /// The school of the student's most recent record of any kind.
    public func schoolOf(_ student: String) throws(StoreError) -> String? {
        if schoolLookup == nil {
            do {
                schoolLookup = try prepare("""
                    SELECT school_code FROM (
                        SELECT school_code, screening_date AS d FROM vision_screening WHERE student_id = ?1
                        UNION ALL SELECT school_code, screening_date FROM spine_screening WHERE student_id = ?1
                        UNION ALL SELECT school_code, printf('%04d-09-01', school_year) FROM fitness_test WHERE student_id = ?1 AND batch_id <> ?2
                    ) ORDER BY d DESC LIMIT 1
                    """)
            } catch let error as StoreError { throw error } catch { throw .sqlite(path: path, code: -1, message: "\(error)") }
        }
        sqlite3_reset(schoolLookup)
        StoreValue.text(student).bind(to: schoolLookup, at: 1)
        sqlite3_bind_int64(schoolLookup, 2, batch)
        defer { sqlite3_reset(schoolLookup) }
        let rc = sqlite3_step(schoolLookup)
        if rc == SQLITE_ROW, let text = sqlite3_column_text(schoolLookup, 0) { return String(cString: text) }
        guard rc == SQLITE_DONE else { throw failure(rc) }
        return nil
    }
}

extension ImportSession {
    /// Writes one psychological screening (scores only). When a risk rule matched a newly stored or changed
    /// result, a flag is raised: it opens the student's case or joins the open one.
    public func write(psych s: PsychScores, student: String, sex: Int, school: String, grade: Int, className: String?, date: String,
                      schoolYear: Int, rule: RiskRule?, ruleVersion: String?, deadlines: DeadlinePolicy, now: Int, line: Int) throws -> WriteOutcome {
        var put = Put(values: values)
        put(.text(student)); put(.text(date)); put(.text(s.instrument.rawValue))
        put(.int(Int64(schoolYear))); put(.text(school)); put(.int(Int64(grade))); put(Put.text(className)); put(.int(Int64(sex)))
        put(Put.int(s.total)); put(Put.int(s.item9)); put(Put.int(s.validity)); put(Put.int(s.item85)); put(Put.int(s.item97))
        put(Put.int(s.positiveItems)); put(Put.int(s.factorMaxHundredths)); put(Put.int(s.informant))
        put(Put.text(rule?.tier.rawValue)); put(Put.text(rule?.id)); put(Put.text(ruleVersion))
        let outcome = try writeValues(line: line)
        if let rule, outcome == .inserted || outcome == .updated {
            do {
                // The deadline runs from the screening (`now` is its time); the audit event has the clock's time.
                _ = try CaseRows.flag(db, store: store, student: student, school: school, className: className, tier: rule.tier, kind: "rule",
                                      ruleID: rule.id, ruleVersion: ruleVersion,
                                      reason: "\(s.instrument.rawValue) \(rule.condition.description) (\(rule.source))",
                                      actor: .system("import batch \(batch)", organisation: school),
                                      raisedAt: now, auditAt: Int(Date().timeIntervalSince1970), policy: deadlines, batch: batch)
            } catch let error as StoreError { throw error } catch { throw StoreError(error, path: path) }
        }
        return outcome
    }
}
