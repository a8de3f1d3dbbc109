import ArgumentParser
import Foundation
import HealthIngest
import HealthStore
import HealthSynthetic

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a small synthetic county, import it into the database and show what was imported.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Students in the first year.")
    var students: Int = 1_200

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schoolhealth-demo-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try SyntheticCounty(seed: 2024, students: students, firstYear: 2022, years: 3).writeVision(to: dir)
        print("Synthetic county written to \(dir) (no real student data):")
        for f in files { print("  \((f.path as NSString).lastPathComponent): \(f.rows) rows, \(f.encoding), \(f.headers) headers") }
        print("\nImporting into \(global.databasePath):")
        try ImportRun(global: global, files: files.map(\.path), kind: .vision, rejectsBesideInput: false).run()

        let summary = try Store.open(path: global.databasePath).visionSummary()
        print("\nVision screenings in the database (screening myopia per WS/T 663-2020, complete screenings only):")
        print("  school year  schools  screenings  complete  myopic  myopia rate  poor vision")
        for s in summary {
            let rate = String(format: "%.1f %%", s.myopiaRate * 100)
            let poor = String(format: "%.1f %%", s.complete == 0 ? 0 : Double(s.poorVision) / Double(s.complete) * 100)
            print("  \(pad(s.schoolYear, 11))  \(pad(s.schools, 7))  \(pad(s.screenings, 10))  \(pad(s.complete, 8))  \(pad(s.myopic, 6))  \(pad(rate, 11))  \(pad(poor, 11))")
        }
    }

    private func pad(_ v: some CustomStringConvertible, _ n: Int) -> String {
        let s = v.description
        return String(repeating: " ", count: max(0, n - s.count)) + s
    }
}
