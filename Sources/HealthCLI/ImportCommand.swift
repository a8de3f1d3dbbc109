import ArgumentParser
import Foundation
import HealthCore
import HealthIngest
import HealthStore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import screening exports (CSV).",
        subcommands: [Vision.self, Spine.self, Fitness.self, Psych.self])

    /// The options every import takes.
    struct Common: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("CSV files to import.", valueName: "file"))
        var files: [String]
        @Flag(help: "Run every check and report what would happen; write nothing.")
        var dryRun = false
        @Flag(help: "Reject a whole file if any of its rows fails validation.")
        var strict = false
        @Option(help: ArgumentHelp("Write all rejected values to this one CSV file.", valueName: "path"))
        var rejects: String?
        @Flag(help: "Print one JSON object per file on stdout.")
        var json = false
        @Option(help: ArgumentHelp("Use this column profile: a name from Config/profiles or a .yaml file.", valueName: "name|file"))
        var profile: String?
        @Option(help: ArgumentHelp("The school code of every row, for exports without a school column.", valueName: "code"))
        var school: String?

        func run(_ kind: ScreeningKind, adjust: @escaping (inout ImportOptions) -> Void = { _ in }) throws {
            var run = ImportRun(global: global, files: files, kind: kind, dryRun: dryRun, strict: strict,
                                rejects: rejects, json: json, profile: profile, school: school)
            run.adjust = adjust
            if try !run.run() { throw ExitCode(1) }
        }
    }

    struct Vision: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import vision-screening CSV files (UTF-8, UTF-8 with BOM or GB18030; Chinese or English headers).",
            discussion: """
                Each file is one batch in one transaction: it is imported completely or not at all. \
                Rows that fail validation are not stored; they are listed, with line, column, value and reason, \
                in a rejects file (CSV, UTF-8 with BOM) — by default FILE.rejects.csv beside each input.

                Importing the same file again changes nothing. A corrected export updates the changed rows and \
                keeps the previous values as revisions.

                Examples:
                  schoolhealth import vision vision-2024.csv
                  schoolhealth import vision --dry-run --rejects check.csv exports/*.csv
                  schoolhealth import vision --school SH-P01 --json nurse-export.csv
                """)
        @OptionGroup var common: Common
        func run() throws { try common.run(.vision) }
    }

    struct Spine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import spine-screening CSV files (GB/T 16133-2014 surveillance form).",
            discussion: """
                Classifies each screening: ATR band per segment, screen-positive (ATR ≥ 5° in any segment) with a \
                referral suggestion, lateral and sagittal findings kept apart, and a Ⅰ/Ⅱ/Ⅲ grade whose ATR mapping is \
                UNCONFIRMED (GB/T 16133-2014 text not seen) and is marked so wherever it is shown.
                Same guarantees as `import vision`.
                """)
        @OptionGroup var common: Common
        func run() throws { try common.run(.spine) }
    }

    struct Psych: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import psychological screening scores (PHQ-9, GAD-7, MHT, SCL-90, SDQ) and raise flags by the risk rules.",
            discussion: """
                Scores only: no questionnaire item text is stored. Each row is evaluated by Config/rules/risk.yaml (a \
                proposal for the county centre to approve); a matching rule raises a flag that opens the student's case \
                or joins the open one, recording the rule and its version. Same guarantees as `import vision`.
                """)
        @OptionGroup var common: Common
        func run() throws { try common.run(.psych) }
    }

    struct Fitness: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import physical-fitness results in the national 2014 upload template and score them.",
            discussion: """
                Takes the template as it is (21 columns, or the 22-column variant), in GB18030 or UTF-8. Scores each \
                student by the 2014 standard (Config/fitness-standard-2014/): item scores, BMI category, weighted \
                standard score, bonus, annual total (at most 120) and band 优秀/良好/及格/不及格. Every score records \
                whether a table row behind it is SINGLE SOURCE or CONFLICT. Exempt (免体) and incomplete students are \
                stored and counted apart. Scores the file carries are kept and every disagreement with ours is listed \
                in FILE.disagreements.csv.

                The template has no school and no date column: give --school (or the students' school is taken from \
                their other records; a file with students who cannot be placed is refused) and --school-year.

                Example:
                  schoolhealth import fitness --school SH-P01 --school-year 2024 tizhi-2024.csv
                """)
        @OptionGroup var common: Common
        @Option(help: ArgumentHelp("The school year the tests belong to (2024 = 2024–2025).", valueName: "year"))
        var schoolYear: Int?
        @Flag(help: "The school follows 五四制: remap grade codes for scoring (21→16, 22→21, 23→22, 24→23).")
        var fiveFour = false
        func validate() throws {
            if let schoolYear, !(1950...2099).contains(schoolYear) {
                throw ValidationError("--school-year \(schoolYear) is not a school year: give the year it starts in, e.g. 2024 for 2024–2025")
            }
        }
        func run() throws {
            try common.run(.fitness) { options in
                options.schoolYear = schoolYear
                options.fiveFour = fiveFour
            }
        }
    }
}

/// The shared body of every `import` subcommand.
struct ImportRun {
    var global: GlobalOptions
    var files: [String]
    var kind: ScreeningKind
    var dryRun = false
    var strict = false
    var rejects: String?
    var json = false
    var profile: String?
    var school: String?
    var quiet = false
    /// Sets kind-specific options.
    var adjust: (inout ImportOptions) -> Void = { _ in }
    /// Write FILE.rejects.csv beside each input when --rejects is not given (the demo shows them instead).
    var rejectsBesideInput = true

