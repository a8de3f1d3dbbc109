public import HealthCore
public import HealthStore
import Foundation

/// How to import.
public struct ImportOptions: Sendable {
    /// Run every check and report what would happen, keeping nothing.
    public var dryRun = false
    /// Reject the whole file if any row fails.
    public var strict = false
    /// Use this profile instead of choosing one from the header.
    public var profile: String?
    /// The school of every row, for exports without a school column.
    public var school: String?
    /// Fitness: the school year the tests belong to (the national template has no date column).
    public var schoolYear: Int?
    /// Fitness: the school follows 五四制; grade codes are remapped for scoring (Config/rules/fitness.yaml).
    public var fiveFour = false
    /// The screening date of every row, for exports without a date column.
    public var screeningDate: CivilDate?
    /// The county's school list: rows that name their school (学校名称) are placed through it.
    public var schools = SchoolDirectory()
    /// Dates after this are rejected as "in the future".
    public var today: CivilDate = .today
    /// Called now and then with (bytes read, file size, rows read).
    public var progress: (@Sendable (Int, Int, Int) -> Void)?
    /// Rows whose school column names another school than `school` are rejected (a nurse's upload), instead of
    /// `school` filling in only where the file has no school.
    public var onlyGivenSchool = false
    /// The first pass, already made while the file was spooled (a web upload): not read again.
    public var inspection: FileInspection?
    /// The name the reader knows the file by (an upload's own name rather than its spool path).
    public var displayName: String?

    public init() {}
}

/// One rejected value (or row), as written to the rejects file — or, with kind `.disagreement`, a score in
/// the file that differs from ours (the row is stored; both values are kept).
public struct Rejection: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case rejected, disagreement }
    public var kind: Kind = .rejected
    public var file: String
    /// Physical line in the source file (1 is the header).
    public var line: Int
    public var column: String
    public var value: String
    /// In English; `explanation` keeps its template and values for the catalogue (`MessageCatalogue.reason`).
    public var reason: String
    public var explanation: ReasonText

    public init(kind: Kind = .rejected, file: String, line: Int, column: String, value: String, reason: ReasonText) {
        self.kind = kind; self.file = file; self.line = line; self.column = column; self.value = value
        self.reason = reason.text
        self.explanation = reason
    }

    /// The column named when a problem is the row's, not one value's.
    public static let wholeRow = "(whole row)"
}

/// What importing one file did; `--json` prints it.
public struct FileReport: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case imported
        case alreadyImported = "already-imported"
        case dryRun = "dry-run"
        case refused
    }
    public var file: String
    public var status: Status
    public var encoding: String?
    public var sha256: String?
    public var batch: Int64?
    public var profile: String?
    public var ruleVersion: String?
    public var rowsRead = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    /// Rows stored whose file-supplied scores differ from ours (fitness).
    public var disagreements = 0
    /// In English; `explainedWarnings` keeps each one's template and values for the catalogue.
    public var warnings: [String] = []
    public var explainedWarnings: [ReasonText] = []

    public mutating func warn(_ warning: ReasonText) {
        warnings.append(warning.text)
        explainedWarnings.append(warning)
    }
    /// How the file was read: title and header lines, delimiter, what each column was mapped to.
    public var layout: LayoutReport?
    public var error: String?
    public var rejectsFile: String?
    public var disagreementsFile: String?

    public init(file: String, status: Status) {
        self.file = file
        self.status = status
    }
}

/// Imports CSV exports into the store: one file, one batch, one transaction.
///
///     let importer = FileImporter(store: store, config: config)
///     let report = try importer.importFile(path: "vision-2024.csv", kind: .vision, options: .init(), rejects: RejectionList())
public struct FileImporter: Sendable {
    public let store: any ScreeningStorage
    public let config: SchoolHealthConfig

    public init(store: any ScreeningStorage, config: SchoolHealthConfig) {
        self.store = store
        self.config = config
    }

    /// Imports `path`. Rejected values go to `reject` as they are found. Throws `IngestError` when the
    /// whole file is refused, and `StoreError` when the database fails; in both cases nothing of it is kept.
    public func importFile(path: String, kind: ScreeningKind, options: ImportOptions,
                           reject: @escaping (Rejection) -> Void) throws -> FileReport {
        try importFile(path: path, kind: kind, options: options, rejects: ClosureSink(reject))
    }

