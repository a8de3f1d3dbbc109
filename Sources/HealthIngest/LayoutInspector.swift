public import HealthStore
import Foundation

/// What `--inspect` found in a file: how its head was read, what each column maps to, what is missing, and a
/// profile draft to save for a layout SchoolHealth does not know yet. Reads only the first rows; stores nothing.
public struct LayoutInspection: Sendable, Codable, Equatable {
    public var file: String
    public var kind: String
    public var encoding: String
    /// How the head was read by the profile that fits best (or comes closest).
    public var layout: LayoutReport
    /// Required fields no column was found for (empty when the file imports as it is).
    public var missing: [String]
    /// Why the file would be refused, if it would.
    public var problem: String?
    /// A profile that extends the best one with the suggested aliases (YAML).
    public var draft: String
}

public enum LayoutInspector {
    private struct Stop: Error {}

    /// Inspects the head of `path` for importing as `kind`.
    public static func inspect(path given: String, kind: ScreeningKind, config: SchoolHealthConfig, options: ImportOptions) throws -> LayoutInspection {
        let input = try InputFile(given)
        defer { input.remove() }
        let inspection = try FileInspector.inspect(path: input.path, displayName: given)
        let profiles = config.profiles(kind: kind.rawValue)
        if profiles.isEmpty { throw IngestError.noProfile(file: given, kind: kind.rawValue) }
        let candidates = options.profile.map { name in profiles.filter { $0.name == name } } ?? profiles
        var stream = HeadedReader(path: input.path, encoding: inspection.encoding)
        var prelude: [PreludeRow] = []
        do {
            _ = try stream.read(head: { rows in prelude = rows; throw Stop() }, data: { _, _ in })
        } catch is Stop {}
        let fixed: Set<String> = []
        let (best, fewest) = HeaderMatcher.readings(rows: prelude, profiles: candidates, fixedFields: fixed)
        guard let reading = best ?? fewest else { throw IngestError.empty(file: given) }
        var layout = HeaderMatcher.layout(reading, rows: prelude)
        layout.delimiter = Delimiter.name(stream.delimiter)
        var problem: String?
        do {
            let map = try HeaderMatcher.detect(rows: prelude, profiles: candidates, file: given, preferred: nil,
                                               fixedFields: fixed, identityFields: IdentityFields.keys)
            try checkHeader(kind, map, options: options, file: given)
        } catch {
            problem = String(describing: error)
        }
        let missing = reading.attempt.missing.map(\.key)
        return LayoutInspection(file: given, kind: kind.rawValue, encoding: inspection.encoding.rawValue, layout: layout, missing: missing,
                                problem: problem, draft: draft(for: reading, layout: layout, kind: kind, file: given))
    }

    private static func checkHeader(_ kind: ScreeningKind, _ map: HeaderMap, options: ImportOptions, file: String) throws(IngestError) {
        switch kind {
        case .vision: try VisionImporter.check(map, options: options, file: file)
        case .spine: try SpineImporter.check(map, options: options, file: file)
        case .fitness: try FitnessImporter.check(map, options: options, file: file)
        case .psych: try PsychImporter.check(map, options: options, file: file)
        }
    }

    /// Character-bigram similarity (Dice) of two normalised headers, 0…1.
    static func similarity(_ a: String, _ b: String) -> Double {
        func bigrams(_ s: String) -> [String] {
            let c = Array(s)
            return c.count < 2 ? [s] : (0..<(c.count - 1)).map { String(c[$0...($0 + 1)]) }
        }
        let x = bigrams(a), y = bigrams(b)
        var pool = y
        var common = 0
        for g in x { if let i = pool.firstIndex(of: g) { pool.remove(at: i); common += 1 } }
        return x.isEmpty || y.isEmpty ? 0 : 2 * Double(common) / Double(x.count + y.count)
    }

    static func draft(for reading: HeaderMatcher.Reading, layout: LayoutReport, kind: ScreeningKind, file: String) -> String {
        let profile = reading.attempt.profile
        let mapped = Set(reading.attempt.index.keys)
        let unmapped = layout.columns.filter { $0.field == nil && $0.note == LayoutReport.notAField }
        // For each field not mapped yet, the unmapped column most like one of its aliases.
        var suggestions: [(field: ColumnProfile.Field, column: LayoutReport.Column, score: Double)] = []
        var taken = Set<Int>()
        let open = profile.fields.filter { !mapped.contains($0.key) && !IdentityFields.keys.contains($0.key) || ($0.required && !mapped.contains($0.key)) }
        var scored: [(ColumnProfile.Field, LayoutReport.Column, Double)] = []
        for field in open {
            for column in unmapped {
                let h = HeaderMatcher.normalize(column.header.split(separator: "/").last.map(String.init) ?? column.header)
                let score = (field.aliases + [field.key]).map { similarity(HeaderMatcher.normalize($0), h) }.max() ?? 0
                if score >= 0.34 { scored.append((field, column, score)) }
            }
        }
        for (field, column, score) in scored.sorted(by: { $0.2 > $1.2 }) where !taken.contains(column.number)
            && !suggestions.contains(where: { $0.field.key == field.key }) {
            suggestions.append((field, column, score))
            taken.insert(column.number)
        }
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let name = "draft-" + stem.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines: [String] = [
            "# Draft column profile for \(quoted((file as NSString).lastPathComponent)) (\(kind.rawValue)), written by `schoolhealth import \(kind.rawValue) --inspect`.",
            "# Title line(s): \(layout.titleLines.isEmpty ? "none" : layout.titleLines.map(String.init).joined(separator: ", ")); header line(s): \(layout.headerLines.map(String.init).joined(separator: ", ")); delimiter \(quoted(layout.delimiter)); closest profile: \(profile.name).",
            "# Columns as read:",
        ]
        for c in layout.columns {
            let what = c.field.map { "→ \($0)" } ?? "(\(c.note ?? ""))"
            lines.append("#   \(String(c.number).padding(toLength: 3, withPad: " ", startingAt: 0)) \(c.header.isEmpty ? "(no header)" : c.header)  \(what)")
        }
        lines += [
            "# Check the suggestions below, then save this file as Config/profiles/\(name).yaml (or pass it with",
            "# --profile FILE) and import again. A line starting with # is a comment.",
            "profile: \(name)",
            "extends: \(profile.name)",
            "description: \(quoted("layout of \((file as NSString).lastPathComponent), drafted by --inspect"))",
        ]
        if let distinctive = unmapped.first ?? layout.columns.first(where: { $0.field != nil }) {
            lines.append("# Used only for files that have this header (add more to be stricter):")
            lines.append("signature: [\(quoted(distinctive.header))]")
        }
        lines.append(suggestions.isEmpty ? "fields: {}" : "fields:")
        for s in suggestions {
            lines.append("  \(s.field.key): { aliases: [\(quoted(s.column.header))] }   # column \(s.column.number); similar to \(s.field.aliases.first ?? s.field.key)\(s.field.required ? "; required" : "")")
        }
        for field in profile.fields where field.required && !mapped.contains(field.key) && !suggestions.contains(where: { $0.field.key == field.key }) {
            lines.append("  # TODO \(field.key) (required): no column looks like it; add the header of the column that holds it:")
            lines.append("  # \(field.key): { aliases: [\"…\"] }")
        }
        let rest = unmapped.filter { !taken.contains($0.number) }
        if !rest.isEmpty {
            lines.append("# Columns still not read (map one by adding its header to a field's aliases; the others are ignored):")
            for c in rest { lines.append("#   \(c.number) \(quoted(c.header))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
