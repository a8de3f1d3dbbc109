import Foundation
import HealthCore
import HealthRisk
import HealthServices
import Hummingbird
import HTTPTypes
import NIOCore

extension Pages {
    /// The nurse's national upload: a year and a template; what the file will hold (rows, who is left out and why,
    /// the columns left empty) and the download.
    func nationalExportPage(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let year = try schoolYear(request)
        let version = request.uri.queryParameters.get("template").map { String($0) } ?? "2014"
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let templates = try ExportService.nationalTemplates(app.services.configDirectory)
        let options: [HTML] = templates.keys.sorted().map { v in
            "<option value=\"\(v)\"\(v == version ? " selected" : "")>\(v) · \(templates[v]!.description)</option>"
        }
        let form: HTML = """
            <form method="get" action="/export/national" class="inline"><label for="year">\(t("upload.schoolYear", [:]))</label>
            <input type="number" id="year" name="year" min="1990" max="2099" value="\(String(year))">
            <label for="template">\(t("export.template", [:]))</label><select id="template" name="template">\(options)</select>
            <button type="submit">\(t("loop.show", [:]))</button></form>
            """
        let export = try await app.services.exports.national(school: nil, schoolYear: year, template: version, actor: session.actor)
        let notes = { (list: [NationalExport.Note]) -> [HTML] in
            list.map { "<tr><td>\($0.studentID)</td><td>\(app.services.messages.reason($0.reasonText, in: context.language))</td></tr>" }
        }
        let query = "year=\(year)&template=\(version)"
        let body: HTML = """
            <div class="card"><p id="export-summary">\(t("export.summary", ["rows": String(export.rows), "template": version, "encoding": export.encoding]))</p>
            \(export.isEmpty ? "<p class=\"error\">\(t("export.empty", ["year": String(year)]))</p>" as HTML : .empty)
            <p class="hint">\(t("export.notStored", ["columns": export.notStored.joined(separator: "、")]))</p>
            <p><a class="button primary" href="/export/national/file?\(query)" download>\(t("export.download", [:]))</a>
            <a class="button" href="/export/national/file?\(query)&utf8=1" download>\(t("export.downloadUTF8", [:]))</a></p></div>
            \(export.leftOut.isEmpty ? .empty : """
            <h2>\(t("export.leftOut", ["count": String(export.leftOut.count)]))</h2>
            <table id="left-out"><thead><tr><th>\(t("coverage.id", [:]))</th><th>\(t("export.reason", [:]))</th></tr></thead><tbody>\(notes(export.leftOut))</tbody></table>
            """ as HTML)
            \(export.warnings.isEmpty ? .empty : """
            <details><summary>\(t("export.warnings", ["count": String(export.warnings.count)]))</summary>
            <table id="export-warnings"><tbody>\(notes(export.warnings))</tbody></table></details>
            """ as HTML)
            """
        return page(context, title: t("export.title", [:]), "\(form)\(body)")
    }

    /// The file itself, as the platform's template is written (GB18030, CRLF), or UTF-8 with BOM on request.
    func nationalExportFile(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let year = try schoolYear(request)
        let version = request.uri.queryParameters.get("template").map { String($0) } ?? "2014"
        let utf8 = request.uri.queryParameters.get("utf8") == "1"
        let export = try await app.services.exports.national(school: nil, schoolYear: year, template: version, utf8: utf8, actor: session.actor)
        let headers: HTTPFields = [
            .contentType: "text/csv; charset=\(utf8 ? "utf-8" : "gb18030")",
            .contentDisposition: "attachment; filename=\"\(export.fileName)\"",
            .cacheControl: "no-store",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: export.data)))
    }
}
