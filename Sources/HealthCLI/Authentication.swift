import ArgumentParser
import Foundation
import HealthRisk
import HealthStore

/// Who is acting: a registered account, proven by a token (`SCHOOLHEALTH_TOKEN`, for scripts) or by a password
/// asked on the terminal for `--login`. Role and organisation are the account's; there is no flag for them.
struct AuthOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Your login; the password is asked on the terminal. Scripts set SCHOOLHEALTH_TOKEN instead.", valueName: "login"))
    var login: String?
    @Option(help: ArgumentHelp("Drill databases only (init --drill): act as of this time (ISO 8601, e.g. 2024-10-08T09:00:00+08:00).", valueName: "time"))
    var now: String?

    func validate() throws {
        if let now, ISO8601DateFormatter().date(from: now) == nil { throw ValidationError("--now \(now) is not an ISO 8601 time") }
    }

    /// The requested time, if any (the store refuses it unless the database is a drill database).
    var requestedTime: Int? { now.flatMap { ISO8601DateFormatter().date(from: $0) }.map { Int($0.timeIntervalSince1970) } }

    func actor(_ store: Store) throws -> Actor {
        if let login {
            guard let password = Terminal.readSecret(prompt: "Password for \(login): ") else {
                throw CLIError("--login \(login): no terminal to ask the password on; scripts set SCHOOLHEALTH_TOKEN (schoolhealth users reset \(login) --token)")
            }
            return try store.authenticate(login: login, password: password)
        }
        if let token = ProcessInfo.processInfo.environment["SCHOOLHEALTH_TOKEN"], !token.isEmpty {
            return try store.authenticate(token: token.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        throw CLIError("who are you? give --login LOGIN (the password is asked), or set SCHOOLHEALTH_TOKEN to your account's token")
    }
}

/// Secrets from the terminal or from standard input.
enum Terminal {
    /// Asks on /dev/tty without echo; nil when there is no terminal.
    static func readSecret(prompt: String) -> String? {
        guard isatty(0) == 1 || FileManager.default.isReadableFile(atPath: "/dev/tty") else { return nil }
        guard let raw = getpass(prompt) else { return nil }
        return String(cString: raw)
    }

    /// One line of standard input (`--password-stdin`), without its line end.
    static func readLine() throws -> String {
        guard let line = Swift.readLine(strippingNewline: true) else { throw CLIError("--password-stdin: standard input is empty") }
        return line
    }

    /// A new password: from standard input, or asked twice on the terminal.
    static func newPassword(fromStdin: Bool, for login: String) throws -> String {
        if fromStdin { return try readLine() }
        guard let first = readSecret(prompt: "New password for \(login): "), let again = readSecret(prompt: "Again: ") else {
            throw CLIError("no terminal to ask the new password on: use --password-stdin, or --token only")
        }
        guard first == again else { throw CLIError("the two passwords differ; nothing changed") }
        return first
    }
}

/// `schoolhealth users`: accounts (administrators only).
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Accounts: add, list, disable, reset (administrators only; every change is audited).",
        discussion: """
            Roles: admin (accounts only, never a case), mentor and counsellor (of a school: --org SCHOOL_CODE), \
            centre (the county student psychological growth centre), hospital (--org HOSPITAL, the name used for \
            referrals), health-office (counts and reports), nurse (of a school: --org SCHOOL_CODE; uploads its \
            screenings in the web application). Passwords are kept as scrypt digests; a token \
            (--token) is for scripts: it is shown once, and only a keyed digest of it is stored.
            """,
        subcommands: [Add.self, List.self, Disable.self, Reset.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an account.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The new account's login (letters, digits, '.', '-', '_').") var newLogin: String
        @Option(help: ArgumentHelp("admin, mentor, counsellor, centre, hospital or health-office.", valueName: "role")) var role: String
        @Option(help: ArgumentHelp("Its school code, centre or hospital.", valueName: "org")) var org: String
        @Option(help: "The person's name, as others see it.") var name: String?
        @Flag(help: "Read the new password from standard input (one line).") var passwordStdin = false
        @Flag(help: "Issue a token for scripts (printed once).") var token = false
        @Flag(help: "No password (a token only).") var noPassword = false

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("--role takes \(Role.allCases.map(\.rawValue).joined(separator: ", "))") }
            if noPassword && !token { throw ValidationError("--no-password needs --token") }
        }

        func run() throws {
            let store = try global.existingStore()
            let admin = try auth.actor(store)
            let password = noPassword ? nil : try Terminal.newPassword(fromStdin: passwordStdin, for: newLogin)
            let issued = try store.addAccount(by: admin, login: newLogin, name: name ?? newLogin, role: Role(rawValue: role)!, organisation: org,
                                              password: password, issueToken: token)
            print(CLIMessages.text("cli.users.added", ["login": issued.account.login, "role": issued.account.role.rawValue, "org": issued.account.organisation],
                                   english: "account \(issued.account.login) added: \(issued.account.role.rawValue) of \(issued.account.organisation)"))
            if let t = issued.token { print(CLIMessages.text("cli.token", ["token": t], english: "token (shown once; keep it like a password): \(t)")) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "All accounts (never their credentials).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Flag(help: "Print one JSON object.") var json = false
        func run() throws {
            let store = try global.existingStore()
            let accounts = try store.accounts(by: try auth.actor(store))
            try emit(["accounts": accounts], json: json) {
                (["login                role           organisation   credentials      state"] + accounts.map(Self.line)).joined(separator: "\n")
            }
        }

        static func line(_ a: Account) -> String {
            func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
            let credentials = [a.hasPassword ? "password" : nil, a.hasToken ? "token" : nil].compactMap { $0 }.joined(separator: "+")
            let state = a.disabledAt.map { "disabled \(time($0))" } ?? "active"
            return [pad(a.login, 20), pad(a.role.rawValue, 14), pad(safe(a.organisation), 14), pad(credentials, 16), state].joined(separator: " ")
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account for good: its password and token stop working at once.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The account's login.") var target: String
        func run() throws {
            let store = try global.existingStore()
            let a = try store.disableAccount(by: try auth.actor(store), login: target)
            print(CLIMessages.text("cli.users.disabled", ["login": a.login], english: "account \(a.login) disabled"))
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new password and/or token; the old token stops working.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The account's login.") var target: String
        @Flag(help: "Read the new password from standard input (one line).") var passwordStdin = false
        @Flag(help: "Issue a new token (printed once).") var token = false
        @Flag(help: "Keep the password; only issue a new token.") var tokenOnly = false
        func run() throws {
            let store = try global.existingStore()
            let admin = try auth.actor(store)
            let password = tokenOnly ? nil : try Terminal.newPassword(fromStdin: passwordStdin, for: target)
            let issued = try store.resetAccount(by: admin, login: target, password: password, issueToken: token || tokenOnly)
            print(CLIMessages.text("cli.users.reset", ["login": issued.account.login], english: "account \(issued.account.login): credentials reset"))
            if let t = issued.token { print(CLIMessages.text("cli.token", ["token": t], english: "token (shown once; keep it like a password): \(t)")) }
        }
    }
}
