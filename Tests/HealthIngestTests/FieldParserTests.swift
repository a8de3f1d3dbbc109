import Foundation
import Testing
@testable import HealthIngest
import HealthCore

/// Runs a parser over the UTF-8 bytes of `text`.
func parse<T>(_ text: String, _ parser: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T) throws(FieldProblem) -> T {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBufferPointer { (b) throws(FieldProblem) -> T in try parser(b) }
}

func problem<T>(_ text: String, _ parser: (UnsafeBufferPointer<UInt8>) throws(FieldProblem) -> T) -> String? {
    do { _ = try parse(text, parser); return nil } catch { return error.reason.text }
}

@Suite("Value parsers")
struct FieldParserTests {
    @Test("Student IDs stay text: leading zeros, 18 and 19 characters")
    func ids() throws {
        #expect(try parse("0012345", FieldParsers.studentID)?.rawValue == "0012345")
        #expect(try parse(" G99000000000000001 ", FieldParsers.studentID)?.rawValue == "G99000000000000001")
        #expect(try parse("G990000000000000002", FieldParsers.studentID)?.rawValue.count == 19)
        #expect(try parse("330922201001011234", FieldParsers.studentID)?.rawValue == "330922201001011234")
        #expect(try parse("", FieldParsers.studentID) == nil)
    }

    @Test("IDs that Excel turned into numbers are refused", arguments: ["1.23457E+18", "3.30922E+17", "1E+18", "1.2e+17", "123456789012.0"])
    func corruptedIDs(text: String) {
        let reason = problem(text, FieldParsers.studentID)
        #expect(reason != nil)
        #expect(reason?.contains("Excel") == true || reason?.contains("spreadsheet") == true)
    }

    @Test("IDs with other characters are refused")
    func badIDs() {
        #expect(problem("G99 001", FieldParsers.studentID) != nil)
        #expect(problem("学号001", FieldParsers.studentID) != nil)
        #expect(problem(String(repeating: "1", count: 33), FieldParsers.studentID) != nil)
    }

    @Test("Dates in every accepted shape", arguments: [
        "2024-09-01", "2024/9/1", "2024/09/01", "20240901", "2024.9.1", "2024年9月1日", "45536", "45536.0", "2024-09-01 08:30:00",
    ])
    func dates(text: String) throws {
        #expect(try parse(text, FieldParsers.date) == CivilDate(year: 2024, month: 9, day: 1))
    }

    @Test("Impossible dates are refused", arguments: ["2024-02-30", "2023/2/29", "20241301", "9/1/2024", "01-09-2024", "yesterday", "12345", "1949-12-31"])
    func badDates(text: String) {
        #expect(problem(text, FieldParsers.date) != nil)
    }

    @Test("Acuity: 5-point and decimal notation both land on the 5-point scale")
    func acuity() throws {
        let scale = AcuityScale(rules: try loadRules())
        func a(_ s: String) throws -> (Int, AcuityNotation)? {
            try parse(s) { (b) throws(FieldProblem) in try FieldParsers.acuity(b, scale: scale) }.map { ($0.0.tenths, $0.1) }
        }
        #expect(try a("4.0")! == (40, .fivePoint))
        #expect(try a("5.3")! == (53, .fivePoint))
        #expect(try a("4.9")! == (49, .fivePoint))
        #expect(try a("5")! == (50, .fivePoint))
        #expect(try a("1.0")! == (50, .decimal))
        #expect(try a("0.8")! == (49, .decimal))
        #expect(try a("0.12")! == (41, .decimal))
        #expect(try a("0.25")! == (44, .decimal))
        #expect(try a("1.5")! == (52, .decimal))
        #expect(try a("2.0")! == (53, .decimal))
        #expect(try a("0.1")! == (40, .decimal))
        #expect(try a("") == nil)
        // The chart read walking closer: 5-point down to 3.0, decimal down to 0.01; below it, <3.0.
        #expect(try a("3.0")! == (30, .fivePoint))
        #expect(try a("3.9")! == (39, .fivePoint))
        #expect(try a("0.08")! == (39, .decimal))
        #expect(try a("0.01")! == (30, .decimal))
        #expect(try a("<3.0")! == (29, .fivePoint))
        #expect(try a("＜3")! == (29, .fivePoint))
        for bad in ["0.9", "0.7", "2.9", "5.4", "4.95", "2.5", "abc", "-1", "0", "<4.0", "0.009"] {
            #expect(problem(bad) { (b) throws(FieldProblem) in try FieldParsers.acuity(b, scale: scale) } != nil, "\(bad)")
        }
    }

