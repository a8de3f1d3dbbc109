public import HealthCore
public import HealthAnalytics
public import HealthIngest
public import HealthRisk
public import HealthStore
import Foundation

/// One class's notices for a school year: screenings that found something, notices issued, results back.
public struct NoticeClass: Sendable, Equatable {
    public var grade: Int
    public var classKey: String
    public var classLabel: String
    /// Screenings of the year with a finding that sends a notice.
    public var positive = 0
    /// Of those, with a notice issued.
    public var issued = 0
    /// Notices asking for a result with one recorded.
    public var returned = 0
    public var awaiting = 0
    public var reissues = 0
}

/// What issuing did.
public struct NoticeIssue: Sendable, Equatable {
    public var issued: [Int64]
    /// Screenings that already had a notice (issue again only by re-issuing).
    public var already: Int
}

/// The screening loop of a school's nurse: coverage from the lists, notices to parents, the clinics' results.
/// Everything here is the nurse's own school only.
public struct FollowUpService: Sendable {
    let services: SchoolHealthServices

    /// The nurse's school, or a refusal.
    func school(of actor: Actor) throws(ServiceError) -> String {
        guard Access.canImport(actor, school: actor.organisation) else {
            throw ServiceError(.forbidden, key: "error.forbidden", message: "only a school's nurse works its coverage, notices and results")
        }
        return actor.organisation
    }

    /// The school's coverage for a year: per class and kind, who was not screened, and screenings that match no list.
    public func coverage(schoolYear: Int, actor: Actor) async throws(ServiceError) -> Coverage {
        let school = try school(of: actor)
        let store = try services.store
        return try await offload {
            let all = try store.roster(schoolYear: schoolYear)
            let listed = Set(all.map(\.studentID))
            var screened: [String: [ScreenedStudent]] = [:]
            for kind in ScreeningLoop.kinds { screened[kind] = try store.screenedStudents(kind: kind, schoolYear: schoolYear) }
            return ScreeningLoop.coverage(school: school, schoolYear: schoolYear, roster: all.filter { $0.school == school }, screened: screened, listed: listed)
        }
    }

    /// The screenings of the year at the nurse's school that send a notice (by the rules), newest screening per student,
    /// in the class of the school's list where the student is on it.
    func candidates(school: String, schoolYear: Int) throws -> [NewNotice] {
        let rules = services.config.followUp
        var out: [NewNotice] = []
        // The school's list says which class a child is in (files write classes differently: 01, 1, 六年级1班).
        let listed = Dictionary(try services.store.roster(school: school, schoolYear: schoolYear).map { ($0.studentID, $0) }, uniquingKeysWith: { a, _ in a })
        for kind in ScreeningLoop.kinds where rules.findings.contains(where: { $0.enabled && $0.kind == kind }) {
            for var f in try services.store.screeningFindings(kind: kind, school: school, schoolYear: schoolYear) {
                if let e = listed[f.studentID] { (f.grade, f.classCode, f.className) = (e.grade, e.classCode, e.className) }
                let found = rules.findings(of: f)
                guard !found.isEmpty else { continue }
                out.append(NewNotice(findings: f, findingIDs: found.map(\.id), expectsResult: found.contains { $0.expectsResult }, ruleVersion: rules.versionTag))
            }
        }
        return out
    }

    /// Issues the notices not issued yet for the year (one class when `classKey` is given). A screening that has a
    /// notice is skipped: issuing again is `reissue`.
    public func issueNotices(schoolYear: Int, classKey: String?, actor: Actor, at: Int? = nil) async throws(ServiceError) -> NoticeIssue {
        let school = try school(of: actor)
        let service = self
        return try await offload {
            let wanted = try service.candidates(school: school, schoolYear: schoolYear).filter {
                classKey == nil || ClassLabel.key(grade: $0.findings.grade, classCode: $0.findings.classCode, className: $0.findings.className) == classKey
            }
            let (issued, already) = try service.services.store.issueNotices(wanted, actor: actor, at: at)
            return NoticeIssue(issued: issued, already: already)
        }
    }

