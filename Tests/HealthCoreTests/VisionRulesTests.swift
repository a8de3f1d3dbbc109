import Foundation
import Testing
import Yams
@testable import HealthCore
import HealthTestSupport

/// The rules as shipped in Config/rules/vision.yaml.
func shippedRules() throws -> VisionRules {
    let text = try String(contentsOfFile: TestSupport.configDirectory + "/rules/vision.yaml", encoding: .utf8)
    var rules = try YAMLDecoder().decode(VisionRules.self, from: text)
    rules.versionTag = rules.version + "@test"
    return rules
}

private func screening(ucvaR: Int?, ucvaL: Int? = 50, sphR: Double?, cylR: Double? = 0, sphL: Double? = 0, cylL: Double? = 0,
                       glasses: GlassesType = .none, birth: CivilDate? = CivilDate(year: 2014, month: 1, day: 1),
                       date: CivilDate = CivilDate(year: 2024, month: 9, day: 12)!, corrected: Int? = nil) -> VisionScreening {
    VisionScreening(
        studentID: StudentID("T1"), sex: .male, birthDate: birth, schoolCode: "S", grade: GradeCode(14)!, className: nil,
        screeningDate: date,
        right: EyeFindings(ucva: ucvaR.map(Acuity.init(tenths:)), sphere: sphR.map(Dioptres.init), cylinder: cylR.map(Dioptres.init),
                           axis: (cylR ?? 0) == 0 ? nil : 90, corrected: corrected.map(Acuity.init(tenths:))),
        left: EyeFindings(ucva: ucvaL.map(Acuity.init(tenths:)), sphere: sphL.map(Dioptres.init), cylinder: cylL.map(Dioptres.init),
                          axis: (cylL ?? 0) == 0 ? nil : 90, corrected: corrected.map(Acuity.init(tenths:))),
        glasses: glasses)
}

@Suite("Screening myopia (WS/T 663-2020 / NHC guideline)")
struct ScreeningMyopiaTests {
    @Test("UCVA boundary 4.9 / 5.0 with SE −0.50 D", arguments: [(49, true), (50, false), (51, false), (40, true)])
    func ucvaBoundary(ucva: Int, myopic: Bool) throws {
        let c = try shippedRules().classify(screening(ucvaR: ucva, sphR: -0.50))
        #expect(c.right.myopic == myopic)
        #expect(c.myopic == myopic)
    }

    @Test("SE boundary at −0.25 / −0.50 D with UCVA 4.9", arguments: [(-0.25, false), (-0.375, false), (-0.50, true), (-0.75, true)])
    func seBoundary(se: Double, myopic: Bool) throws {
        let c = try shippedRules().classify(screening(ucvaR: 49, sphR: se))
        #expect(c.right.myopic == myopic)
    }

    @Test("SE is S + C/2: −0.25 D sphere with −0.50 D cylinder is −0.50 D")
    func sphericalEquivalent() throws {
        let s = screening(ucvaR: 48, sphR: -0.25, cylR: -0.50)
        #expect(s.right.sphericalEquivalent == Dioptres(-0.50))
        #expect(try shippedRules().classify(s).right.myopic == true)
    }

    @Test("The comparator is a setting: with \"<\", SE exactly −0.50 D is not myopic")
    func strictComparator() throws {
        var rules = try shippedRules()
        rules.screeningMyopia.comparator = .below
        #expect(rules.classify(screening(ucvaR: 49, sphR: -0.50)).right.myopic == false)
        #expect(rules.classify(screening(ucvaR: 49, sphR: -0.625)).right.myopic == true)
    }

    @Test("Either eye makes the student myopic")
    func eitherEye() throws {
        let c = try shippedRules().classify(screening(ucvaR: 50, ucvaL: 47, sphR: 0.5, sphL: -1.0))
        #expect(c.right.myopic == false)
        #expect(c.left.myopic == true)
        #expect(c.myopic == true)
    }

    @Test("Orthokeratology wearers count as myopic, ungraded, complete with corrected acuity only")
    func orthokeratology() throws {
        let c = try shippedRules().classify(screening(ucvaR: nil, ucvaL: nil, sphR: nil, cylR: nil, sphL: nil, cylL: nil, glasses: .orthokeratology, corrected: 50))
        #expect(c.myopic == true)
        #expect(c.grade == .ungraded)
        #expect(c.complete)
        var rules = try shippedRules()
        rules.screeningMyopia.orthokeratologyCountsAsMyopic = false
        #expect(rules.classify(screening(ucvaR: nil, ucvaL: nil, sphR: nil, cylR: nil, sphL: nil, cylL: nil, glasses: .orthokeratology, corrected: 50)).myopic == nil)
    }

