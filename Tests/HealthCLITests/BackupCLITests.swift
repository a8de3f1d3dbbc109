import Foundation
import Testing
import HealthTestSupport

/// `schoolhealth backup` and `restore` end to end, as an administrator runs them.
@Suite("Backup and restore (CLI)")
struct BackupCLITests {
    @Test("backup, verify, restore: the restored database gives the identical trend report and a verifying audit log")
    func roundTrip() throws {
        let dir = TestSupport.temporaryDirectory("backup-cli")
        #expect(try schoolhealth(["demo", "--students", "1200", "--years", "2"], in: dir).status == 0)
        let report = try schoolhealth(["report", "trends", "--format", "json"], in: dir)
        #expect(report.status == 0, "\(report.stderr)")

        let taken = try schoolhealth(["backup", "--to", dir + "/backups"], in: dir, lang: "zh_CN.UTF-8")
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stdout.contains("已备份") && taken.stdout.contains("已校验"), "\(taken.stdout)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir + "/backups").filter { $0.hasPrefix("schoolhealth-") }
        #expect(folders.count == 1)
        let folder = dir + "/backups/" + folders[0]
        // Owner-only: the folder and every file in it.
        var st = stat()
        #expect(stat(folder, &st) == 0 && st.st_mode & 0o077 == 0)
        for file in ["database.sqlite", "audit.key", "manifest.json"] {
            #expect(stat(folder + "/" + file, &st) == 0 && st.st_mode & 0o077 == 0, "\(file) is owner-only")
        }
        let verify = try schoolhealth(["backup", "verify", folder, "--json"])
        #expect(verify.status == 0 && verify.stdout.contains("\"problems\":[]"), "\(verify.stdout)")
        let listed = try schoolhealth(["backup", "list", "--in", dir + "/backups"])
        #expect(listed.stdout.contains(folders[0]) && listed.stdout.contains("verified"))

        let restored = dir + "/restored.sqlite"
        let restore = try schoolhealth(["restore", "--from", folder, "--db", restored], in: dir)
        #expect(restore.status == 0, "\(restore.stderr)")
        let again = try schoolhealth(["report", "trends", "--format", "json", "--db", restored], in: dir)
        // The same report, to the byte, but for the time it was generated.
        func withoutTime(_ json: String) -> String { json.replacingOccurrences(of: #""generated" *: *"[^"]*""#, with: "", options: .regularExpression) }
        #expect(report.stdout.contains("\"generated\""))
        #expect(withoutTime(again.stdout) == withoutTime(report.stdout), "the restored database reports the same")
        let audit = try schoolhealth(["audit", "verify", "--db", restored], in: dir)
        #expect(audit.status == 0 && audit.stdout.contains("intact"), "\(audit.stdout)")

        // Work done after the backup (a new account is audited): restoring over it is refused without --force.
        let admin = try String(contentsOfFile: dir + "/schoolhealth.sqlite.demo-tokens", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("demo-admin ") }.map { String($0.split(separator: " ")[1]) }
        _ = try addAccount(db: dir + "/schoolhealth.sqlite", admin: try #require(admin), login: "later-nurse", role: "nurse", org: "SH-P01")
        // While the server has the database open, not even --force restores under it.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve", "--db", dir + "/schoolhealth.sqlite", "--host", "127.0.0.1", "--port", "0"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        _ = out.fileHandleForReading.availableData   // "LISTENING <port>": the database is open
        let underServer = try schoolhealth(["restore", "--from", folder, "--force"], in: dir)
        server.terminate()
        server.waitUntilExit()
        #expect(underServer.status == 1 && underServer.stderr.contains("another program has this database open"), "\(underServer.stderr)")
        let refused = try schoolhealth(["restore", "--from", folder], in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("--force"), "\(refused.stderr)")
        let forced = try schoolhealth(["restore", "--from", folder, "--force"], in: dir)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix("schoolhealth.sqlite.before-restore-") })

        // A damaged copy is refused, and nothing is restored from it.
        let handle = try #require(FileHandle(forUpdatingAtPath: folder + "/database.sqlite"))
        try handle.truncate(atOffset: 8192)
        try handle.close()
        let bad = try schoolhealth(["backup", "verify", folder])
        #expect(bad.status == 1 && bad.stdout.contains("cut short"), "\(bad.stdout)")
        let notRestored = try schoolhealth(["restore", "--from", folder, "--db", dir + "/never.sqlite"], in: dir)
        #expect(notRestored.status == 1 && !FileManager.default.fileExists(atPath: dir + "/never.sqlite"))
    }
}
