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
    }
}
