import Foundation
import Testing
@testable import HealthSynthetic
import HealthTestSupport

@Suite("Synthetic county")
struct SyntheticCountyTests {
    @Test("The same seed gives the same students; another seed other ones")
    func reproducible() {
        let a = SyntheticCounty(seed: 1, students: 50, firstYear: 2022, years: 2)
        let b = SyntheticCounty(seed: 1, students: 50, firstYear: 2022, years: 2)
        let c = SyntheticCounty(seed: 2, students: 50, firstYear: 2022, years: 2)
        #expect(a.roster(year: 0).map(\.0.id) == b.roster(year: 0).map(\.0.id))
        #expect(a.roster(year: 1).map(\.1) == b.roster(year: 1).map(\.1))
        #expect(a.roster(year: 0).map(\.0.id) != c.roster(year: 0).map(\.0.id))
    }

    @Test("Students move up a grade each year; first-graders join; twelfth-graders leave")
    func cohorts() {
        let county = SyntheticCounty(seed: 3, students: 240, firstYear: 2022, years: 2)
        let first = Dictionary(uniqueKeysWithValues: county.roster(year: 0).map { ($0.0.id, $0.1) })
        let second = county.roster(year: 1)
        for (student, grade) in second {
            if let before = first[student.id] { #expect(grade == before + 1) } else { #expect(grade == 1) }
        }
        #expect(first.values.contains(12))
        #expect(!second.contains { first[$0.0.id] == 12 })
    }

    @Test("IDs are synthetic: the G99 prefix names no real region")
    func syntheticIDs() {
        #expect(SyntheticCounty(seed: 5, students: 20).roster(year: 0).allSatisfy { $0.0.id.hasPrefix("G99") && $0.0.id.count == 19 })
    }

    @Test("CSV fields with commas or quotes are quoted")
    func escaping() {
        #expect(SyntheticCounty.csv("3'20\"") == "\"3'20\"\"\"")
        #expect(SyntheticCounty.csv("a,b") == "\"a,b\"")
        #expect(SyntheticCounty.csv("4.30") == "4.30")
    }

    @Test("The lists hold every screened student, a few never screened, and in the first year a few mistyped IDs (each two digits swapped)")
    func rosters() throws {
        let county = SyntheticCounty(seed: 3, students: 1_000, firstYear: 2022, years: 2)
        let dir = TestSupport.temporaryDirectory("roster")
        let files = try county.writeRosters(to: dir)
        #expect(files.map(\.schoolYear) == [2022, 2023])
        func ids(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst().map { String($0.split(separator: ",")[4]) }
        }
        let listed = Set(try ids(files[0].path)), screened = Set(county.roster(year: 0).map(\.0.id))
        let extra = listed.subtracting(screened), missing = screened.subtracting(listed)
        #expect(extra.filter { $0.hasPrefix("G98") }.count == 5 && missing.count == 2, "\(extra) \(missing)")
        for id in missing { #expect(extra.contains(SyntheticCounty.swapLastDigits(id))) }
        #expect(Set(try ids(files[1].path)).isSuperset(of: county.roster(year: 1).map(\.0.id)), "no mistyped IDs after the first year")
    }
}