    @Test("Dioptres: exact thousandths, signs and units, physical bounds")
    func dioptres() throws {
        let bounds = try loadRules().bounds.sphere
        func d(_ s: String) throws -> Int? { try parse(s) { (b) throws(FieldProblem) in try FieldParsers.dioptres(b, bounds: bounds, what: "sphere") }?.milli }
        #expect(try d("-0.50") == -500)
        #expect(try d("+1.25") == 1250)
        #expect(try d("−0.375") == -375)
        #expect(try d("-2.00D") == -2000)
        #expect(try d("-2.00 DS") == -2000)
        #expect(try d("0") == 0)
        #expect(try d("-25.00") == -25000)
        #expect(try d("") == nil)
        for bad in ["-25.25", "30", "-1.2.5", "abc", "-", "1.2345"] {
            #expect(problem(bad) { (b) throws(FieldProblem) in try FieldParsers.dioptres(b, bounds: bounds, what: "sphere") } != nil, "\(bad)")
        }
    }

    @Test("Axis: whole degrees 0–180")
    func axis() throws {
        let bounds = try loadRules().bounds.axis
        #expect(try parse("90") { (b) throws(FieldProblem) in try FieldParsers.axis(b, bounds: bounds) } == 90)
        #expect(try parse("180") { (b) throws(FieldProblem) in try FieldParsers.axis(b, bounds: bounds) } == 180)
        #expect(problem("181") { (b) throws(FieldProblem) in try FieldParsers.axis(b, bounds: bounds) } != nil)
        #expect(problem("90.5") { (b) throws(FieldProblem) in try FieldParsers.axis(b, bounds: bounds) } != nil)
    }

    @Test("Sex as 1/2, 男/女, M/F")
    func sex() throws {
        for (text, sex) in [("1", Sex.male), ("2", .female), ("男", .male), ("女", .female), ("M", .male), ("f", .female), ("male", .male)] {
            #expect(try parse(text, FieldParsers.sex) == sex)
        }
        #expect(problem("3", FieldParsers.sex) != nil)
        #expect(problem("X", FieldParsers.sex) != nil)
    }

    @Test("Grades as national codes or names")
    func grades() throws {
        #expect(try parse("13", FieldParsers.grade)?.rawValue == 13)
        #expect(try parse("初一", FieldParsers.grade)?.rawValue == 21)
        #expect(try parse("高三", FieldParsers.grade)?.rawValue == 33)
        #expect(try parse("三年级", FieldParsers.grade)?.rawValue == 13)
        #expect(problem("7", FieldParsers.grade) != nil)
        #expect(problem("17", FieldParsers.grade) != nil)
    }

    @Test("Glasses types as codes and names")
    func glasses() throws {
        #expect(try parse("0", FieldParsers.glasses) == GlassesType.none)
        #expect(try parse("3", FieldParsers.glasses) == .orthokeratology)
        #expect(try parse("角膜塑形镜", FieldParsers.glasses) == .orthokeratology)
        #expect(try parse("框架眼镜", FieldParsers.glasses) == .frame)
        #expect(problem("4", FieldParsers.glasses) != nil)
    }

    @Test("Text refuses NUL bytes, control characters and undecodable bytes")
    func text() throws {
        #expect(try parse(" 3班 ", { (b) throws(FieldProblem) in try FieldParsers.text(b) }) == "3班")
        #expect(problem("a\u{0}b") { (b) throws(FieldProblem) in try FieldParsers.text(b) }?.contains("NUL") == true)
        #expect(problem("a\u{1}b") { (b) throws(FieldProblem) in try FieldParsers.text(b) } != nil)
        #expect(problem("a\u{FFFD}b") { (b) throws(FieldProblem) in try FieldParsers.text(b) }?.contains("not valid text") == true)
        let invalid: [UInt8] = [0x41, 0xFF, 0x42]
        let reason: String? = invalid.withUnsafeBufferPointer { b -> String? in
            do throws(FieldProblem) { _ = try FieldParsers.text(b); return nil } catch { return error.reason.text }
        }
        #expect(reason?.contains("not valid text") == true)
    }
}

func loadRules() throws -> VisionRules {
    try SchoolHealthConfig.load(directory: HealthTestSupportPaths.config).vision
}