    @Test("Under six the UCVA limit is 4.9 (4.8 myopic, 4.9 not)")
    func underSix() throws {
        let birth = CivilDate(year: 2019, month: 3, day: 1)
        let rules = try shippedRules()
        #expect(rules.classify(screening(ucvaR: 49, sphR: -0.75, birth: birth)).right.myopic == false)
        #expect(rules.classify(screening(ucvaR: 48, sphR: -0.75, birth: birth)).right.myopic == true)
    }

    @Test("Unknown when the data do not decide")
    func unknown() throws {
        let c = try shippedRules().classify(screening(ucvaR: 48, sphR: nil, cylR: nil))
        #expect(c.right.myopic == nil)
        #expect(c.myopic == nil)   // left eye not myopic, right unknown
        #expect(!c.complete)
        #expect(c.missing.contains("right sphere"))
    }
}

@Suite("Myopia grades and poor-vision bands")
struct GradeAndBandTests {
    @Test("Grades at −0.50 / −3.00 / −3.25 / −6.00 / −6.25 D",
          arguments: [(-0.50, MyopiaGrade.low), (-3.00, .low), (-3.25, .moderate), (-6.00, .moderate), (-6.25, .high)])
    func grades(se: Double, grade: MyopiaGrade) throws {
        let c = try shippedRules().classify(screening(ucvaR: 45, sphR: se))
        #expect(c.right.grade == grade)
        #expect(c.grade == grade)
    }

    @Test("Not myopic means grade none")
    func noneGrade() throws {
        #expect(try shippedRules().classify(screening(ucvaR: 50, sphR: -0.25)).right.grade == MyopiaGrade.none)
    }

    @Test("Bands: 5.0 normal, 4.9 mild, 4.8 and 4.6 moderate, 4.5 severe",
          arguments: [(50, PoorVisionBand.normal), (53, .normal), (49, .mild), (48, .moderate), (46, .moderate), (45, .severe), (40, .severe)])
    func bands(ucva: Int, band: PoorVisionBand) throws {
        let c = try shippedRules().classify(screening(ucvaR: ucva, ucvaL: 50, sphR: 0))
        #expect(c.right.poorVision == band)
        #expect(c.poorVision == band)
    }

    @Test("The worse eye gives the student's band")
    func worseEye() throws {
        let c = try shippedRules().classify(screening(ucvaR: 49, ucvaL: 45, sphR: 0))
        #expect(c.poorVision == .severe)
    }
}

@Suite("Values")
struct ValueTests {
    @Test("Civil dates round-trip and know leap years")
    func civilDates() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2024, 9, 1), (1999, 12, 31), (2100, 3, 1)] {
            let date = CivilDate(year: y, month: m, day: d)!
            #expect(date.components == (y, m, d))
        }
        #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2100, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2024, month: 9, day: 1)!.description == "2024-09-01")
        #expect(CivilDate(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
    }

    @Test("School year starts in September")
    func schoolYear() {
        #expect(CivilDate(year: 2024, month: 9, day: 1)!.schoolYear(startMonth: 9) == 2024)
        #expect(CivilDate(year: 2025, month: 3, day: 1)!.schoolYear(startMonth: 9) == 2024)
        #expect(CivilDate(year: 2025, month: 8, day: 31)!.schoolYear(startMonth: 9) == 2024)
    }

    @Test("Age counts whole years")
    func age() {
        let birth = CivilDate(year: 2014, month: 9, day: 13)!
        #expect(birth.age(on: CivilDate(year: 2024, month: 9, day: 12)!) == 9)
        #expect(birth.age(on: CivilDate(year: 2024, month: 9, day: 13)!) == 10)
    }

    @Test("Grade codes follow the national list")
    func gradeCodes() {
        #expect(GradeCode(11)?.yearOfSchooling == 1)
        #expect(GradeCode(21)?.yearOfSchooling == 7)
        #expect(GradeCode(33)?.yearOfSchooling == 12)
        #expect(GradeCode(17) == nil)
        #expect(GradeCode(1) == nil)
    }
}