    /// Imports `path`. Rejected rows go to `rejects`, scores that disagree with ours to `disagreements` (or to
    /// `rejects` when nil). Both are sealed before the file's commit: a sink that cannot keep its rows stops the
    /// import, and nothing of the file is stored.
    public func importFile(path: String, kind: ScreeningKind, options: ImportOptions,
                           rejects: any RejectionSink, disagreements: (any RejectionSink)? = nil) throws -> FileReport {
        var options = options
        if options.schools.isEmpty { options.schools = SchoolDirectory(try store.schools()) }
        let sinks = Sinks(rejects: rejects, disagreements: disagreements)
        do {
            let report: FileReport
            switch kind {
            case .vision: report = try run(VisionImporter.self, path: path, options: options, sinks: sinks)
            case .spine: report = try run(SpineImporter.self, path: path, options: options, sinks: sinks)
            case .fitness: report = try run(FitnessImporter.self, path: path, options: options, sinks: sinks)
            case .psych: report = try run(PsychImporter.self, path: path, options: options, sinks: sinks)
            }
            sinks.settle(kept: true)
            return report
        } catch {
            sinks.settle(kept: false)
            throw error
        }
    }

    /// Where one file's rejections and disagreements go.
    struct Sinks {
        let rejects: any RejectionSink
        let disagreements: (any RejectionSink)?
        func add(_ r: Rejection) throws { try (r.kind == .disagreement ? disagreements ?? rejects : rejects).add(r) }
        func seal() throws { try rejects.seal(); try disagreements?.seal() }
        func settle(kept: Bool) { rejects.settle(kept: kept); disagreements?.settle(kept: kept) }
    }

