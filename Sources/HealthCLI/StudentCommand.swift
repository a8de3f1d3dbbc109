import ArgumentParser
import Foundation
import HealthStore

/// `schoolhealth student export|erase`: a student's and guardian's rights (PIPL arts. 44–47).
struct StudentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "student",
        abstract: "What your school holds about one student: export it (JSON) or erase it (audited).",
        discussion: "For the counsellor of a school that has the student on its records. Open cases are not erased until closed.",
        subcommands: [Export.self, Erase.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write everything your school holds about a student, as JSON.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The student's ID.") var student: String
        @Option(name: .shortAndLong, help: "Write to this file (created owner-only) instead of standard output.") var output: String?
        func run() throws {
            let store = try global.existingStore()
            let data = try store.exportStudent(actor: try auth.actor(store), student: student, at: auth.requestedTime)
            if let output {
                let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw CLIError("\(output): cannot write (\(String(cString: strerror(errno))))") }
                _ = fchmod(fd, 0o600)
                let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                try handle.write(contentsOf: data)
                Console.error(CLIMessages.text("cli.wrote", ["path": output], english: "wrote \(output)"))
            } else {
                FileHandle.standardOutput.write(data)
                print()
            }
        }
    }

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Erase a student's screenings, scores and closed cases at your school (a tombstone stays in the audit log).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var auth: AuthOptions
        @Argument(help: "The student's ID.") var student: String
        @Flag(help: "Yes, erase (cannot be undone).") var confirm = false
        func run() throws {
            guard confirm else { throw CLIError("erasing cannot be undone: add --confirm") }
            let store = try global.existingStore()
            let r = try store.eraseStudent(actor: try auth.actor(store), student: student, at: auth.requestedTime)
            let kept = r.openCasesKept > 0
                ? CLIMessages.text("cli.student.kept", ["count": String(r.openCasesKept)], english: "; \(r.openCasesKept) open case(s) kept until closed") : ""
            print(CLIMessages.text("cli.student.erased", ["rows": String(r.screeningRows), "cases": String(r.closedCases)],
                                   english: "erased \(r.screeningRows) screening row(s) and \(r.closedCases) closed case(s)") + kept)
        }
    }
}
