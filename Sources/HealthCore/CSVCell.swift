/// A cell of a CSV file SchoolHealth writes (rejects, disagreements, reports): quoted when needed, and never
/// run as a formula by a spreadsheet — a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`; numbers stay numbers.
///
///     CSVCell.escape("=HYPERLINK(\"x\")")   // "\"'=HYPERLINK(\"\"x\"\")\""
///     CSVCell.escape("-1.25")               // "-1.25"
public enum CSVCell {
    public static func escape(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(v) == nil {
            v = "'" + v
        }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            v = "\"" + v.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        }
        return v
    }
}
