import ArgumentParser
import Foundation
import HealthCore
import HealthIngest
import HealthServices
import HealthStore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import screening exports (CSV).",
        subcommands: [Vision.self, Spine.self, Fitness.self, Psych.self])

    /// The options every import takes.
    struct Common: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("CSV files to import (a pipe such as /dev/stdin is read once into a temporary copy).", valueName: "file"))
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
        @Option(help: ArgumentHelp("The screening date of every row, for exports without a date column (2024-09-15).", valueName: "date"))
        var screeningDate: String?
        @Flag(help: "Show how each file's head is read and what each column maps to, write a profile draft beside it (FILE.profile-draft.yaml), import nothing.")
        var inspect = false

        func validate() throws {
            do {
                try OutputSafety.check(outputs: rejects.map { [("--rejects", $0)] } ?? [], database: global.databasePath, inputs: files)
            } catch {
                throw ValidationError(error.description)
            }
            if let screeningDate, case .failure(let e) = CivilDate.parse(screeningDate) {
                throw ValidationError("--screening-date \(screeningDate) \(e.reason)")
            }
            if dryRun && inspect { throw ValidationError("--inspect imports nothing already; drop --dry-run") }
        }

        func run(_ kind: ScreeningKind, adjust: @escaping (inout ImportOptions) -> Void = { _ in }) async throws {
            var run = ImportRun(global: global, files: files, kind: kind, dryRun: dryRun, strict: strict,
                                rejects: rejects, json: json, profile: profile, school: school)
            run.screeningDate = screeningDate.flatMap { try? CivilDate.parse($0).get() }
            run.adjust = adjust
            if inspect {
                if try !run.inspect() { throw ExitCode(1) }
                return
            }
            if try await !run.run() { throw ExitCode(1) }
        }
    }

    struct Vision: AsyncParsableCommand {
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
        func run() async throws { try await common.run(.vision) }
    }

    struct Spine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import spine-screening CSV files (GB/T 16133-2014 surveillance form).",
            discussion: """
                Classifies each screening: ATR band per segment, screen-positive (ATR ≥ 5° in any segment) with a \
                referral suggestion, lateral and sagittal findings kept apart, and a Ⅰ/Ⅱ/Ⅲ grade whose ATR mapping is \
                UNCONFIRMED (GB/T 16133-2014 text not seen) and is marked so wherever it is shown.
                Same guarantees as `import vision`.
                """)
        @OptionGroup var common: Common
        func run() async throws { try await common.run(.spine) }
    }

    struct Psych: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import psychological screening scores (PHQ-9, GAD-7, MHT, SCL-90, SDQ) and raise flags by the risk rules.",
            discussion: """
                Scores only: no questionnaire item text is stored. Each row is evaluated by Config/rules/risk.yaml (a \
                proposal for the county centre to approve); a matching rule raises a flag that opens the student's case \
                or joins the open one, recording the rule and its version. Same guarantees as `import vision`.
                """)
        @OptionGroup var common: Common
        func run() async throws { try await common.run(.psych) }
    }

    struct Fitness: AsyncParsableCommand {
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
        func run() async throws {
            try await common.run(.fitness) { options in
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
    var screeningDate: CivilDate?
    var quiet = false
    /// Sets kind-specific options.
    var adjust: (inout ImportOptions) -> Void = { _ in }
    /// Write FILE.rejects.csv beside each input when --rejects is not given (the demo shows them instead).
    var rejectsBesideInput = true
    /// The files are schools' student lists (学籍名单), not screenings.
    var roster = false
    /// The files are clinics' results for notices; `resultKind` for files that do not say vision or spine.
    var results = false
    var resultKind: String?

    /// The configuration, with a profile given as a file loaded, and the profile's name.
    func configuration() throws -> (SchoolHealthConfig, String?) {
        guard let p = profile, p.hasSuffix(".yaml") || p.hasSuffix(".yml") else { return (try global.loadConfig(), profile) }
        // A profile given as a file: use the profile it defines.
        let config = try global.loadConfig(extraProfiles: [p])
        return (config, config.profiles.last?.name)
    }

    /// The services over the database (a dry run on a database that does not exist runs against an empty one in memory).
    func services() throws -> SchoolHealthServices {
        if SchoolHealthServices.isPostgres(global.databasePath) { return try global.services() }
        let store: Store
        if dryRun && !FileManager.default.fileExists(atPath: global.databasePath) {
            store = try Store.inMemory()
        } else {
            store = try Store.open(path: global.databasePath)
        }
        return try SchoolHealthServices(store: store, configDirectory: try ConfigLocator.locate(explicit: global.config))
    }

    func options(profile: String?) -> ImportOptions {
        var options = ImportOptions()
        options.dryRun = dryRun
        options.strict = strict
        options.profile = profile
        options.school = school
        options.screeningDate = screeningDate
        adjust(&options)
        return options
    }

    /// `--inspect`: how each file's head is read; a profile draft beside it. Returns false if a file would be refused.
    func inspect() throws -> Bool {
        let (config, profileName) = try configuration()
        let drafts = files.map { $0 + ".profile-draft.yaml" }
        try OutputSafety.check(outputs: drafts.map { ("--inspect", $0) }, database: global.databasePath, inputs: files)
        var allOK = true
        for (file, draftPath) in zip(files, drafts) {
            do {
                var options = options(profile: profileName)
                if FileManager.default.fileExists(atPath: global.databasePath) {
                    options.schools = SchoolDirectory(try Store.open(path: global.databasePath).schools())
                }
                let found = try LayoutInspector.inspect(path: file, kind: kind, config: config, options: options)
                try found.draft.write(toFile: draftPath, atomically: true, encoding: .utf8)
                if json {
                    Swift.print(Console.json(found))
                } else {
                    Swift.print(LayoutText.describe(found, draftPath: draftPath))
                }
                if found.problem != nil { allOK = false }
            } catch {
                Console.error(CLIMessages.render(ServiceError(error)))
                allOK = false
            }
        }
        return allOK
    }

    /// Imports every file; returns false if any was refused.
    @discardableResult
    func run() async throws -> Bool {
        // The files written beside each input must not be the database or another input either.
        let beside = dryRun || !rejectsBesideInput ? [] : files.flatMap { [("rejects", $0 + ".rejects.csv"), ("disagreements", $0 + ".disagreements.csv")] }
        try OutputSafety.check(outputs: (rejects.map { [("--rejects", $0)] } ?? []) + beside, database: global.databasePath, inputs: files)
        let imports = try services().imports
        var options = options(profile: nil)
        var allOK = true
        let shared = rejects.map(CLIMessages.rejectsFile)
        defer { shared?.close() }
        for file in files {
            let name = (file as NSString).lastPathComponent
            if Console.stderrIsTerminal && !json && !quiet, let size = try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int, size > 4 << 20 {
                options.progress = { read, total, rows in ProgressBar.draw(name: name, read: read, total: total, rows: rows) }
            } else {
                options.progress = nil
            }
            let ownRejects: RejectsFile? = shared ?? (dryRun || !rejectsBesideInput ? nil : CLIMessages.rejectsFile(file + ".rejects.csv"))
            let disagreements: RejectsFile? = dryRun || !rejectsBesideInput ? nil : CLIMessages.rejectsFile(file + ".disagreements.csv")
            defer { disagreements?.close() }
            let preview = RejectionList(limit: 10)
            var report: FileReport
            var refusal: String?
            do {
                // The rejects files are opened before the import: one that cannot be written stops it first.
                try ownRejects?.begin()
                try disagreements?.begin()
                if roster {
                    report = try await imports.importRoster(path: file, options: options, actor: nil, rejects: ownRejects ?? preview)
                } else if results {
                    report = try await services().followUp.importResults(path: file, options: options, kind: resultKind, actor: nil, rejects: ownRejects ?? preview)
                } else {
                    report = try await imports.importFile(path: file, ImportRequest(kind: kind, options: options, profile: profile),
                                                          rejects: ownRejects ?? preview, disagreements: disagreements ?? (ownRejects == nil ? preview : nil))
                }
                if options.progress != nil { ProgressBar.clear() }
            } catch {
                if options.progress != nil { ProgressBar.clear() }
                report = FileReport(file: file, status: .refused)
                report.error = String(describing: error)
                refusal = CLIMessages.detail(ServiceError(error))
                allOK = false
            }
            if shared == nil { ownRejects?.close() }
            if let r = ownRejects, r.written > 0 { report.rejectsFile = r.path }
            if let d = disagreements, d.written > 0 { report.disagreementsFile = d.path }
            if report.status == .refused { allOK = false }
            print(report: report, preview: preview.rejections, refusal: refusal)
        }
        return allOK
    }

    /// `refusal`: why the file was refused, in the reader's language (the JSON keeps `error` in English).
    func print(report: FileReport, preview: [Rejection], refusal: String? = nil) {
        if json {
            Swift.print(Console.json(report))
            if let error = report.error { Console.error(error) }
            return
        }
        if quiet { return }
        switch report.status {
        case .refused:
            let why = refusal ?? report.error ?? "refused"
            Console.error(CLIMessages.text("cli.error", ["text": why], english: "error: \(why)"))
            if report.rowsRead > 0 {
                Console.error("  " + CLIMessages.text("cli.import.refusedCounts", ["read": String(report.rowsRead), "rejected": String(report.rejected)],
                                                      english: "rows read \(report.rowsRead) · rejected \(report.rejected)"))
            }
        case .alreadyImported:
            Swift.print(report.explainedWarnings.first.map { "\(report.file): \(CLIMessages.reason($0))" }
                        ?? CLIMessages.text("cli.import.already", ["file": report.file], english: "\(report.file): already imported; nothing changed"))
            return
        case .imported, .dryRun:
            let facts = ["file": report.file, "batch": String(report.batch ?? 0), "encoding": report.encoding ?? "?", "profile": report.profile ?? "?",
                         "rules": report.ruleVersion ?? "?"]
            Swift.print(report.status == .dryRun
                ? CLIMessages.text("cli.import.dryRun", facts, english: "\(report.file): dry run (nothing written) — \(facts["encoding"]!), profile \(facts["profile"]!), rules \(facts["rules"]!)")
                : CLIMessages.text("cli.import.imported", facts, english: "\(report.file): imported as batch \(facts["batch"]!) — \(facts["encoding"]!), profile \(facts["profile"]!), rules \(facts["rules"]!)"))
            if let layout = report.layout { Swift.print("  " + LayoutText.summary(layout)) }
            let counts = ["read": report.rowsRead, "inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
                          "rejected": report.rejected].mapValues(String.init)
            Swift.print("  " + CLIMessages.text("cli.import.counts", counts, english: "rows read \(report.rowsRead) · inserted \(report.inserted) · updated \(report.updated) · unchanged \(report.unchanged) · rejected \(report.rejected)"))
        }
        if let path = report.rejectsFile { Swift.print("  " + CLIMessages.text("cli.import.rejectsFile", ["path": path], english: "rejected values listed in \(path)")) }
        if let path = report.disagreementsFile {
            Swift.print("  " + CLIMessages.text("cli.import.disagreements", ["count": String(report.disagreements), "path": path],
                                                english: "\(report.disagreements) row(s) carry scores that differ from SchoolHealth's; listed in \(path)"))
        }
        for r in preview {
            let said = CLIMessages.rejection(r)
            Swift.print("  " + CLIMessages.text("cli.import.rejectLine", ["line": String(r.line), "column": said.column, "value": r.value, "reason": said.reason],
                                                english: "line \(r.line), \(r.column) = \"\(r.value)\": \(r.reason)"))
        }
        if report.rejected > preview.count && report.rejectsFile == nil && !preview.isEmpty {
            Swift.print("  " + CLIMessages.text("cli.import.moreRejects", english: "… pass --rejects PATH to list every rejected value"))
        }
        for w in report.explainedWarnings {
            Swift.print("  " + CLIMessages.text("cli.import.warning", ["text": CLIMessages.reason(w)], english: "warning: \(w.text)"))
        }
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