    /// The year's notices of the nurse's school, per class.
    public func board(schoolYear: Int, actor: Actor) async throws(ServiceError) -> [NoticeClass] {
        let school = try school(of: actor)
        let service = self
        return try await offload {
            var classes: [String: NoticeClass] = [:]
            func touch(_ f: ScreeningFindings) -> String {
                let key = ClassLabel.key(grade: f.grade, classCode: f.classCode, className: f.className)
                let id = key
                if classes[id] == nil { classes[id] = NoticeClass(grade: f.grade, classKey: key, classLabel: f.classLabel) }
                return id
            }
            let notices = try service.services.store.notices(school: school, schoolYear: schoolYear)
            // A screening with a notice is counted in the class the notice was issued in (a list imported later may
            // name the class differently).
            var issuedIn: [String: String] = [:]
            for n in notices {
                let id = touch(n.findings)
                if n.reissueOf != nil { classes[id]!.reissues += 1; continue }
                issuedIn["\(n.findings.kind)|\(n.findings.studentID)|\(n.findings.screeningDate)"] = id
                guard n.expectsResult else { continue }
                if n.result != nil { classes[id]!.returned += 1 } else { classes[id]!.awaiting += 1 }
            }
            for c in try service.candidates(school: school, schoolYear: schoolYear) {
                if let id = issuedIn["\(c.findings.kind)|\(c.findings.studentID)|\(c.findings.screeningDate)"] {
                    classes[id]!.positive += 1
                    classes[id]!.issued += 1
                } else {
                    classes[touch(c.findings)]!.positive += 1
                }
            }
            return classes.values.sorted { ($0.grade, $0.classKey) < ($1.grade, $1.classKey) }
        }
    }

    /// The notices of one class (originals and re-issues), for the list and for printing.
    public func notices(schoolYear: Int, classKey: String?, actor: Actor) async throws(ServiceError) -> [NoticeRecord] {
        let school = try school(of: actor)
        let store = try services.store
        return try await offload { try store.notices(school: school, schoolYear: schoolYear, classKey: classKey) }
    }

