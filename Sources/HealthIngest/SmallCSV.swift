import HealthCore
import Foundation

/// A small CSV file read whole with the importer's reader (libcsv: quotes, embedded line breaks; GB18030 or
/// UTF-8 with or without BOM): for lists such as the mentor grid that have no column profile.
public enum SmallCSV {
    /// Every record after the header line, with its line number; fields trimmed of spaces.
    public static func rows(path: String) throws -> [(line: Int, fields: [String])] {
        let inspection = try FileInspector.inspect(path: path, displayName: path)
        let source = try TextSource(path: path, encoding: inspection.encoding)
        let reader = CSVReader()
        var rows: [(line: Int, fields: [String])] = []
        let collect: (CSVRecord) throws -> Void = { record in
            guard record.line > 1 else { return }
            let fields = (0..<record.count).map { record.string($0).trimmingCharacters(in: .whitespaces) }
            if fields.allSatisfy(\.isEmpty) { return }
            rows.append((record.line, fields))
        }
        do {
            while try source.next({ chunk in try reader.parse(chunk, handler: collect) }) {}
            try reader.finish(handler: collect)
        } catch is CSVStructureError {
            throw IngestError.unreadable(file: path, reason: "broken quoting near line \(reader.currentLine)")
        }
        return rows
    }
}
