import ArgumentParser
import Foundation
import HealthServices

/// `schoolhealth export`: files for other systems.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write files for other systems from what is stored.",
        subcommands: [National.self])

    struct National: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "national",
            abstract: "The national upload file of your school for a school year, in the platform's template (Config/exports/national.yaml).",
            discussion: """
                For the school's nurse (SCHOOLHEALTH_TOKEN or --login). Templates: 2014 (fitness), 2021 (fitness with vision), \
                2022 (vision). Written as the platform's Excel template is: GB18030, CRLF, 年级编号 and 性别 as codes, run times \
                as m'ss". Students the template cannot hold (e.g. no vision screening for 2021) are listed and left out; \
                姓名, 民族代码 and 家庭住址 are not kept by SchoolHealth and are left empty.

                Example:
                  schoolhealth export national --school-year 2024 --template 2014 -o SH-P01-2024.csv
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Option(help: ArgumentHelp("The school (default: your account's).", valueName: "code")) var school: String?
        @Option(help: ArgumentHelp("The school year (2024 = 2024–2025).", valueName: "year")) var schoolYear: Int
        @Option(help: ArgumentHelp("2014, 2021 or 2022.", valueName: "version")) var template = "2014"
        @Flag(help: "UTF-8 with BOM instead of GB18030.") var utf8 = false
        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Where to write it (default: SCHOOL-YEAR-national-VERSION.csv here).", valueName: "file")) var output: String?
        @Flag(help: "Print a JSON summary (without the file's bytes).") var json = false

        func run() async throws {
            let services = try openServices(global)
            var export = try await services.exports.national(school: school, schoolYear: schoolYear, template: template, utf8: utf8,
                                                             actor: try auth.actor(services.store))
            let path = output ?? export.fileName
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CLIError("\(path): cannot be written (\(String(cString: strerror(errno))))") }
            let written = export.data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == export.data.count else { throw CLIError("\(path): could not be written whole (disk full?)") }
            export.data = Data()
            if json { print(Console.json(export)); return }
            print(CLIMessages.text("cli.export.written", ["path": path, "rows": String(export.rows), "template": export.template, "encoding": export.encoding, "lines": export.lineEnding],
                                   english: "\(path): \(export.rows) student(s), template \(export.template), \(export.encoding), \(export.lineEnding)"))
            if export.isEmpty {
                print(CLIMessages.text("cli.export.empty", ["school": export.school, "year": String(export.schoolYear)],
                                       english: "nothing is stored for \(export.school) in school year \(export.schoolYear): the file has the template's header only"))
            }
            if !export.notStored.isEmpty {
                print(CLIMessages.text("cli.export.notStored", ["columns": export.notStored.joined(separator: "、")],
                                       english: "left empty (SchoolHealth does not keep them): \(export.notStored.joined(separator: ", "))"))
            }
            if !export.leftOut.isEmpty {
                print(CLIMessages.text("cli.export.leftOut", ["count": String(export.leftOut.count)], english: "\(export.leftOut.count) student(s) left out:"))
                for n in export.leftOut { print("  \(n.studentID)  \(CLIMessages.reason(n.reasonText))") }
            }
            if !export.warnings.isEmpty {
                print(CLIMessages.text("cli.export.warnings", ["count": String(export.warnings.count)], english: "\(export.warnings.count) student(s) written with cells the platform requires empty:"))
                for n in export.warnings { print("  \(n.studentID)  \(CLIMessages.reason(n.reasonText))") }
            }
        }
    }
}
