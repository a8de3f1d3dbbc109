public import HealthCore
public import HealthStore
import Foundation

/// What importing a school list did.
public struct SchoolListReport: Sendable, Codable, Equatable {
    public var file: String
    public var encoding: String?
    public var rowsRead = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var rejected = 0
    public var layout: LayoutReport?
    /// In English; `explainedWarnings` keeps each one's template and values for the catalogue.
    public var warnings: [String] = []
    public var explainedWarnings: [ReasonText] = []

    public mutating func warn(_ warning: ReasonText) {
        warnings.append(warning.text)
        explainedWarnings.append(warning)
    }
}

/// Imports the county's school list (`Config/profiles/schools.yaml`): added or updated by code in one
/// transaction, schools not in the file kept. A row is rejected — with its line, column and reason — when its
/// code repeats an earlier line's, its stage is unknown, or one of its spellings already names another school.
public struct SchoolListImporter: Sendable {
    public let store: Store
    public let config: SchoolHealthConfig

    public init(store: Store, config: SchoolHealthConfig) {
        self.store = store
        self.config = config
    }

    /// Imports `path`; rejected rows go to `rejects`, which is sealed before anything is saved.
    public func importFile(path: String, rejects: any RejectionSink) throws -> SchoolListReport {
        let input = try InputFile(path)
        defer { input.remove() }
        let inspection = try FileInspector.inspect(path: input.path, displayName: path)
        var report = SchoolListReport(file: path, encoding: inspection.encoding.rawValue)
        let profiles = config.profiles(kind: "schools")
        if profiles.isEmpty { throw IngestError.noProfile(file: path, kind: "schools") }
        var existing = Dictionary(uniqueKeysWithValues: try store.schools().map { ($0.code, $0) })
        var owner: [String: (code: String, line: Int?)] = [:]   // spelling key → school
        for s in existing.values { for spelling in [s.name] + s.aliases { owner[SchoolDirectory.key(spelling)] = (s.code, nil) } }
        var schools: [School] = []
        var firstLine: [String: Int] = [:]
        var stream = HeadedReader(path: input.path, encoding: inspection.encoding)
        let map = try stream.read(head: { rows throws(IngestError) in
            try HeaderMatcher.detect(rows: rows, profiles: profiles, file: path, preferred: nil, identityFields: ["code", "name", "stage", "aliases"])
        }, data: { record, map in
            if record.isBlank { return }
            report.rowsRead += 1
            var reader = RowReader(map: map)
            reader.begin()
            let c = map.index
            func fail() throws {
                report.rejected += 1
                for p in reader.problems { try rejects.add(Rejection(file: path, line: record.line, column: p.column, value: p.value, reason: p.reason)) }
            }
            guard record.count == map.physicalCount else {
                reader.add(nil, value: "\(record.count) fields", reason: "has \(record.count) fields but the header has \(map.physicalCount)")
                return try fail()
            }
            let code = reader.value(record, c["code"], required: true) { raw throws(FieldProblem) -> String? in
                guard let t = try FieldParsers.text(raw, maxLength: 32) else { return nil }
                guard t.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }) else {
                    throw FieldProblem(reason: "may contain only letters, digits and - _ .")
                }
                return t
            }
            let name = reader.text(record, c["name"], required: true)
            let stage = reader.value(record, c["stage"]) { raw throws(FieldProblem) -> SchoolStage? in
                guard let t = try FieldParsers.text(raw) else { return nil }
                guard let s = SchoolStage(name: t) else {
                    throw FieldProblem(reason: "is not a stage: \(SchoolStage.allCases.map { "\($0.label) (\($0.rawValue))" }.joined(separator: ", "))")
                }
                return s
            }
            let aliases = reader.value(record, c["aliases"]) { raw throws(FieldProblem) -> [String]? in
                guard let t = try FieldParsers.text(raw, maxLength: 512) else { return nil }
                return t.split(whereSeparator: { ";；、|".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            } ?? []
            guard reader.problems.isEmpty, let code, let name else { return try fail() }
            if let first = firstLine[code] {
                reader.add(c["code"], value: code, reason: "repeats the school of line \(first); that line was kept")
                return try fail()
            }
            for spelling in [name] + aliases {
                if let other = owner[SchoolDirectory.key(spelling)], other.code != code {
                    reader.add(spelling == name ? c["name"] : c["aliases"], value: spelling,
                               reason: "already names school \(other.code)\(other.line.map { " (line \($0))" } ?? " in the list"); a spelling can name one school only")
                }
            }
            guard reader.problems.isEmpty else { return try fail() }
            firstLine[code] = record.line
            for spelling in [name] + aliases { owner[SchoolDirectory.key(spelling)] = (code, record.line) }
            existing[code] = nil
            schools.append(School(code: code, name: name, stage: stage, aliases: Array(Set(aliases.filter { $0 != name })).sorted()))
        })
        report.layout = map.layout
        report.layout?.delimiter = Delimiter.name(stream.delimiter)
        if !map.ignored.isEmpty { report.warn("ignored columns (not stored): \(map.ignored.joined(separator: ", "))") }
        if report.rowsRead == 0 { throw IngestError.headerOnly(file: path) }
        try rejects.seal()
        let change = try store.saveSchools(schools, key: SchoolDirectory.key)
        (report.inserted, report.updated, report.unchanged) = (change.inserted, change.updated, change.unchanged)
        if !existing.isEmpty {
            report.warn("\(existing.count) school(s) already in the list but not in this file were kept: \(existing.keys.sorted().prefix(10).joined(separator: ", "))")
        }
        return report
    }
}
