import ArgumentParser
import Foundation
import HealthSynthetic
import HealthCore
import HealthStore
import HealthIngest

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
            (PHQ-9, MHT) and the mentor grid; the county's school list (made-up names); and every school's student list \
            (学籍名单) per year, with a few students no screening file has and, in the first year, a few mistyped 学籍号. \
            The same seed gives the same files.

            Clinics' results answer notices, which exist only in a database: `--only clinic-results --notices-of DB` writes \
            results for the notices issued in DB (about three in four come back; one row is wrong on purpose).
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
    @Option(help: ArgumentHelp("Write only these kinds (default: all but clinic-results).", valueName: "vision|spine|fitness|psych|schools|roster|clinic-results"))
    var only: [String] = []
    @Option(help: ArgumentHelp("The database whose issued notices the clinic results answer (for --only clinic-results).", valueName: "file"))
    var noticesOf: String?
    @Flag(help: "Print what was written as JSON.")
    var json = false

    func validate() throws {
        guard students > 0 else { throw ValidationError("--students must be at least 1") }
        guard (1...20).contains(years) else { throw ValidationError("--years must be 1–20") }
        for kind in only where !["vision", "spine", "fitness", "psych", "schools", "roster", "clinic-results"].contains(kind) {
            throw ValidationError("--only takes vision, spine, fitness, psych, schools, roster or clinic-results, not \(kind)")
        }
        if only.contains("clinic-results") && noticesOf == nil {
            throw ValidationError("clinic results answer notices: give --notices-of DATABASE (the database the nurses issued them in)")
        }
    }

    func run() throws {
        let county = SyntheticCounty(seed: seed, students: students, firstYear: firstYear, years: years)
        let kinds = only.isEmpty ? ["schools", "vision", "spine", "fitness", "psych", "roster"] : only
        var files: [SyntheticCounty.GeneratedFile] = []
        if kinds.contains("schools") { files += try county.writeSchools(to: out) }
        if kinds.contains("vision") { files += try county.writeVision(to: out) }
        if kinds.contains("spine") { files += try county.writeSpine(to: out) }
        if kinds.contains("fitness") { files += try county.writeFitness(to: out) }
        if kinds.contains("psych") { files += try county.writePsych(to: out) }
        if kinds.contains("roster") { files += try county.writeRosters(to: out) }
        if kinds.contains("clinic-results"), let db = noticesOf {
            guard FileManager.default.fileExists(atPath: db) else { throw CLIError("\(db): no database there") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let results = SyntheticClinic.resultsCSV(try SyntheticNotices.issued(in: try Store.open(path: db)), seed: seed, today: .today)
            let path = (out as NSString).appendingPathComponent("clinic-results.csv")
            try results.text.write(toFile: path, atomically: true, encoding: .utf8)
            files.append(SyntheticCounty.GeneratedFile(path: path, kind: "clinic-results", schoolYear: firstYear, rows: results.rows, encoding: "UTF-8 with BOM", headers: "Chinese"))
        }
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

/// The notices issued in a database, as the synthetic clinic is asked about them.
enum SyntheticNotices {
    static func issued(in store: Store) throws -> [SyntheticNotice] {
        func dioptres(_ text: String?) -> Double? { text.flatMap { Double($0.replacingOccurrences(of: " D", with: "")) } }
        return try store.notices(school: nil).filter { $0.reissueOf == nil && $0.expectsResult }.map { n in
            SyntheticNotice(id: n.id, studentID: n.findings.studentID, kind: n.findings.kind, screeningDate: n.findings.screeningDate,
                            se: (dioptres(n.findings.values["seRight"]), dioptres(n.findings.values["seLeft"])), atr: n.findings.values["atr"].flatMap(Double.init),
                            findings: n.findingIDs, issuedDay: CivilDate(countyTime: n.issuedAt).daysSinceEpoch)
        }
    }
}
