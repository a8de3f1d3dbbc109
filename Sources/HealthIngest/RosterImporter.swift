public import HealthStore
public import HealthRisk
import HealthCore
import Foundation

/// Imports a school's student list (学籍名单) for a school year (`Config/profiles/roster.yaml`): the national
/// template's base columns or a platform's student export. The guarantees of the screenings hold: one transaction
/// (all of the file or nothing), the rejected rows safe before anything is saved, each with its line, column and
/// reason, and the same file again changes nothing. Names and addresses in the file are never stored.
///
///     let report = try RosterImporter(store: store, config: config)
///         .importFile(path: "学籍名单.csv", options: options, rejects: RejectionList())
public struct RosterImporter: Sendable {
    public let store: Store
    public let config: SchoolHealthConfig

    public init(store: Store, config: SchoolHealthConfig) {
        self.store = store
        self.config = config
    }

    /// `options.schoolYear` is required; the school comes from a school column, a school-name column (through the
    /// county's list) or `options.school`. `actor`, when given, is logged with the import.
    public func importFile(path: String, options given: ImportOptions, actor: Actor? = nil, rejects: any RejectionSink) throws -> FileReport {
        var options = given
        let file = options.displayName ?? path
        if options.schools.isEmpty { options.schools = SchoolDirectory(try store.schools()) }
        guard let schoolYear = options.schoolYear else {
            throw IngestError.missingOption(file: file, reason: "a student list is for one school year: pass --school-year YEAR (e.g. 2024 for 2024–2025)")
        }
        let input = try InputFile(path)
        defer { input.remove() }
        let inspection = try options.inspection ?? FileInspector.inspect(path: input.path, displayName: file)
        var report = FileReport(file: file, status: .imported)
        report.encoding = inspection.encoding.rawValue
        report.sha256 = inspection.sha256
        let profiles = config.profiles(kind: "roster")
        if profiles.isEmpty { throw IngestError.noProfile(file: file, kind: "roster") }
        var entries: [RosterEntry] = []
        var firstLine: [String: Int] = [:]
        var pending: [Rejection] = []
        var blank = 0
        var stream = HeadedReader(path: input.path, encoding: inspection.encoding)
        let map = try stream.read(head: { rows throws(IngestError) in
            let map = try HeaderMatcher.detect(rows: rows, profiles: profiles, file: file, preferred: options.profile, identityFields: IdentityFields.keys)
            try StudentColumns.check(map, options: options, file: file, needsDate: false)
            return map
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
            let columns = StudentColumns(map)
            let v = columns.read(record, into: &reader, options: options, dateRequired: false, ageBounds: 2...30)
            guard reader.problems.isEmpty, let id = v.id, let sex = v.sex, let school = v.school, let grade = v.grade else { return reject() }
            if let first = firstLine[id.rawValue] {
                reader.add(columns.id, value: id.rawValue, reason: "repeats the student of line \(first); that line was kept")
                return reject()
            }
            firstLine[id.rawValue] = record.line
            entries.append(RosterEntry(schoolYear: schoolYear, studentID: id.rawValue, school: school, grade: grade.rawValue,
                                       classCode: v.classCode, className: v.className, sex: sex.rawValue, birthDate: v.birth?.description))
        })
        report.profile = map.profile.name
        report.layout = map.layout
        report.layout?.delimiter = Delimiter.name(stream.delimiter)
        if !map.ignored.isEmpty { report.warn("ignored columns (not stored): \(map.ignored.joined(separator: ", "))") }
        if blank > 0 { report.warn("\(blank) empty row(s) skipped") }
        if report.rowsRead == 0 { throw IngestError.headerOnly(file: file) }
        var moved = 0
        let (rowsRead, rejected) = (report.rowsRead, report.rejected)
        try ListImport.finish(&report, pending: pending, rejects: rejects, dryRun: options.dryRun, accepted: entries.count) { beforeCommit in
            let change = try store.saveRoster(entries, fileName: (file as NSString).lastPathComponent, sha256: inspection.sha256, schoolYear: schoolYear,
                                              school: options.onlyGivenSchool ? options.school : nil, rowsRead: rowsRead, rejected: rejected,
                                              actor: actor, beforeCommit: beforeCommit)
            moved = change.moved
            return ListSave(batch: change.batch,
                            already: change.alreadyImported.map { a -> ReasonText in "this file (same SHA-256) was already imported as batch \(a.batch) on \(Self.day(a.at)); nothing changed" },
                            inserted: change.inserted, updated: change.updated, unchanged: change.unchanged)
        }
        if moved > 0 { report.warn("\(moved) student(s) were on another school's list for this year and are now on this one") }
        return report
    }

    static func day(_ t: Int) -> String { CivilDate(countyTime: t).description }
}
