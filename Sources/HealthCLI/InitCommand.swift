import ArgumentParser
import Foundation
import HealthStore

/// `schoolhealth init`: creates the database (an import creates it too; reading commands never do).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new, empty SchoolHealth database.",
        discussion: """
            Imports create the database when it does not exist; the commands that only read or work the referral \
            queue refuse a database that does not exist (so that a mistyped --db shows an error, not an empty queue). \
            Run init once to start a database before its first referral or report.
            """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
        if FileManager.default.fileExists(atPath: global.databasePath) {
            throw CLIError("\(global.databasePath): a database is already there; nothing changed")
        }
        let store = try Store.open(path: global.databasePath)
        print("created \(global.databasePath) (schema \(try store.appliedMigrations().last ?? "?"))")
    }
}