    /// One class's notices as one printable HTML file (A4, a notice a page, the return slip at its foot). Only
    /// the notices not superseded by a re-issue are printed, unless `ids` names the ones wanted. Logged.
    public func printNotices(schoolYear: Int, classKey: String, ids: [Int64]? = nil, actor: Actor) async throws(ServiceError) -> String {
        let school = try school(of: actor)
        let all = try await notices(schoolYear: schoolYear, classKey: classKey, actor: actor)
        let latest = Dictionary(all.map { ($0.originalID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        let chosen = ids.map { wanted in all.filter { wanted.contains($0.id) } } ?? latest.values.sorted { $0.findings.studentID < $1.findings.studentID }
        let store = try services.store
        let name = try await offload { try store.schools().first { $0.code == school }?.name ?? school }
        try await offload { try store.recordNoticesPrinted(chosen.map(\.id), actor: actor, what: "school \(school), year \(schoolYear), class \(classKey)") }
        return NoticePrint.html(chosen, template: services.config.notices, schoolName: name, title: "\(name) \(chosen.first?.findings.classLabel ?? classKey)")
    }

    /// Issues a notice again (lost, the parents asked), marked as a re-issue with `reason`.
    public func reissue(_ id: Int64, reason: String, actor: Actor, at: Int? = nil) async throws(ServiceError) -> Int64 {
        _ = try school(of: actor)
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !why.isEmpty else {
            throw ServiceError(.invalid, key: "notices.reasonRequired", message: "a re-issue needs a reason (e.g. 家长遗失)", remedy: .option(name: "reason", value: "…"))
        }
        let store = try services.store
        return try await offload { try store.reissueNotice(id, reason: why, actor: actor, at: at) }
    }

    /// Notices still waiting for a result `olderThan` days or more after issue (default: the rules' setting), oldest first.
    public func openNotices(olderThan days: Int? = nil, actor: Actor) async throws(ServiceError) -> [NoticeRecord] {
        let school = try school(of: actor)
        let limit = days ?? services.config.followUp.openNoticeDays
        let now = Int(services.now().timeIntervalSince1970)
        let store = try services.store
        return try await offload {
            try store.notices(school: school).filter { $0.reissueOf == nil && $0.expectsResult && $0.result == nil && now - $0.issuedAt >= limit * 86400 }
        }
    }

    /// Records a clinic's result for a notice by hand, checked like an imported one.
    public func recordResult(noticeID: Int64, date: String, provider: String, outcome: String, seRight: String?, seLeft: String?, cobb: String?,
                             actor: Actor) async throws(ServiceError) -> Store.ResultWrite {
        let school = try school(of: actor)
        let store = try services.store
        guard let notice = try await offload({ try store.notice(noticeID) }), notice.findings.school == school else {
            throw ServiceError(.notFound, key: "error.notFound", message: "no notice \(noticeID) of your school")
        }
        func invalid(_ field: String, _ message: String) -> ServiceError {
            ServiceError(.invalid, key: "results.invalid", ["field": field, "detail": message], message: "\(field): \(message)")
        }
        guard case .success(let day) = CivilDate.parse(date) else { throw invalid("date", "\(date) is not a date (2024-10-20)") }
        guard day <= CivilDate.today else { throw invalid("date", "\(date) is in the future") }
        guard day.description >= notice.findings.screeningDate else {
            throw invalid("date", "\(date) is before the screening of \(notice.findings.screeningDate) that the notice reports")
        }
        let who = provider.trimmingCharacters(in: .whitespaces)
        guard !who.isEmpty, who.count <= 64 else { throw invalid("provider", "the clinic's name is needed (at most 64 characters)") }
        guard let result = ClinicOutcome.parse(outcome) else { throw invalid("outcome", "\(outcome) is not a result (近视, 非近视, 脊柱侧弯, 姿势性, 正常)") }
        let rules = services.config.followUp.results
        func number(_ text: String?, _ field: String, scale: Double, range: FollowUpRules.Bounds) throws(ServiceError) -> Int? {
            guard let t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
            guard let v = Double(t.replacingOccurrences(of: "−", with: "-").replacingOccurrences(of: "D", with: "").replacingOccurrences(of: "°", with: "")),
                  v >= range.min, v <= range.max else { throw invalid(field, "\(t) is not a number from \(range.min) to \(range.max)") }
            return Int((v * scale).rounded())
        }
        let r = try number(seRight, "seRight", scale: 1000, range: rules.vision.seRange)
        let l = try number(seLeft, "seLeft", scale: 1000, range: rules.vision.seRange)
        let c = try number(cobb, "cobb", scale: 10, range: rules.spine.cobbRange)
        if let p = ClinicResultImporter.problems(kind: notice.findings.kind, outcome: result, seRight: r, seLeft: l, cobbX10: c, rules: rules).first {
            throw ServiceError(.invalid, key: "results.invalid", ["field": p.field, "detail": services.messages.reason(p.reason, in: .zh)],
                               message: "\(p.field) \(p.value): \(p.reason.text)")
        }
        let entry = ClinicResult(noticeID: notice.originalID, resultDate: day.description, provider: who, outcome: result,
                                 seRightMdpt: r, seLeftMdpt: l, cobbX10: c, ruleVersion: services.config.followUp.versionTag)
        return try await offload { try store.recordClinicResult(entry, actor: actor) }
    }

    /// Imports a file of clinics' results (the CLI: `actor` nil, any school; an upload: the nurse's school only).
    public func importResults(path: String, options: ImportOptions, kind: String?, actor: Actor?, rejects: any RejectionSink) async throws(ServiceError) -> FileReport {
        let importer = ClinicResultImporter(store: try services.store, config: services.config)
        let sink = Handoff(value: rejects)
        return try await offload { try importer.importFile(path: path, options: options, kind: kind, actor: actor, rejects: sink.value) }
    }

    /// The report's strata and days for coverage and follow-up over `years` (nothing when no list or notice exists),
    /// counted in SQL (`ScreeningLoop` counts the same from values; a test holds them equal).
    func reportInputs(years: ClosedRange<Int>) throws -> (strata: [StratumCount], days: [FollowUpDays]) {
        let store = try services.store
        var strata: [StratumCount] = []
        let listed = try store.rosterYears().filter(years.contains)
        if !listed.isEmpty {
            for kind in ScreeningLoop.kinds { strata += try store.coverageCounts(kind: kind, schoolYears: listed) }
        }
        let follow = try store.followUpCounts(schoolYears: years)
        var days: [String: FollowUpDays] = [:]
        for d in follow.days {
            days["\(d.school)|\(d.year)|\(d.kind)", default: FollowUpDays(school: d.school, year: d.year, kind: d.kind, days: [])].days.append(d.days)
        }
        return (strata + follow.strata, days.keys.sorted().map { days[$0]! })
    }

    /// A notice as `ScreeningLoop` counts it (the tests compare the SQL counts with these).
    public static func outcome(_ n: NoticeRecord) -> ScreeningLoop.NoticeOutcome {
        let resultDay: Int? = n.result.flatMap { r in
            let p = r.resultDate.split(separator: "-").compactMap { Int($0) }
            return p.count == 3 ? CivilDate(year: p[0], month: p[1], day: p[2])?.daysSinceEpoch : nil
        }
        return ScreeningLoop.NoticeOutcome(kind: n.findings.kind, school: n.findings.school, schoolYear: n.findings.schoolYear, grade: n.findings.grade,
                                           sex: n.findings.sex, expectsResult: n.expectsResult, issuedDay: CivilDate(countyTime: n.issuedAt).daysSinceEpoch,
                                           resultDay: resultDay, confirmed: n.result?.outcome.confirms ?? false)
    }
}

/// Notices as one printable HTML file: A4 pages, one notice a page with its return slip; self-contained (no
/// scripts, no external files). A notice shows its own child only: class, 学籍号 and the screening's findings.
public enum NoticePrint {
    public static func html(_ notices: [NoticeRecord], template t: NoticeTemplate, schoolName: String, title: String) -> String {
        let e = HTMLText.escape
        var pages = ""
        for n in notices {
            let f = n.findings
            guard let kind = t.kinds[f.kind] else { continue }
            var values = f.values
            values["band"] = f.values["band"].flatMap { t.bands[$0] } ?? f.values["band"]
            values["sagittal"] = f.values["sagittal"].flatMap { t.sagittal[$0] } ?? f.values["sagittal"]
            values["school"] = schoolName
            values["schoolYear"] = "\(f.schoolYear)–\(f.schoolYear + 1)"
            values["class"] = f.classLabel
            values["studentID"] = f.studentID
            values["date"] = f.screeningDate
            values["issued"] = Self.day(n.issuedAt)
            values["clinic"] = t.clinics[f.kind] ?? ""
            values["returnDays"] = String(t.returnDays)
            values["noticeNumber"] = String(n.originalID)
            let fill = { (s: String) in e(NoticeTemplate.fill(s, values)) }
            let findings = n.findingIDs.compactMap { t.findings[$0] }.map { "<li>\(fill($0))</li>" }.joined()
            let mark = n.reissueOf != nil ? "<span class=\"reissue\">\(e(t.reissueMark))</span>" : ""
            pages += """
                <section class="notice" data-notice="\(n.id)" data-student="\(e(f.studentID))">
                <p class="number">\(e(t.numberLabel)) \(n.originalID)\(n.reissueOf != nil ? "-\(n.id)" : "") \(mark)</p>
                <h1>\(fill(kind.title))</h1>
                <p class="who">\(e(schoolName)) · \(e(f.classLabel)) · 学籍号 \(e(f.studentID)) · \(e(t.nameLine))</p>
                <p>\(fill(kind.greeting))</p>
                <p class="body">\(fill(kind.opening))</p>
                <ul class="findings">\(findings)</ul>
                \(kind.advice.map { "<p class=\"body\">\(fill($0))</p>" }.joined())
                <p class="body">\(fill(kind.closing))</p>
                <p class="sign">\(e(schoolName)) 校医室<br>\(e(Self.day(n.issuedAt)))</p>
                <div class="slip">
                <p class="cut">✂ - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -</p>
                <h2>\(fill(kind.slipTitle))</h2>
                <p>\(e(t.numberLabel)) \(n.originalID) · \(e(f.classLabel)) · 学籍号 \(e(f.studentID))</p>
                \(kind.slipLines.map { "<p>\(fill($0))</p>" }.joined())
                </div>
                </section>

                """
        }
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><title>\(e(title))</title>
            <style>
            @page { size: A4; margin: 16mm 18mm; }
            body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", serif; font-size: 11pt; line-height: 1.6; color: #000; margin: 0; }
            .notice { break-after: page; page-break-after: always; break-inside: avoid; position: relative; min-height: 250mm; }
            .notice:last-child { break-after: auto; page-break-after: auto; }
            h1 { font-size: 16pt; text-align: center; margin: 4mm 0 3mm; }
            h2 { font-size: 12pt; text-align: center; margin: 2mm 0; }
            .number { text-align: right; font-size: 9pt; margin: 0; }
            .reissue { border: 1px solid #000; padding: 0 2mm; margin-left: 2mm; font-weight: bold; }
            .who { font-size: 10pt; border-bottom: 1px solid #000; padding-bottom: 1mm; }
            .body { text-indent: 2em; margin: 1.5mm 0; }
            .findings { margin: 2mm 0 2mm 6mm; font-weight: bold; }
            .sign { text-align: right; margin-top: 4mm; }
            .slip { margin-top: 6mm; }
            .slip p { margin: 1.2mm 0; }
            .cut { text-align: center; color: #555; letter-spacing: 1px; font-size: 9pt; }
            @media screen { body { background: #ddd; } .notice { background: #fff; width: 174mm; margin: 8mm auto; padding: 12mm 18mm; box-shadow: 0 0 4px #888; } }
            </style></head>
            <body>
            \(pages)</body></html>

            """
    }

    public static func day(_ t: Int) -> String { CivilDate(countyTime: t).description }
}
