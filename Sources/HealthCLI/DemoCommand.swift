import ArgumentParser
import Foundation
import HealthIngest
import HealthStore
import HealthSynthetic
import HealthCore
import HealthRisk

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
        let county = SyntheticCounty(seed: 2024, students: students, firstYear: 2022, years: 3)
        let vision = try county.writeVision(to: dir), spine = try county.writeSpine(to: dir), fitness = try county.writeFitness(to: dir)
        let psych = try county.writePsych(to: dir)
        let schools = try county.writeSchools(to: dir)
        print("Synthetic county written to \(dir) (no real student data):")
        for f in vision + spine + fitness + psych {
            print("  \((f.path as NSString).lastPathComponent): \(f.rows) rows, \(f.encoding), \(f.headers) headers")
        }
        print("\nImporting into \(global.databasePath):")
        let store0 = try Store.open(path: global.databasePath)
        let list = try SchoolListImporter(store: store0, config: try global.loadConfig()).importFile(path: schools[0].path, rejects: RejectionList())
        print("schools.csv: the county's school list — \(list.inserted) added, \(list.unchanged) unchanged")
        try ImportRun(global: global, files: vision.map(\.path), kind: .vision, rejectsBesideInput: false).run()
        try ImportRun(global: global, files: spine.map(\.path), kind: .spine, rejectsBesideInput: false).run()
        for f in fitness {
            // The national template has no school column: schools come from the students' vision records.
            var run = ImportRun(global: global, files: [f.path], kind: .fitness, rejectsBesideInput: false)
            let year = f.schoolYear
            run.adjust = { $0.schoolYear = year }
            try run.run()
        }

        try ImportRun(global: global, files: [psych[0].path], kind: .psych, rejectsBesideInput: false).run()
        let store = try Store.open(path: global.databasePath)
        var assignGrid = ReferralsCommand.Assign()
        assignGrid.global = global
        assignGrid.file = psych[1].path
        try assignGrid.run()
        let summary = try store.visionSummary()
        print("\nVision screenings in the database (screening myopia per WS/T 663-2020, complete screenings only):")
        print("  school year  schools  screenings  complete  myopic  myopia rate  poor vision")
        for s in summary {
            let rate = String(format: "%.1f %%", s.myopiaRate * 100)
            let poor = String(format: "%.1f %%", s.complete == 0 ? 0 : Double(s.poorVision) / Double(s.complete) * 100)
            print("  \(pad(s.schoolYear, 11))  \(pad(s.schools, 7))  \(pad(s.screenings, 10))  \(pad(s.complete, 8))  \(pad(s.myopic, 6))  \(pad(rate, 11))  \(pad(poor, 11))")
        }
        print("\nSpine screenings (screen-positive: ATR ≥ 5° in any segment; sagittal: sign persisting in the prone test):")
        print("  school year  screenings  lateral finding  screen-positive  sagittal abnormal  referred")
        for s in try store.spineSummary() {
            print("  \(pad(s.schoolYear, 11))  \(pad(s.screenings, 10))  \(pad(s.lateralFinding, 15))  \(pad(s.lateralPositive, 15))  \(pad(s.sagittalAbnormal, 17))  \(pad(s.referred, 8))")
        }
        print("\nPhysical fitness (2014 standard; 优良率 = (优秀 + 良好) / scored students):")
        print("  school year  students  scored  exempt  incomplete  优良率   pass rate  on unconfirmed rows")
        for f in try store.fitnessSummary() {
            let good = String(format: "%.1f %%", f.scored == 0 ? 0 : Double(f.excellent + f.good) / Double(f.scored) * 100)
            let pass = String(format: "%.1f %%", f.scored == 0 ? 0 : Double(f.scored - f.fail) / Double(f.scored) * 100)
            print("  \(pad(f.schoolYear, 11))  \(pad(f.students, 8))  \(pad(f.scored, 6))  \(pad(f.exempt, 6))  \(pad(f.incomplete, 10))  \(pad(good, 6))  \(pad(pass, 9))  \(pad(f.weakProvenance, 19))")
        }
        print("  (\"on unconfirmed rows\": scores resting on a SINGLE SOURCE, PARTIAL or CONFLICT row of the scoring tables)")

        // The psychological-crisis queue a school counsellor sees a week after the screening.
        let year = psych[0].schoolYear
        let asOf = Int(CivilDate(year: year, month: 10, day: 25)!.daysSinceEpoch * 86400 + 2 * 3600)
        let counsellor = Actor(role: .counsellor, organisation: "SH-J01", user: "demo-counsellor")
        let queue = try store.queue(actor: counsellor, now: asOf, limit: 8)
        print("\nReferral queue of the SH-J01 counsellor on \(year)-10-25 (risk rules \(try global.loadConfig().risk.version); top 8):")
        for item in queue {
            print("  case \(item.caseId)  \(item.effectiveTier.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(item.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))  student \(item.studentId)  \(hours(item.overdueSeconds))\(item.escalations > 0 ? " (escalated)" : "")")
        }
        let counts = try store.caseCounts(actor: Actor(role: .healthOffice, organisation: "bureau", user: "demo"), now: asOf)
        print("  county, open cases by tier (what the health office sees): " + counts.open.keys.sorted().map { "\($0) \(counts.open[$0]!)" }.joined(separator: ", "))
        print("  try: schoolhealth referrals show \(queue.first?.caseId ?? 1) --as counsellor --org SH-J01 --user you")
    }

    private func pad(_ v: some CustomStringConvertible, _ n: Int) -> String {
        let s = v.description
        return String(repeating: " ", count: max(0, n - s.count)) + s
    }
}
