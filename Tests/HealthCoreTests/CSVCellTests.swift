import Testing
import HealthCore

@Suite("CSV cells written by SchoolHealth")
struct CSVCellTests {
    @Test("Formulas are neutralised, numbers stay numbers, quoting as RFC 4180")
    func escape() {
        #expect(CSVCell.escape("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(CSVCell.escape("+1 cmd") == "'+1 cmd")
        #expect(CSVCell.escape("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVCell.escape("\tx") == "'\tx")
        #expect(CSVCell.escape("-1.25") == "-1.25")
        #expect(CSVCell.escape("a,b") == "\"a,b\"")
        #expect(CSVCell.escape("学籍号") == "学籍号")
        // A CR LF pair (one Character in Swift) is still a line break: the cell is quoted.
        #expect(CSVCell.escape("a\r\nb") == "\"a\r\nb\"")
        #expect(CSVCell.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
    }
}

@Suite("Reason templates")
struct ReasonFillTests {
    @Test("placeholders filled, doubled braces undone, anything else kept as written")
    func fill() {
        #expect(ReasonText.fill("is {0} of {1}", ["a", "b"]) == "is a of b")
        #expect(ReasonText.fill("长 {0} 个字符，最多 {1} 个", ["40", "32"]) == "长 40 个字符，最多 32 个")
        #expect(ReasonText.fill("{{0}} and }}", ["x"]) == "{0} and }")
        #expect(ReasonText.fill("{2} {x} {} a {", ["a"]) == "{2} {x} {} a {")
        #expect(ReasonText.fill("{0}{1}", ["{1}", "b"]) == "{1}b")
        #expect(ReasonText.fill("{10}", Array(repeating: "z", count: 11)) == "z")
        let r: ReasonText = "is \(12) characters long; {braces} stay"
        #expect(r.text == "is 12 characters long; {braces} stay")
    }
}
