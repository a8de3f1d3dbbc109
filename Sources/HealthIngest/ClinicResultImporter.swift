public import HealthStore
public import HealthRisk
public import HealthCore
import Foundation

/// Imports the clinic's results for notices (`Config/profiles/clinic-results.yaml`): student, date, provider and
/// result, for vision the cycloplegic refraction (SE per eye), for spine the radiograph's Cobb angle. Each row
/// answers a notice: the one its 通知编号 names, else the student's latest notice of that kind. The guarantees of the
/// screenings hold: all of the file or nothing, rejected rows (line, column, value, reason) safe first, the same
/// file again changes nothing. Results are checked against the rules of `Config/rules/follow-up.yaml`.
///
///     let report = try ClinicResultImporter(store: store, config: config)
///         .importFile(path: "复查回执.csv", options: options, rejects: RejectionList())
public struct ClinicResultImporter: Sendable {
    public let store: Store
    public let config: SchoolHealthConfig

    public init(store: Store, config: SchoolHealthConfig) {
        self.store = store
        self.config = config
    }

    /// `options.school` with `onlyGivenSchool`: only that school's notices (a nurse's upload). `kind` ("vision" or
    /// "spine") for files without a kind column whose results do not tell (正常).
    public func importFile(path: String, options: ImportOptions, kind: String? = nil, actor: Actor? = nil, rejects: any RejectionSink) throws -> FileReport {
        let file = options.displayName ?? path
        let input = try InputFile(path)
        defer { input.remove() }
        let inspection = try options.inspection ?? FileInspector.inspect(path: input.path, displayName: file)
        var report = FileReport(file: file, status: .imported)
        report.encoding = inspection.encoding.rawValue
        report.sha256 = inspection.sha256
        report.ruleVersion = config.followUp.versionTag
        let profiles = config.profiles(kind: "clinic-results")
        if profiles.isEmpty { throw IngestError.noProfile(file: file, kind: "clinic-results") }
        let school = options.onlyGivenSchool ? options.school : nil
        // Every notice the file may answer, by student and kind (a file holds a school's few hundred results).
        let all = try store.notices(school: school)
        let notices = all.filter { $0.reissueOf == nil }
        let byStudent = Dictionary(grouping: notices) { "\($0.findings.kind)|\($0.findings.studentID)" }
        let byID = Dictionary(uniqueKeysWithValues: notices.map { ($0.id, $0) })
        // A re-issue's number answers its original.
        let originalOf = Dictionary(uniqueKeysWithValues: all.compactMap { n in n.reissueOf.map { (n.id, $0) } })
        let rules = config.followUp.results
        var results: [ClinicResult] = []
        var firstLine: [Int64: Int] = [:]
        var pending: [Rejection] = []
        var blank = 0
        var stream = HeadedReader(path: input.path, encoding: inspection.encoding)
        let map = try stream.read(head: { rows throws(IngestError) in
            try HeaderMatcher.detect(rows: rows, profiles: profiles, file: file, preferred: options.profile,
                                     identityFields: IdentityFields.keys.union(["notice_id", "kind", "result_date", "provider", "outcome"]))
        }, data: { record, map in
            if record.isBlank { blank += 1; return }
            report.rowsRead += 1
            var reader = RowReader(map: map)
            reader.begin()
            func reject() {
                report.rejected += 1
                for p in reader.problems { pending.append(Rejection(file: file, line: record.line, column: p.column, value: p.value, reason: p.reason)) }
            }
            guard record.count == map.physicalCount else {
                reader.add(nil, value: "\(record.count) fields",
                           reason: "has \(record.count) fields but the header has \(map.physicalCount); a comma or quote is probably missing or extra, so the values cannot be matched to columns")
                return reject()
            }
            let c = map.index
            let id = reader.value(record, c["student_id"], required: true, FieldParsers.studentID)
            let noticeNumber = reader.value(record, c["notice_id"]) { raw throws(FieldProblem) -> Int64? in
                let b = FieldParsers.trimmed(raw)
                if b.isEmpty { return nil }
                guard let n = FieldParsers.digits(b), n > 0 else { throw FieldProblem(reason: "is not a notice number (the number printed on the notice, e.g. 1024)") }
                return Int64(n)
            }
            let date = reader.value(record, c["result_date"], required: true, FieldParsers.date)
            if let date, date > options.today { reader.add(c["result_date"], value: date.description, reason: "is in the future") }
            let provider = reader.text(record, c["provider"], required: true)
            let outcome = reader.value(record, c["outcome"], required: true) { raw throws(FieldProblem) -> ClinicOutcome? in
                guard let t = try FieldParsers.text(raw) else { return nil }
                guard let o = ClinicOutcome.parse(t) else {
                    throw FieldProblem(reason: "is not a result SchoolHealth knows: write 近视 or 非近视 (vision), 脊柱侧弯, 姿势性 or 正常 (spine)")
                }
                return o
            }
            let statedKind = reader.value(record, c["kind"]) { raw throws(FieldProblem) -> String? in
                guard let t = try FieldParsers.text(raw) else { return nil }
                switch t.lowercased() {
                case "视力", "近视", "屈光", "眼科", "vision", "视力复查", "散瞳验光": return "vision"
                case "脊柱", "脊柱侧弯", "脊柱弯曲", "spine", "脊柱复查", "骨科": return "spine"
                default: throw FieldProblem(reason: "is not a kind of result: write 视力 or 脊柱")
                }
            }
            func dioptres(_ key: String) -> Int? {
                reader.value(record, c[key]) { raw throws(FieldProblem) -> Int? in
                    guard let v = FieldParsers.milli(raw, units: [Array("D".utf8)]) else {
                        throw FieldProblem(reason: "is not a spherical equivalent in dioptres (e.g. -1.25)")
                    }
                    guard let v else { return nil }
                    guard Double(v) / 1000 >= rules.vision.seRange.min, Double(v) / 1000 <= rules.vision.seRange.max else {
                        throw FieldProblem(reason: "is outside \(rules.vision.seRange.min)…\(rules.vision.seRange.max) D")
                    }
                    return v
                }
            }
            let seRight = dioptres("se_right"), seLeft = dioptres("se_left")
            let cobb = reader.value(record, c["cobb"]) { raw throws(FieldProblem) -> Int? in
                guard let v = FieldParsers.milli(raw, units: [Array("°".utf8), Array("度".utf8)]) else {
                    throw FieldProblem(reason: "is not a Cobb angle in degrees (e.g. 12 or 12.5)")
                }
                guard let v else { return nil }
                guard Double(v) / 1000 >= rules.spine.cobbRange.min, Double(v) / 1000 <= rules.spine.cobbRange.max else {
                    throw FieldProblem(reason: "is outside \(Int(rules.spine.cobbRange.min))…\(Int(rules.spine.cobbRange.max))°")
                }
                return v / 100
            }
            guard reader.problems.isEmpty, let id, let date, let provider, let outcome else { return reject() }
            // Which kind: the column, else the result, else the values given, else --kind.
            let kindFromValues: String? = cobb != nil ? "spine" : (seRight != nil || seLeft != nil ? "vision" : nil)
            guard let resultKind = statedKind ?? (outcome.kind == "any" ? nil : outcome.kind) ?? kindFromValues ?? kind else {
                reader.add(c["outcome"], value: outcome.rawValue,
                           reason: "does not say whether this is a vision or a spine result: add a 检查类型 column (视力 / 脊柱) or choose the kind when uploading")
                return reject()
            }
            for p in Self.problems(kind: resultKind, outcome: outcome, seRight: seRight, seLeft: seLeft, cobbX10: cobb, rules: rules) {
                let column = c[p.field]
                reader.add(column, value: column.map { FieldParsers.display(reader.raw(record, $0)) } ?? p.value, reason: p.reason)
            }
            guard reader.problems.isEmpty else { return reject() }
            func accept(_ n: NoticeRecord) {
                if date.description < n.findings.screeningDate {
                    reader.add(c["result_date"], value: date.description, reason: "is before the screening of \(n.findings.screeningDate) that notice \(n.id) reports")
                    return reject()
                }
                if let first = firstLine[n.id] {
                    reader.add(c["student_id"], value: id.rawValue, reason: "answers notice \(n.id) again (line \(first) did); that line was kept")
                    return reject()
                }
                firstLine[n.id] = record.line
                results.append(ClinicResult(noticeID: n.id, resultDate: date.description, provider: provider, outcome: outcome,
                                            seRightMdpt: seRight, seLeftMdpt: seLeft, cobbX10: cobb, ruleVersion: config.followUp.versionTag,
                                            line: record.line))
            }
            // The notice it answers.
            if let noticeNumber {
                if let n = byID[originalOf[noticeNumber] ?? noticeNumber], n.findings.studentID == id.rawValue, n.findings.kind == resultKind {
                    return accept(n)
                }
                reader.add(c["notice_id"], value: String(noticeNumber),
                           reason: "is not a \(Self.noun(resultKind, "notice")) of student \(id.rawValue)\(school.map { " at school \($0)" } ?? "")")
                return reject()
            }
            let issued = byStudent["\(resultKind)|\(id.rawValue)"] ?? []
            guard let notice = issued.filter({ $0.findings.screeningDate <= date.description })
                .max(by: { ($0.findings.screeningDate, $0.id) < ($1.findings.screeningDate, $1.id) }) else {
                let others = Set(notices.filter { $0.findings.kind == resultKind && $0.result == nil }.map(\.findings.studentID))
                let near = NearestIDs.suggest(id.rawValue, among: others.sorted())
                let earlier = issued.isEmpty ? "" : " for a screening on or before \(date)"
                reader.add(c["student_id"], value: id.rawValue,
                           reason: near.isEmpty ? "has no \(Self.noun(resultKind, "notice"))\(earlier): issue the notice first, or check the 学籍号"
                               : "has no \(Self.noun(resultKind, "notice"))\(earlier); did you mean \(near.joined(separator: " or "))?")
                return reject()
            }
            accept(notice)
        })
        report.profile = map.profile.name
        report.layout = map.layout
        report.layout?.delimiter = Delimiter.name(stream.delimiter)
        if !map.ignored.isEmpty { report.warn("ignored columns (not stored): \(map.ignored.joined(separator: ", "))") }
        if blank > 0 { report.warn("\(blank) empty row(s) skipped") }
        if report.rowsRead == 0 { throw IngestError.headerOnly(file: file) }
        let (rowsRead, rejected) = (report.rowsRead, report.rejected)
        try ListImport.finish(&report, pending: pending, rejects: rejects, dryRun: options.dryRun, accepted: results.count) { beforeCommit in
            let change = try store.saveClinicResults(results, fileName: (file as NSString).lastPathComponent, sha256: inspection.sha256, school: school,
                                                     rowsRead: rowsRead, rejected: rejected, actor: actor, beforeCommit: beforeCommit)
            return ListSave(batch: change.batch,
                            already: change.alreadyImported.map { a -> ReasonText in "this file (same SHA-256) was already imported as results batch \(a); nothing changed" },
                            inserted: change.inserted, updated: change.updated, unchanged: change.unchanged)
        }
        return report
    }

