public import HealthCore
/// Why a whole file was refused. Every case names the file; those about content name the line too.
public enum IngestError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: ReasonText)
    case empty(file: String)
    case spreadsheetWorkbook(file: String)
    case utf16(file: String)
    case binary(file: String)
    case headerOnly(file: String)
    case missingColumns(file: String, lines: [Int], profile: String, missing: [(field: String, aliases: [String])])
    case ambiguousColumn(file: String, line: Int, field: String, headers: [String])
    case noProfile(file: String, kind: String)
    case malformedCSV(file: String, line: Int, detail: String)
    case strictRejected(file: String, rejected: Int)
    case badConfig(file: String, reason: String)
    case unattributed(file: String, students: [String])
    case missingOption(file: String, reason: ReasonText)
    /// An output file (rejects, report) cannot be created or written: nothing of the input was kept.
    case outputUnwritable(file: String, reason: ReasonText)
    /// An output option names the database or an input file.
    case outputIsInput(option: String, path: String, what: String)
    /// The input is a folder, a terminal or another thing that is not a file to read.
    case notAFile(file: String, reason: ReasonText)
    /// No column for a field every row needs, and no option that gives it for the whole file.
    case noColumnNoOption(file: String, lines: [Int], field: String, aliases: [String], option: String, example: ReasonText)

    public var description: String { explanation.text }

    /// The message, in English, with its template and values apart for the catalogue (`ReasonText`).
    public var explanation: ReasonText {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot be read (\(reason))."
        case let .empty(file): return "\(file): the file is empty; nothing to import."
        case let .spreadsheetWorkbook(file):
            return "\(file): this is an Excel workbook (.xlsx/.xls), not a CSV file. Open it in Excel and use File → Save As → \"CSV UTF-8 (Comma delimited)\", then import the .csv file."
        case let .utf16(file):
            return "\(file): the file is in UTF-16 (Excel's \"Unicode Text\"). Save it again as \"CSV UTF-8 (Comma delimited)\" and import that."
        case let .binary(file): return "\(file): this is not a text CSV file (it contains binary data)."
        case let .headerOnly(file): return "\(file): the file has a header line but no data rows; nothing to import."
        case let .missingColumns(file, lines, profile, missing):
            let list = ReasonText.joined(missing.map { "\($0.field) (accepted headers: \($0.aliases.joined(separator: ", ")))" }, separator: "; ")
            return "\(file): \(Self.lines(lines)): required column missing for profile '\(profile)': \(list). Nothing was imported. Rename the column in the file, add its header as an alias in the profile, or run the import with --inspect to see how the file was read and get a profile draft."
        case let .ambiguousColumn(file, line, field, headers):
            return "\(file): line \(line): columns \(headers.map { "\"\($0)\"" }.joined(separator: " and ")) both mean \(field); keep one of them, or name the one to read with a longer alias (e.g. its parent label/its label). Nothing was imported."
        case let .noProfile(file, kind): return "\(file): no column profile for '\(kind)' was found in the configuration."
        case let .malformedCSV(file, line, detail):
            return "\(file): line \(line): the CSV structure is broken (\(detail)), so the rows after it cannot be read reliably. Nothing was imported. Check the quotes on that line: a value with a quote in it (such as 3'55\") must itself be in quotes, as Excel writes it (\"3'55\"\"\")."
        case let .strictRejected(file, rejected):
            return "\(file): --strict: \(rejected) row(s) failed validation, so the whole file was rejected and nothing was imported (see the rejects file)."
        case let .badConfig(file, reason): return "\(file): configuration error: \(reason)"
        case let .unattributed(file, students):
            let shown = students.prefix(20).joined(separator: ", ") + (students.count > 20 ? ", …" : "")
            return "\(file): the file has no school column and \(students.count) student(s) have no known school: \(shown). Nothing was imported. Pass --school CODE for a file from one school, or import these students' vision or spine screenings first."
        case let .missingOption(file, reason): return "\(file): \(reason). Nothing was imported."
        case let .outputUnwritable(file, reason):
            return "\(file): cannot write this output file (\(reason)), so nothing was imported: the rows it would list would be lost. Choose another path or free some space."
        case let .outputIsInput(option, path, what):
            return "\(option) \(path) names \(what): it would be overwritten. Nothing was read or written; choose another path."
        case let .notAFile(file, reason): return "\(file): \(reason). Nothing was imported."
        case let .noColumnNoOption(file, lines, field, aliases, option, example):
            return "\(file): \(Self.lines(lines)): no \(field) column (accepted headers: \(aliases.joined(separator: ", "))) and no \(option) was given. Nothing was imported. Pass \(option) \(example) to give it for every row, or rename the column."
        }
    }

    public static func == (a: IngestError, b: IngestError) -> Bool { a.description == b.description }

    /// "line 3" or "lines 2–4".
    static func lines(_ lines: [Int]) -> ReasonText {
        guard let first = lines.first, let last = lines.last else { return "line 1" }
        if first == last { return "line \(first)" }
        return "lines \(first)–\(last)"
    }
}