    func run<R: RecordImporter>(_ type: R.Type, path given: String, options: ImportOptions, sinks: Sinks) throws -> FileReport {
        let file = options.displayName ?? given
        let input = try InputFile(given)
        defer { input.remove() }
        let path = input.path
        let trace = Trace()
        let inspection = try options.inspection ?? FileInspector.inspect(path: path, displayName: file)
        let profiles = config.profiles(kind: R.profileKind)
        if profiles.isEmpty { throw IngestError.noProfile(file: file, kind: R.profileKind) }
        trace.mark("inspect (SHA-256, encoding)")
        var report = FileReport(file: file, status: options.dryRun ? .dryRun : .imported)
        report.encoding = inspection.encoding.rawValue
        report.sha256 = inspection.sha256
        let header = BatchHeader(kind: R.kind, fileName: (file as NSString).lastPathComponent, sha256: inspection.sha256,
                                 fileBytes: inspection.bytes, encoding: inspection.encoding.rawValue,
                                 profile: options.profile ?? "auto", ruleVersion: R.ruleVersion(config))
        var strictFailure = false
        let outcome = try store.importFile(header, now: ISO8601DateFormatter().string(from: Date())) { session in
            // Two threads: this one writes to SQLite while a parser thread decodes, parses, validates and
            // classifies the next rows (a bounded queue between them keeps memory flat).
            let pipe = RowPipe<R.Record>()
            let job = ParseJob<R>(path: path, file: file, inspection: inspection, profiles: profiles, config: config, options: options, pipe: pipe)
            let thread = Thread { job.run() }
            thread.stackSize = 1 << 23
            thread.start()
            defer { pipe.cancelAndWait() }

            func rejectRow(line: Int, _ problems: [RowProblem]) throws {
                session.counts.rejected += 1
                for p in problems { try sinks.add(Rejection(file: file, line: line, column: p.column, value: p.value, reason: p.reason)) }
            }
            var unplaced: [(line: Int, student: String)] = []
            while let batch = pipe.pop() {
                for item in batch {
                    switch item {
                    case let .note(line, notes):
                        report.disagreements += 1
                        for p in notes { try sinks.add(Rejection(kind: .disagreement, file: file, line: line, column: p.column, value: p.value, reason: p.reason)) }
                        continue
                    case let .rejected(line, problems):
                        try rejectRow(line: line, problems)
                    case let .record(record, line):
                        switch try R.write(record, line: line, into: session) {
                        case .outcome(.inserted): session.counts.inserted += 1
                        case .outcome(.updated): session.counts.updated += 1
                        case .outcome(.unchanged): session.counts.unchanged += 1
                        case let .outcome(.duplicateInFile(first, identical)):
                            try rejectRow(line: line, [duplicateProblem(first: first, identical: identical)])
                        case let .unplaced(student):
                            unplaced.append((line, student))
                        }
                    }
                    session.counts.rowsRead += 1
                }
            }
            let summary = try pipe.result()
            trace.mark("parse, validate, write rows")
            trace.note(String(format: "parser waited %.3f s for the writer; writer waited %.3f s for the parser",
                              Double(pipe.producerWaitNanos) / 1e9, Double(pipe.consumerWaitNanos) / 1e9))
            if !unplaced.isEmpty {
                throw IngestError.unattributed(file: file, students: unplaced.map { "\($0.student) (line \($0.line))" })
            }
            if session.counts.rowsRead == 0 { throw IngestError.headerOnly(file: file) }
            for late in try session.finishLoad() {
                session.counts.inserted -= 1
                try rejectRow(line: late.line, [duplicateProblem(first: late.firstLine, identical: late.identical)])
            }
            trace.mark("rebuild indexes")
            trace.note("bulk-loaded: " + (session.bulkLoaded.isEmpty ? "none" : session.bulkLoaded.joined(separator: ", ")))
            report.profile = summary.profile
            report.ruleVersion = summary.ruleVersion
            report.layout = summary.layout
            session.layout = (try? JSONEncoder().encode(summary.layout)).map { String(decoding: $0, as: UTF8.self) }
            if !summary.ignored.isEmpty { report.warn("ignored columns (not stored): \(summary.ignored.joined(separator: ", "))") }
            let excluded = summary.layout.columns.filter { $0.field == nil && $0.note != LayoutReport.notAField && $0.note != LayoutReport.unnamed }
            for (reason, columns) in Dictionary(grouping: excluded, by: { $0.note ?? "" }).sorted(by: { $0.key < $1.key }) {
                report.warn("\(columns.count) column(s) not read (\(columns.first!.header)…): \(reason)")
            }
            if summary.blank > 0 { report.warn("\(summary.blank) empty row(s) skipped") }
            for w in summary.warnings { report.warn(w) }
            strictFailure = options.strict && session.counts.rejected > 0
            report.rowsRead = session.counts.rowsRead
            report.inserted = session.counts.inserted
            report.updated = session.counts.updated
            report.unchanged = session.counts.unchanged
            report.rejected = session.counts.rejected
            // The rows rejected must be safe before the rows kept are: a sink that cannot keep them rolls back.
            try sinks.seal()
            return options.dryRun || strictFailure ? .rollback : .commit
        }
        trace.mark("commit")
        switch outcome {
        case let .alreadyImported(batch, importedAt):
            report.status = .alreadyImported
            report.batch = batch
            report.warn("this file (same SHA-256) was already imported as batch \(batch) on \(importedAt); nothing changed")
        case let .committed(batch):
            report.batch = batch
        case let .rolledBack(batch):
            report.batch = batch
            if strictFailure {
                report.status = .refused
                report.error = IngestError.strictRejected(file: file, rejected: report.rejected).description
            }
        }
        return report
    }

    private func duplicateProblem(first: Int, identical: Bool) -> RowProblem {
        RowProblem(column: Rejection.wholeRow, value: "",
                   reason: identical
                       ? "repeats line \(first) exactly (same student, same screening date); the first one was kept"
                       : "has the same student and screening date as line \(first) but different values; line \(first) was kept. Correct the file and import it again if this row is the right one")
    }
}

extension CivilDate {
    /// Today in the machine's time zone.
    public static var today: CivilDate {
        let seconds = Int(Date().timeIntervalSince1970) + TimeZone.current.secondsFromGMT()
        return CivilDate(daysSinceEpoch: seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
    }
}

/// Phase timings on stderr when SCHOOLHEALTH_TRACE is set (used by the benchmark).
final class Trace {
    private let enabled = ProcessInfo.processInfo.environment["SCHOOLHEALTH_TRACE"] != nil
    private var last = DispatchTime.now().uptimeNanoseconds

    func mark(_ phase: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(Data(String(format: "  %6.3f s  %@\n", Double(now - last) / 1e9, phase).utf8))
        last = now
    }

    func note(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("            \(text())\n".utf8))
    }
}
