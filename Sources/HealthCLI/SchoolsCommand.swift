import ArgumentParser
import Foundation
import HealthCore
import HealthIngest
import HealthStore

struct SchoolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schools",
        abstract: "The county's school list: codes, names, stages and the other spellings exports use.",
        subcommands: [Import.self, List.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or update schools from a CSV list (学校代码, 学校名称, 学段, 别名).",
            discussion: """
                Schools are added or updated by code; schools not in the file are kept. Other spellings (别名, \
                separated by ; 、 or |) let exports that name a school (学校, 学校名称) be placed. A row whose code \
                repeats, whose stage is unknown, or whose spelling already names another school is rejected, with \
                its line, column and reason in FILE.rejects.csv.

                Example:
                  schoolhealth schools import schools.csv
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The school list (CSV).", valueName: "file"))
        var file: String
        @Flag(help: "Print one JSON object on stdout.")
        var json = false

        func run() throws {
            let rejectsPath = file + ".rejects.csv"
            try OutputSafety.check(outputs: [("rejects", rejectsPath)], database: global.databasePath, inputs: [file])
            let store = try Store.open(path: global.databasePath)
            let rejects = RejectsFile(path: rejectsPath)
            try rejects.begin()
            defer { rejects.close() }
            let report: SchoolListReport
            do {
                report = try SchoolListImporter(store: store, config: try global.loadConfig()).importFile(path: file, rejects: rejects)
                rejects.settle(kept: true)
            } catch {
                rejects.settle(kept: false)
                throw error
            }
            if json { print(Console.json(report)); return }
            let counts = ["file": file, "read": String(report.rowsRead), "inserted": String(report.inserted), "updated": String(report.updated),
                          "unchanged": String(report.unchanged), "rejected": String(report.rejected)]
            print(CLIMessages.text("cli.schools.imported", counts, english: "\(file): \(report.rowsRead) school(s) read · added \(report.inserted) · updated \(report.updated) · unchanged \(report.unchanged) · rejected \(report.rejected)"))
            if let layout = report.layout { print("  " + LayoutText.summary(layout)) }
            if rejects.written > 0 { print("  " + CLIMessages.text("cli.schools.rejects", ["path": rejectsPath], english: "rejected rows listed in \(rejectsPath)")) }
            for w in report.explainedWarnings { print("  " + CLIMessages.text("cli.import.warning", ["text": CLIMessages.reason(w)], english: "warning: \(w.text)")) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the county's school list.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON on stdout.")
        var json = false

        func run() throws {
            let schools = try global.existingStore().schools()
            if json { print(Console.json(schools)); return }
            if schools.isEmpty { print(CLIMessages.text("cli.schools.none", english: "no schools yet: schoolhealth schools import FILE")); return }
            for s in schools {
                let aliases = s.aliases.isEmpty ? "" : "  (also: \(s.aliases.joined(separator: "、")))"
                print("\(s.code)  \(s.name)  \(s.stage?.label ?? "")\(aliases)")
            }
        }
    }
}