    /// What in a result disagrees with itself or with the rules of `Config/rules/follow-up.yaml` (the field, the
    /// value, why): the import and the nurse's form check the same.
    public static func problems(kind: String, outcome: ClinicOutcome, seRight: Int?, seLeft: Int?, cobbX10 cobb: Int?,
                                rules: FollowUpRules.Results) -> [(field: String, value: String, reason: ReasonText)] {
        var out: [(field: String, value: String, reason: ReasonText)] = []
        if outcome.kind != "any" && outcome.kind != kind {
            out.append((field: "outcome", value: outcome.rawValue, reason: "is a \(noun(outcome.kind, "result")), but the row is a \(noun(kind, "result"))"))
        }
        if kind == "vision", let cobb { out.append((field: "cobb", value: "\(Double(cobb) / 10)", reason: "is a spine value on a vision result")) }
        if kind == "spine", seRight != nil || seLeft != nil {
            out.append((field: seRight != nil ? "se_right" : "se_left", value: "\(Double(seRight ?? seLeft ?? 0) / 1000)", reason: "is a refraction on a spine result"))
        }
        let threshold = Int((rules.vision.myopiaSEAtMost * 1000).rounded())
        let eyes = [seRight, seLeft].compactMap { $0 }
        if outcome == .myopia, !eyes.isEmpty, eyes.allSatisfy({ $0 > threshold }) {
            out.append((field: "outcome", value: outcome.rawValue, reason: "says myopia, but no eye's spherical equivalent is at most \(rules.vision.myopiaSEAtMost) D"))
        }
        if outcome == .notMyopic || (outcome == .normal && kind == "vision"), eyes.contains(where: { $0 <= threshold }) {
            out.append((field: "outcome", value: outcome.rawValue, reason: "says not myopic, but an eye's spherical equivalent is at most \(rules.vision.myopiaSEAtMost) D"))
        }
        let cobbFrom = Int((rules.spine.scoliosisCobbFrom * 10).rounded())
        if outcome == .scoliosis, let cobb, cobb < cobbFrom {
            out.append((field: "cobb", value: "\(Double(cobb) / 10)", reason: "is below \(Int(rules.spine.scoliosisCobbFrom))°, the least Cobb angle of scoliosis, but the result says scoliosis"))
        }
        if outcome != .scoliosis, kind == "spine", let cobb, cobb >= cobbFrom {
            out.append((field: "cobb", value: "\(Double(cobb) / 10)", reason: "is \(Int(rules.spine.scoliosisCobbFrom))° or more, which is scoliosis, but the result says \(outcome.rawValue)"))
        }
        return out
    }

    /// "vision notice", "spine result": words the catalogue translates as a whole.
    static func noun(_ kind: String, _ what: String) -> String { (kind == "vision" ? "vision " : "spine ") + what }
}
