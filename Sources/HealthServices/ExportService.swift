public import Foundation
public import HealthCore
public import HealthRisk
import HealthIngest
import HealthStore
import Yams

/// A national upload file, ready to download, and what it could not hold.
public struct NationalExport: Sendable, Codable {
    public struct Note: Sendable, Codable, Equatable {
        public var studentID: String
        /// The reason in English; `reasonText` keeps its template for the catalogue.
        public var reason: String
        public var reasonText: ReasonText
    }
    public var template: String
    public var school: String
    public var schoolYear: Int
    public var fileName: String
    /// "GB18030" or "UTF-8 with BOM"; "CRLF" or "LF".
    public var encoding: String
    public var lineEnding: String
    public var data: Data
    public var rows: Int
    /// Students left out of the file, with why (the template cannot hold what is stored).
    public var leftOut: [Note]
    /// Students written with empty cells the platform will ask for.
    public var warnings: [Note]
    /// The template's columns SchoolHealth does not keep (left empty).
    public var notStored: [String]
    /// Nothing is stored for the school in that year: the file is the template's header alone.
    public var isEmpty: Bool { rows == 0 && leftOut.isEmpty }
}

/// Files that leave SchoolHealth for other systems.
public struct ExportService: Sendable {
    let services: SchoolHealthServices

    /// The templates of `Config/exports/national.yaml`, by version.
    public static func nationalTemplates(_ configDirectory: String) throws(ServiceError) -> [String: NationalTemplate] {
        struct File: Decodable { var templates: [String: NationalTemplate] }
        let path = configDirectory + "/exports/national.yaml"
        do {
            return try YAMLDecoder().decode(File.self, from: try String(contentsOfFile: path, encoding: .utf8)).templates
        } catch {
            throw ServiceError(.configuration, key: "error.config", message: "\(path): \(error)")
        }
    }

    /// The national upload of a school's students for a school year in `template` ("2014", "2021", "2022"), from
    /// what is stored: only the school's own nurse (her school; `school` must be hers when given). `utf8`: UTF-8
    /// with a BOM instead of the template's GB18030. Logged in the audit log (who, which school and year, how many).
    public func national(school: String?, schoolYear: Int, template version: String, utf8: Bool = false, actor: Actor) async throws(ServiceError) -> NationalExport {
        let school = school ?? actor.organisation
        guard Access.canImport(actor, school: school) else {
            throw ServiceError(.forbidden, key: "error.forbidden", message: "a national upload is exported by the school's own nurse")
        }
        let templates = try Self.nationalTemplates(services.configDirectory)
        guard let template = templates[version] else {
            throw ServiceError(.invalid, key: "error.badRequest", ["detail": "--template \(version)"],
                               message: "--template \(version): no such template (there are \(templates.keys.sorted().joined(separator: ", ")))",
                               remedy: .option(name: "template", value: templates.keys.sorted().last ?? "2014"))
        }
        let store = try services.store
        return try await offload {
            let records = try store.nationalRecords(school: school, schoolYear: schoolYear, fitness: template.fitness, vision: template.vision)
            let crlf = template.lineEnding == "crlf"
            var text = template.headers.map(CSVCell.escape).joined(separator: ",") + (crlf ? "\r\n" : "\n")
            var leftOut: [NationalExport.Note] = [], warnings: [NationalExport.Note] = []
            var rows = 0
            for record in records {
                let (cells, problems) = template.cells(for: record)
                // One line per student: several reasons are said together.
                for (out, list) in [(true, problems.filter(\.leavesRowOut)), (false, problems.filter { !$0.leavesRowOut })] where !list.isEmpty {
                    let reason = list.count == 1 ? list[0].reason : ReasonText.joined(list.map(\.reason), separator: "; ")
                    let note = NationalExport.Note(studentID: record.studentID, reason: reason.text, reasonText: reason)
                    if out { leftOut.append(note) } else { warnings.append(note) }
                }
                guard let cells else { continue }
                text += cells.map(CSVCell.escape).joined(separator: ",") + (crlf ? "\r\n" : "\n")
                rows += 1
            }
            let gb = !utf8 && template.encoding == "gb18030"
            guard let bytes = gb ? TextEncoder.gb18030(text) : [0xEF, 0xBB, 0xBF] + Array(text.utf8) else {
                throw ServiceError(.internalError, key: "error.internal", message: "iconv cannot write GB18030 on this system")
            }
            try store.recordEvent(actor: actor, action: "export national",
                                  detail: "template \(version), school \(school), school year \(schoolYear): \(rows) row(s), \(leftOut.count) left out")
            return NationalExport(template: version, school: school, schoolYear: schoolYear,
                                  fileName: "\(school)-\(schoolYear)-national-\(version).csv",
                                  encoding: gb ? "GB18030" : "UTF-8 with BOM", lineEnding: crlf ? "CRLF" : "LF", data: Data(bytes), rows: rows,
                                  leftOut: leftOut, warnings: warnings, notStored: template.notStored)
        }
    }
}

extension SchoolHealthServices {
    public var exports: ExportService { ExportService(services: self) }
}
