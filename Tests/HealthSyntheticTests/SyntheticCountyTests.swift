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
}
