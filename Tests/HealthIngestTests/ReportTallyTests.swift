import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthCore
import HealthRisk
import HealthSynthetic
import HealthTestSupport

/// The report's counts are kept in the database and carried across small writes (a school's upload, a
/// correction, an erasure) instead of being counted again. They must always equal a full count.
@Suite("Kept report counts")
struct ReportTallyTests {
    /// A file of `lines` under the generated file's header (UTF-8 with BOM, as generated).
    static func file(_ directory: String, _ name: String, header: String, _ lines: [String]) throws -> String {
        let path = directory + "/" + name
        try ("\u{FEFF}" + ([header] + lines).joined(separator: "\r\n") + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("after imports, corrections, an earlier screening, other kinds and an erasure the kept counts equal a full recount")
    func keptCountsEqualRecount() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let county = SyntheticCounty(seed: 7, students: 120, firstYear: 2022, years: 3)
        let vision = try county.writeVision(to: directory).sorted { $0.schoolYear < $1.schoolYear }
        let spine = try county.writeSpine(to: directory)
        let fitness = try county.writeFitness(to: directory)
        var h = try Harness(path: directory + "/db.sqlite")
        let store = h.store

        /// The counts a report reads equal a full count, and (after the first report) were carried, not recounted.
        func expectKeptEqualsRecount(_ step: String, carried: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
            if carried { #expect(try store.reportCountsAreCurrent(), "\(step): the write should have carried the counts", sourceLocation: sourceLocation) }
            let kept = try store.reportData(fromYear: 0, toYear: 9999)
            let full = try store.recountReport()
            #expect(kept.strata == full.strata, "\(step): strata", sourceLocation: sourceLocation)
            #expect(kept.followUps == full.followUps, "\(step): follow-ups", sourceLocation: sourceLocation)
            #expect(try store.reportYears() == full.years, "\(step): years", sourceLocation: sourceLocation)
            #expect(try store.reportCountsAreCurrent(), "\(step): kept after the report", sourceLocation: sourceLocation)
        }

        _ = try h.run("", path: vision[0].path)
        try expectKeptEqualsRecount("first year (nothing kept yet: counted)", carried: false)
        for file in vision.dropFirst() {
            _ = try h.run("", path: file.path)
            try expectKeptEqualsRecount("next year \(file.schoolYear)")
        }

        // A correction of a later year: other acuity and refraction for some students (updates, with revisions).
        let source = vision.last { $0.encoding != "GB18030" }!
        let text = try String(contentsOfFile: source.path, encoding: .utf8)
        let lines = text.replacingOccurrences(of: "\u{FEFF}", with: "").components(separatedBy: .newlines).filter { !$0.isEmpty }
        let header = lines[0]
        let columns = header.components(separatedBy: ",")
        // The generator writes each year in another layout (Chinese or English headers).
        func column(_ names: String...) -> Int { columns.firstIndex { names.contains($0) }! }
        let date = column("筛查日期", "screening_date"), ucvaR = column("右眼裸眼视力", "ucva_right")
        let sphR = column("右眼球镜", "sph_right"), sphL = column("左眼球镜", "sph_left")
        let decimal = columns.contains("ucva_right")
        let corrected = lines.dropFirst().prefix(40).map { line -> String in
            var f = line.components(separatedBy: ",")
            f[ucvaR] = decimal ? "0.4" : "4.6"; f[sphR] = "-2.50"; f[sphL] = "-2.75"
            return f.joined(separator: ",")
        }
        let report = try h.run("", path: Self.file(directory, "correction.csv", header: header, corrected))
        #expect(report.updated > 0)
        try expectKeptEqualsRecount("correction")

        // An earlier screening in the same school year: it becomes the one counted for those students.
        let earlier = lines.dropFirst(70).prefix(20).map { line -> String in
            var f = line.components(separatedBy: ",")
            let d = f[date].replacingOccurrences(of: "/", with: "-")
            f[date] = String(d.prefix(4)) + "-09-01"
            f[ucvaR] = decimal ? "0.1" : "4.0"; f[sphR] = "-4.00"; f[sphL] = "-4.00"
            return f.joined(separator: ",")
        }
        let second = try h.run("", path: Self.file(directory, "earlier.csv", header: header, earlier))
        #expect(second.inserted > 0)
        try expectKeptEqualsRecount("earlier screening")

        for file in spine { _ = try h.run("", kind: .spine, path: file.path) }
        try expectKeptEqualsRecount("spine")
        for file in fitness { _ = try h.run("", kind: .fitness, schoolYear: file.schoolYear, path: file.path) }
        try expectKeptEqualsRecount("fitness")

        // An erasure by the student's school.
        let someone = try store.debugRows("SELECT student_id, school_code FROM vision_screening ORDER BY student_id LIMIT 1")[0]
        let erased = try store.eraseStudent(actor: Actor(role: .counsellor, organisation: someone[1]!, user: "counsellor", accountID: nil),
                                            student: someone[0]!)
        #expect(erased.screeningRows > 0)
        try expectKeptEqualsRecount("erasure")

        // A dry run changes nothing, kept counts included.
        _ = try h.run("", dryRun: true, path: Self.file(directory, "dry.csv", header: header, corrected.map { $0.replacingOccurrences(of: ",-2.50,", with: ",-3.50,") }))
        try expectKeptEqualsRecount("dry run")
    }
}