    /// Imports every file; returns false if any was refused.
    @discardableResult
    func run() throws -> Bool {
        var extra: [String] = []
        var profileName = profile
        if let p = profile, p.hasSuffix(".yaml") || p.hasSuffix(".yml") {
            extra.append(p)
            profileName = nil
        }
        var config = try global.loadConfig(extraProfiles: extra)
        if let p = profile, profileName == nil {
            // A profile given as a file: use the profile it defines.
            let loaded = try SchoolHealthConfig.load(directory: config.directory, extraProfiles: [p])
            profileName = loaded.profiles.last?.name
            config = loaded
        }
        let store: Store
        if dryRun && !FileManager.default.fileExists(atPath: global.databasePath) {
            store = try Store.inMemory()
        } else {
            store = try Store.open(path: global.databasePath)
        }
        let importer = FileImporter(store: store, config: config)
        var options = ImportOptions()
        options.dryRun = dryRun
        options.strict = strict
        options.profile = profileName
        options.school = school
        adjust(&options)
        var allOK = true
        let shared = rejects.map { RejectsFile(path: $0) }
        defer { shared?.close() }
        for file in files {
            let name = (file as NSString).lastPathComponent
            if Console.stderrIsTerminal && !json && !quiet, let size = try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int, size > 4 << 20 {
                options.progress = { read, total, rows in ProgressBar.draw(name: name, read: read, total: total, rows: rows) }
            } else {
                options.progress = nil
            }
            let ownRejects: RejectsFile? = shared ?? (dryRun || !rejectsBesideInput ? nil : RejectsFile(path: file + ".rejects.csv"))
            let disagreements: RejectsFile? = dryRun || !rejectsBesideInput ? nil : RejectsFile(path: file + ".disagreements.csv")
            defer { disagreements?.close() }
            var preview: [Rejection] = []
            var report: FileReport
            do {
                report = try importer.importFile(path: file, kind: kind, options: options) { rejection in
                    if rejection.kind == .disagreement, let disagreements {
                        disagreements.append(rejection)
                    } else if let ownRejects {
                        ownRejects.append(rejection)
                    } else if preview.count < 10 {
                        preview.append(rejection)
                    }
                }
                if options.progress != nil { ProgressBar.clear() }
            } catch {
                if options.progress != nil { ProgressBar.clear() }
                report = FileReport(file: file, status: .refused)
                report.error = String(describing: error)
                allOK = false
            }
            if shared == nil { ownRejects?.close() }
            if let r = ownRejects, r.written > 0 { report.rejectsFile = r.path }
            if let d = disagreements, d.written > 0 { report.disagreementsFile = d.path }
            if report.status == .refused { allOK = false }
            print(report: report, preview: preview)
        }
        return allOK
    }

    func print(report: FileReport, preview: [Rejection]) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
            Swift.print(String(decoding: data, as: UTF8.self))
            if let error = report.error { Console.error(error) }
            return
        }
        if quiet { return }
        switch report.status {
        case .refused:
            Console.error("error: \(report.error ?? "refused")")
            if report.rowsRead > 0 { Console.error("  rows read \(report.rowsRead) · rejected \(report.rejected)") }
        case .alreadyImported:
            Swift.print("\(report.file): \(report.warnings.first ?? "already imported; nothing changed")")
            return
        case .imported, .dryRun:
            let verb = report.status == .dryRun ? "dry run (nothing written)" : "imported as batch \(report.batch ?? 0)"
            Swift.print("\(report.file): \(verb) — \(report.encoding ?? "?"), profile \(report.profile ?? "?"), rules \(report.ruleVersion ?? "?")")
            Swift.print("  rows read \(report.rowsRead) · inserted \(report.inserted) · updated \(report.updated) · unchanged \(report.unchanged) · rejected \(report.rejected)")
        }
        if let path = report.rejectsFile { Swift.print("  rejected values listed in \(path)") }
        if let path = report.disagreementsFile {
            Swift.print("  \(report.disagreements) row(s) carry scores that differ from SchoolHealth's; listed in \(path)")
        }
        for r in preview { Swift.print("  line \(r.line), \(r.column) = \"\(r.value)\": \(r.reason)") }
        if report.rejected > preview.count && report.rejectsFile == nil && !preview.isEmpty {
            Swift.print("  … pass --rejects PATH to list every rejected value")
        }
        for w in report.warnings { Swift.print("  warning: \(w)") }
    }
}

/// A rejects CSV (UTF-8 with BOM so Excel opens it), created on the first rejection.
final class RejectsFile {
    let path: String
    private var handle: FileHandle?
    private(set) var written = 0

    init(path: String) { self.path = path }

    func append(_ r: Rejection) {
        if handle == nil {
            FileManager.default.createFile(atPath: path, contents: Data([0xEF, 0xBB, 0xBF] + Array("file,line,column,value,reason\r\n".utf8)))
            handle = FileHandle(forWritingAtPath: path)
            handle?.seekToEndOfFile()
        }
        let fields = [r.file, String(r.line), r.column, r.value, r.reason].map(CSVCell.escape)
        handle?.write(Data((fields.joined(separator: ",") + "\r\n").utf8))
        written += 1
    }

    func close() {
        try? handle?.close()
        handle = nil
    }
}

/// A one-line progress bar on stderr.
enum ProgressBar {
    static func draw(name: String, read: Int, total: Int, rows: Int) {
        let fraction = total == 0 ? 1 : Double(read) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r\(name) [\(bar)] \(Int(fraction * 100))%  \(rows) rows".utf8))
    }
    static func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
