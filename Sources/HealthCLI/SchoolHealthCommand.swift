public import ArgumentParser
import Foundation
import HealthServices

/// `schoolhealth`: the county's student-health pipeline on the command line.
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct SchoolHealthCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "schoolhealth",
        abstract: "Import, check and report students' vision, spine, fitness and psychological screenings, and run the crisis-referral queue, for a county education bureau.",
        discussion: """
            Every command takes --db PATH (default: $SCHOOLHEALTH_DB, else schoolhealth.sqlite in the current folder).

            Exit status: 0 on success (rejected rows are reported, not fatal); 1 when a file was refused or the \
            database failed; 64 for a usage error.
            """,
        subcommands: [InitCommand.self, UsersCommand.self, ImportCommand.self, RosterCommand.self, SchoolsCommand.self, ReportCommand.self, CoverageCommand.self, NoticesCommand.self, ResultsCommand.self, ReferralsCommand.self, AuditCommand.self, ExportCommand.self, BackupCommand.self, RestoreCommand.self, StudentCommand.self, GenerateCommand.self, DemoCommand.self, ServeCommand.self])

    public init() {}
}

extension SchoolHealthCommand {
    /// Parses the arguments and runs the command (async or not). A service error is printed in the language of
    /// `LANG` (`zh_CN.*`: Chinese), with its remedy as the option to give; other errors as ArgumentParser prints them.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ServiceError {
            Console.error(CLIMessages.render(error))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
