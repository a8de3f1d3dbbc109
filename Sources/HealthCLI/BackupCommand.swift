import ArgumentParser
import Foundation
import HealthRisk
import HealthServices
import HealthStore

/// `schoolhealth backup`: consistent copies of the database with its audit key and configuration.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take, verify and list backups of the database (with its audit key and configuration).",
        subcommands: [Take.self, Verify.self, List.self],
        defaultSubcommand: Take.self)

    struct Take: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "take",
            abstract: "Copy the database into a new folder under DIR, verify the copy, and apply the retention of Config/backup.yaml.",
            discussion: """
                Safe while imports and queue work go on: the copy reads one snapshot (an import not yet committed is \
                not in it at all). The folder (schoolhealth-YYYYMMDDTHHMMSSZ, owner-only) holds database.sqlite, \
                audit.key, config/ and manifest.json (rows per table, a signed audit checkpoint, SHA-256 of every file).
                The audit key travels with the copy so that it can be verified and restored on its own; keep DIR as \
                private as the database itself.

                Example:
                  schoolhealth backup --to /srv/schoolhealth-backups
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The folder backups go into (created if needed).", valueName: "dir")) var to: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let services = try openServices(global)
            let run = try await services.backups.backup(to: to, actor: .system("backup by \(NSUserName())"))
            try emit(run, json: json) {
                var lines = [CLIMessages.text("cli.backup.taken", ["folder": run.folder, "bytes": String(run.manifest.databaseBytes), "events": String(run.manifest.auditEvents)],
                                              english: "backup taken: \(run.folder) (\(run.manifest.databaseBytes) bytes, \(run.manifest.auditEvents) audit events)")]
                lines.append(run.verification.ok ? CLIMessages.text("cli.backup.verified", english: "verified: the copy is whole, its counts and audit chain match the manifest")
                                                 : CLIMessages.text("cli.backup.failed", ["problems": run.verification.problems.joined(separator: "; ")],
                                                                    english: "THE COPY DOES NOT VERIFY: \(run.verification.problems.joined(separator: "; "))"))
                for folder in run.removed {
                    lines.append(CLIMessages.text("cli.backup.removed", ["folder": folder], english: "removed by retention: \(folder)"))
                }
                return lines.joined(separator: "\n")
            }
            if !run.verification.ok { throw ExitCode(1) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a backup folder without changing it: file sizes and SHA-256, SQLite's integrity, the schema, rows per table, and the audit chain against the manifest's checkpoint.",
            discussion: "With --audit-key, the chain is checked with that key (the live one, kept apart) instead of the copy's.")
        @Argument(help: ArgumentHelp("A backup folder (schoolhealth-…).", valueName: "folder")) var folder: String
        @Option(help: ArgumentHelp("Verify with this audit key file instead of the folder's.", valueName: "path")) var auditKey: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let result = BackupService.verifyAndRecord(folder: folder, auditKeyPath: auditKey)
            try emit(result, json: json) {
                guard result.ok else {
                    return CLIMessages.text("cli.backup.refused", ["folder": folder, "problems": result.problems.joined(separator: "\n  ")],
                                            english: "BACKUP REFUSED: \(folder)\n  \(result.problems.joined(separator: "\n  "))")
                }
                let m = result.manifest!
                return CLIMessages.text("cli.backup.ok", ["folder": folder, "at": m.createdAt, "events": String(m.auditEvents), "tables": String(m.counts.count)],
                                        english: "backup verified: \(folder) (taken \(m.createdAt); \(m.counts.count) tables and \(m.auditEvents) audit events as the manifest says)")
            }
            if !result.ok { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the backups in a folder, newest first, with what their last verification found.")
        @Option(name: .customLong("in"), help: ArgumentHelp("The backups' folder.", valueName: "dir")) var directory: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let listing = BackupService.list(directory)
            if json { print(Console.json(listing)); return }
            for b in listing {
                let state = b.verified == true ? CLIMessages.text("cli.backup.state.ok", english: "verified")
                    : b.verified == false ? CLIMessages.text("cli.backup.state.bad", english: "DOES NOT VERIFY") : CLIMessages.text("cli.backup.state.unknown", english: "not verified")
                print("\(b.name)  \(b.bytes.map { "\($0 >> 10) KB" } ?? "?")  \(b.auditEvents.map(String.init) ?? "?")  \(state)")
            }
        }
    }
}

/// `schoolhealth restore`: puts a verified backup back.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup back as the database, after verifying it.",
        discussion: """
            Refuses a backup that does not verify, and a database at --db that is newer than the backup (something was \
            done after the backup's last audit event) unless --force. What was there is kept beside it \
            (….before-restore-STAMP), never deleted. Refused while another process (the server) has the database open: stop it first.

            Example:
              schoolhealth restore --from /srv/schoolhealth-backups/schoolhealth-20261204T023000Z --db schoolhealth.sqlite
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The backup folder.", valueName: "folder")) var from: String
    @Flag(help: "Replace a database that is newer than the backup, or that cannot be read.") var force = false

    func run() throws {
        let verification = try BackupService.restore(folder: from, databasePath: global.databasePath, auditKeyPath: nil, force: force,
                                                     actor: .system("restore by \(NSUserName())"))
        let m = verification.manifest!
        print(CLIMessages.text("cli.restore.done", ["db": global.databasePath, "folder": from, "at": m.createdAt],
                               english: "restored \(global.databasePath) from \(from) (taken \(m.createdAt)); the restore is in its audit log"))
    }
}
