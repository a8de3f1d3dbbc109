import ArgumentParser
import Foundation
import HealthIngest
import HealthStore

struct RosterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "Schools' student lists (学籍名单): who is enrolled, per school year.",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a school's student list for a school year.",
            discussion: """
                The national upload template's base columns (年级编号, 班级编号, 班级名称, 学籍号, 性别, 出生日期) or a \
                platform's student export; 姓名, 民族代码 and 家庭住址 are never stored. The school comes from a school \
                column, a school-name column (through the county's list) or --school. A student is on one school's \
                list per year: a list that names a student another school listed moves the student. The whole file \
                is imported or nothing; a rejected row (line, column, value, reason) is listed in FILE.rejects.csv; \
                the same file again changes nothing.

                Example:
                  schoolhealth roster import 学籍名单.csv --school-year 2024 --school SH-P01
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The student list(s) (CSV).", valueName: "file"))
        var files: [String]
        @Option(help: ArgumentHelp("The school year the list is for (2024 = 2024–2025).", valueName: "year"))
        var schoolYear: Int
        @Option(help: ArgumentHelp("The school code of every row, for lists without a school column.", valueName: "code"))
        var school: String?
        @Flag(help: "Check the file and list what would be rejected; write nothing.")
        var dryRun = false
        @Flag(help: "Print one JSON object per file on stdout.")
        var json = false

        func validate() throws {
            guard (1990...2099).contains(schoolYear) else { throw ValidationError("--school-year is a year from 1990 to 2099, not \(schoolYear)") }
        }

        func run() async throws {
            let year = schoolYear
            let ok = try await ImportRun(global: global, files: files, kind: .vision, dryRun: dryRun, json: json, school: school,
                                         adjust: { $0.schoolYear = year }, roster: true).run()
            if !ok { throw ExitCode(1) }
        }
    }
}
