import ArgumentParser
import Foundation
import HealthStore

/// `schoolhealth init`: creates the database, its audit key and the first administrator.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new SchoolHealth database with its audit key and first administrator.",
        discussion: """
            The database is created readable by its owner only; so is the audit key (default: beside it, \
            DB.auditkey; set SCHOOLHEALTH_AUDIT_KEY to keep it elsewhere, which you should: someone who holds both \
            files can rewrite the log). The administrator manages accounts (schoolhealth users) and reads no case. \
            --drill creates a drill database: times may then be set with --now, and everything written says \
            "drill". A database can never become or stop being a drill database.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The first administrator's login.") var admin: String
    @Option(help: "The administrator's name.") var name: String?
    @Flag(help: "Read the administrator's password from standard input (one line).") var passwordStdin = false
    @Flag(help: "Issue a token for the administrator too (printed once), e.g. for set-up scripts.") var token = false
    @Flag(help: "No password: a token only (needs --token).") var noPassword = false
    @Flag(help: "A drill database (for exercises and tests): --now is accepted, and marked.") var drill = false

    func validate() throws {
        if noPassword && !token { throw ValidationError("--no-password needs --token") }
    }

    func run() throws {
        let existed = FileManager.default.fileExists(atPath: global.databasePath)
        if existed {
            // A database the imports created has no accounts yet: init gives it its first administrator.
            let store = try Store.open(path: global.databasePath)
            guard try !store.hasAccounts() else { throw CLIError("\(global.databasePath): a database with accounts is already there; nothing changed") }
            if drill && !store.isDrill { throw CLIError("\(global.databasePath): an existing database cannot become a drill database; nothing changed") }
        }
        let password = noPassword ? nil : try Terminal.newPassword(fromStdin: passwordStdin, for: admin)
        let store = try Store.open(path: global.databasePath, drill: drill)
        do {
            let issued = try store.createFirstAdministrator(login: admin, name: name ?? admin, password: password, issueToken: token)
            let schema = try store.appliedMigrations().last ?? "?"
            let facts = ["path": global.databasePath, "schema": schema]
            print(existed
                ? CLIMessages.text(drill ? "cli.init.setUpDrill" : "cli.init.setUp", facts, english: "set up \(global.databasePath) (schema \(schema)\(drill ? ", DRILL database" : ""))")
                : CLIMessages.text(drill ? "cli.init.createdDrill" : "cli.init.created", facts, english: "created \(global.databasePath) (schema \(schema)\(drill ? ", DRILL database" : ""))"))
            print(CLIMessages.text("cli.init.auditKey", ["path": store.auditKeyPath], english: "audit key: \(store.auditKeyPath) (owner-only; back it up apart from the database)"))
            print(CLIMessages.text("cli.init.admin", ["login": issued.account.login], english: "administrator: \(issued.account.login)"))
            if let t = issued.token { print(CLIMessages.text("cli.token", ["token": t], english: "token (shown once; keep it like a password): \(t)")) }
        } catch where !existed {
            // Without its administrator the new file is no use: remove it so that init can be run again.
            for f in [global.databasePath, global.databasePath + "-wal", global.databasePath + "-shm", store.auditKeyPath] {
                try? FileManager.default.removeItem(atPath: f)
            }
            throw error
        }
    }
}
