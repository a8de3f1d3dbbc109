public import ArgumentParser

/// `schoolhealth`: the county's student-health pipeline on the command line.
public struct SchoolHealthCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "schoolhealth",
        abstract: "Import, check and report students' vision, spine, fitness and psychological screenings, and run the crisis-referral queue, for a county education bureau.",
        discussion: """
            Every command takes --db PATH (default: $SCHOOLHEALTH_DB, else schoolhealth.sqlite in the current folder).

            Exit status: 0 on success (rejected rows are reported, not fatal); 1 when a file was refused or the \
            database failed; 64 for a usage error.
            """,
        subcommands: [InitCommand.self, UsersCommand.self, ImportCommand.self, SchoolsCommand.self, ReportCommand.self, ReferralsCommand.self, AuditCommand.self, StudentCommand.self, GenerateCommand.self, DemoCommand.self])

    public init() {}
}
