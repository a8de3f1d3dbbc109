public import HealthCore
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
    /// Why the file would be refused, if it would (in English; `problemExplained` keeps its template and values).
    public var problem: String?
    public var problemExplained: ReasonText?
    /// A profile that extends the best one with the suggested aliases (YAML).
    public var draft: String
    /// Fields of the closest profile no column was mapped to (the choices of the mapping step), required first.
    public var openFields: [OpenField] = []
    /// For unmapped columns, the field the header is most like.
    public var suggested: [Suggestion] = []
    /// The first data row's value of each column (in column order), to recognise a column by its content.
    public var samples: [String] = []
    /// How the closest profile names each of its fields (its first alias: `student_id` → `学籍号`).
    public var labels: [String: String] = [:]

    public struct Suggestion: Sendable, Codable, Equatable {
        public var column: Int
        public var field: String
    }

    public struct OpenField: Sendable, Codable, Equatable {
        public var key: String
        public var required: Bool
        /// How the profile's first alias names it (`右眼裸眼视力`).
        public var label: String
    }
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
        var explained: ReasonText?
        do {
            let map = try HeaderMatcher.detect(rows: prelude, profiles: candidates, file: given, preferred: nil,
                                               fixedFields: fixed, identityFields: IdentityFields.keys)
            try checkHeader(kind, map, options: options, file: given)
        } catch {
            problem = String(describing: error)
            explained = error.explanation
        }
        let missing = reading.attempt.missing.map(\.key)
        var found = LayoutInspection(file: given, kind: kind.rawValue, encoding: inspection.encoding.rawValue, layout: layout, missing: missing,
                                     problem: problem, draft: draft(for: reading, layout: layout, kind: kind, file: given))
        found.problemExplained = explained
        let open = openFields(reading)
        for field in reading.attempt.profile.fields { found.labels[field.key] = field.aliases.first ?? field.key }
        found.openFields = open.map { LayoutInspection.OpenField(key: $0.key, required: $0.required, label: $0.aliases.first ?? $0.key) }
        found.suggested = suggestions(reading, layout: layout).map { .init(column: $0.column.number, field: $0.field.key) }
        if reading.last + 1 < prelude.count {
            let cells = prelude[reading.last + 1].cells
            found.samples = layout.columns.map { $0.number <= cells.count ? String(cells[$0.number - 1].prefix(40)) : "" }
        }
        return found
    }

    /// A profile, as YAML, that reads a file like the inspected one with `choices` (column number → field key):
    /// it extends the closest profile, names each chosen column's header as an alias of its field, and applies
    /// only to files that have those headers (its signature). Throws when a choice names no open field or two
    /// columns are given one field.
    ///
    ///     let yaml = try LayoutInspector.profile(for: found, choices: [7: "ucva_right"], name: "school-3301-vision-1")
    public static func profile(for inspection: LayoutInspection, choices: [Int: String], name: String, savedBy: String) throws(IngestError) -> String {
        let open = Set(inspection.openFields.map(\.key))
        var seen: [String: Int] = [:]
        var lines = [
            "# Mapped on the web by \(savedBy) from \(quoted(inspection.file)); header line(s) \(inspection.layout.headerLines.map(String.init).joined(separator: ", ")).",
            "profile: \(name)",
            "extends: \(inspection.layout.profile)",
            "description: \(quoted("layout of \(inspection.file), mapped by \(savedBy)"))",
        ]
        var signature: [String] = []
        var fields: [String] = []
        for (number, key) in choices.sorted(by: { $0.key < $1.key }) {
            guard let column = inspection.layout.columns.first(where: { $0.number == number }), column.field == nil else {
                throw .badConfig(file: inspection.file, reason: "column \(number) is not an unmapped column of the file")
            }
            guard open.contains(key) else { throw .badConfig(file: inspection.file, reason: "'\(key)' is not a field left to map") }
            if let other = seen[key] {
                throw .ambiguousColumn(file: inspection.file, line: inspection.layout.headerLines.last ?? 1, field: key,
                                       headers: [inspection.layout.columns[other - 1].header, column.header])
            }
            seen[key] = number
            signature.append(column.header)
            fields.append("  \(key): { aliases: [\(quoted(column.header))] }   # column \(number)")
        }
        lines.append("signature: [\(signature.map(quoted).joined(separator: ", "))]")
        lines.append(fields.isEmpty ? "fields: {}" : "fields:")
        return (lines + fields).joined(separator: "\n") + "\n"
    }

    static func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }

    /// Fields not mapped yet that a column could give: required ones first, identity fields only when required.
    static func openFields(_ reading: HeaderMatcher.Reading) -> [ColumnProfile.Field] {
        let mapped = Set(reading.attempt.index.keys)
        let open = reading.attempt.profile.fields.filter { !mapped.contains($0.key) && (!IdentityFields.keys.contains($0.key) || $0.required) }
        return open.filter(\.required) + open.filter { !$0.required }
    }

    /// For each open field, the unmapped column most like one of its aliases (each column at most once).
    static func suggestions(_ reading: HeaderMatcher.Reading, layout: LayoutReport) -> [(field: ColumnProfile.Field, column: LayoutReport.Column, score: Double)] {
        let unmapped = layout.columns.filter { $0.field == nil && $0.note == LayoutReport.notAField }
        var scored: [(ColumnProfile.Field, LayoutReport.Column, Double)] = []
        for field in openFields(reading) {
            for column in unmapped {
                let h = HeaderMatcher.normalize(column.header.split(separator: "/").last.map(String.init) ?? column.header)
                let score = (field.aliases + [field.key]).map { similarity(HeaderMatcher.normalize($0), h) }.max() ?? 0
                if score >= 0.34 { scored.append((field, column, score)) }
            }
        }
        var suggestions: [(field: ColumnProfile.Field, column: LayoutReport.Column, score: Double)] = []
        var taken = Set<Int>()
        for (field, column, score) in scored.sorted(by: { $0.2 > $1.2 }) where !taken.contains(column.number)
            && !suggestions.contains(where: { $0.field.key == field.key }) {
            suggestions.append((field, column, score))
            taken.insert(column.number)
        }
        return suggestions
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
        let suggestions = Self.suggestions(reading, layout: layout)
        let taken = Set(suggestions.map(\.column.number))
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let name = "draft-" + stem.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
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
