import ArgumentParser
import Foundation
import HealthSynthetic

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a reproducible synthetic county's screening exports (no real student data).",
        discussion: """
            Per school year: a vision file in the shapes schools really send (Excel "CSV UTF-8" with Chinese \
            headers; Excel on Chinese Windows, GB18030, with a name column that is never stored; a screening \
            system's UTF-8 export with English headers and decimal acuity), a spine file (the surveillance form) \
            and a fitness file in the national 2014 upload template (no school column; GB18030 in alternate years; \
            mixed run-time notations; a few exempt students); for the last year, psychological screening scores \
            (PHQ-9, MHT) and the mentor grid; and the county's school list (made-up names). The same seed gives the same files.
            """)

    @Option(help: ArgumentHelp("Folder to write into.", valueName: "dir"))
    var out: String
    @Option(help: "Random seed.")
    var seed: UInt64 = 2024
    @Option(help: "Students in the first year (new first-graders join each later year).")
    var students: Int = 2_000
    @Option(help: "School years to write.")
    var years: Int = 3
    @Option(help: "The first school year.")
    var firstYear: Int = 2022
    @Option(help: ArgumentHelp("Write only these kinds (default: all).", valueName: "vision|spine|fitness|psych|schools"))
    var only: [String] = []
    @Flag(help: "Print what was written as JSON.")
    var json = false

    func validate() throws {
        guard students > 0 else { throw ValidationError("--students must be at least 1") }
        guard (1...20).contains(years) else { throw ValidationError("--years must be 1–20") }
        for kind in only where !["vision", "spine", "fitness", "psych", "schools"].contains(kind) {
            throw ValidationError("--only takes vision, spine, fitness, psych or schools, not \(kind)")
        }
    }

    func run() throws {
        let county = SyntheticCounty(seed: seed, students: students, firstYear: firstYear, years: years)
        let kinds = only.isEmpty ? ["schools", "vision", "spine", "fitness", "psych"] : only
        var files: [SyntheticCounty.GeneratedFile] = []
        if kinds.contains("schools") { files += try county.writeSchools(to: out) }
        if kinds.contains("vision") { files += try county.writeVision(to: out) }
        if kinds.contains("spine") { files += try county.writeSpine(to: out) }
        if kinds.contains("fitness") { files += try county.writeFitness(to: out) }
        if kinds.contains("psych") { files += try county.writePsych(to: out) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(["files": files]), as: UTF8.self))
        } else {
            for f in files {
                print(CLIMessages.text("cli.generate.file", ["path": f.path, "rows": String(f.rows), "encoding": f.encoding, "headers": f.headers, "year": String(f.schoolYear)],
                                       english: "\(f.path): \(f.rows) rows, \(f.encoding), \(f.headers) headers, school year \(f.schoolYear)"))
            }
        }
    }
}
