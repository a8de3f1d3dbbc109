/// A cell of a CSV file SchoolHealth writes (rejects, disagreements, reports): quoted when needed, and never
/// run as a formula by a spreadsheet — a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`; numbers stay numbers.
///
///     CSVCell.escape("=HYPERLINK(\"x\")")   // "\"'=HYPERLINK(\"\"x\"\")\""
///     CSVCell.escape("-1.25")               // "-1.25"
public enum CSVCell {
    public static func escape(_ value: String) -> String {
        var v = value
        // Bytes: every character that matters here is one ASCII byte (and a CR LF pair, one Character in Swift, is
        // two bytes here, so a value holding one is quoted).
        if let first = v.utf8.first, [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first), Double(v) == nil {
            v = "'" + v
        }
        if v.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
            v = "\"" + v.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        }
        return v
    }
}
