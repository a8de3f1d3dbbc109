import Logging
import Foundation
import HealthCore
import HealthIngest
import HealthRisk
import HealthServices
import HealthStore
import Hummingbird
import HTTPTypes
import MultipartKit
import NIOCore

extension Pages {
    func uploadPage(_ context: WebContext) throws -> Response {
        let session = try role(context, .nurse)
        let t = { (k: String) in app.t(k, [:], context) }
        let kinds: [HTML] = ["vision", "spine", "fitness", "psych"].map { "<option value=\"\($0)\">\(t("upload.kind." + $0))</option>" }
        return page(context, title: t("upload.title"), """
            <div class="card"><p class="hint">\(t("upload.hint"))</p>
            <form id="upload-form" method="post" action="/upload" enctype="multipart/form-data" data-failed="\(t("error.internal"))">
            \(csrfField(session))
            <label for="kind">\(t("upload.kind"))</label><select id="kind" name="kind">\(kinds)</select>
            <label for="schoolYear">\(t("upload.schoolYear"))</label><input type="number" id="schoolYear" name="schoolYear" min="1990" max="2099">
            <label for="date">\(t("upload.date"))</label><input type="date" id="date" name="date">
            <label for="file">\(t("upload.file"))</label><input type="file" id="file" name="file" accept=".csv,text/csv" required>
            <div><button class="primary" type="submit">\(t("upload.submit"))</button></div>
            <p id="upload-progress-box" class="hidden">\(t("upload.progress")) <progress id="upload-progress" value="0" max="1"></progress></p>
            </form></div>
            """)
    }

    /// Streams the multipart body: the small fields first (the CSRF token must come before the file, as browsers
    /// send fields in form order), then the file to the spool, chunk by chunk; then the import.
    func upload(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/form-data"),
              let range = type.range(of: "boundary=") else { throw WebError.badRequest("multipart/form-data") }
        let boundary = String(type[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let parser = MultipartParser(boundary: boundary)
        final class Events {
            var items: [Event] = []
            enum Event { case header(String, String), body(ByteBuffer), end }
        }
        let events = Events()
        parser.onHeader = { name, value in events.items.append(.header(name, value)) }
        parser.onBody = { buffer in events.items.append(.body(buffer)) }
        parser.onPartComplete = { events.items.append(.end) }

        var fields: [String: String] = [:]
        var currentName: String?
        var currentFile: String?
        var fieldBytes = ByteBuffer()
        var spool: UploadSpool?
        var upload: SpooledUpload?
        do {
            for try await chunk in request.body {
                try parser.execute(chunk)
                for event in events.items {
                    switch event {
                    case let .header(name, value):
                        guard name.lowercased() == "content-disposition" else { continue }
                        currentName = Self.dispositionParameter(value, "name")
                        currentFile = Self.dispositionParameter(value, "filename")
                        if currentName == "file" {
                            try app.requireCSRF(fields["csrf"], session)
                            spool = try UploadSpool(directory: app.options.workDirectory, fileName: currentFile ?? "upload.csv", limit: app.options.uploadLimit)
                        }
                    case let .body(buffer):
                        if currentName == "file" {
                            try spool?.append(buffer.readableBytesView)
                        } else {
                            guard fieldBytes.readableBytes + buffer.readableBytes <= 4096 else { throw WebError.badRequest("field too long") }
                            var b = buffer
                            fieldBytes.writeBuffer(&b)
                        }
                    case .end:
                        if currentName == "file" {
                            upload = try spool?.finish()
                            spool = nil
                        } else if let name = currentName {
                            fields[name] = String(buffer: fieldBytes)
                        }
                        fieldBytes.clear()
                        currentName = nil
                    }
                }
                events.items.removeAll(keepingCapacity: true)
            }
        } catch {
            spool?.discard()
            upload?.remove()
            throw error
        }
        guard let upload else { throw WebError.badRequest(app.t("upload.file", [:], context)) }
        defer { upload.remove() }
        try app.requireCSRF(fields["csrf"], session)
        guard let kind = ScreeningKind(rawValue: fields["kind"] ?? "") else { throw WebError.badRequest(app.t("upload.kind", [:], context)) }
        var options = ImportOptions()
        if let y = fields["schoolYear"], !y.isEmpty {
            guard let year = Int(y), (1990...2099).contains(year) else { throw WebError.badRequest("\(app.t("upload.schoolYear", [:], context)): \(y)") }
            options.schoolYear = year
        }
        if let d = fields["date"], !d.isEmpty {
            guard case .success(let date) = CivilDate.parse(d) else { throw WebError.badRequest("\(app.t("upload.date", [:], context)): \(d)") }
            options.screeningDate = date
        }
        let outcome = try await app.services.imports.importUpload(upload, ImportRequest(kind: kind, options: options), actor: session.actor,
                                                                  rejectsDirectory: app.options.workDirectory)
        await app.uploads.put(upload.id, .init(account: session.actor.accountID ?? -1, outcome: outcome, kind: kind.rawValue))
        return Web.redirect("/upload/\(upload.id)")
    }

    static func dispositionParameter(_ header: String, _ name: String) -> String? {
        for part in header.split(separator: ";") {
            let p = part.trimmingCharacters(in: .whitespaces)
            guard p.lowercased().hasPrefix(name + "=") else { continue }
            return String(p.dropFirst(name.count + 1)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    func uploadResult(_ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        guard let id = context.parameters.get("id"), let entry = await app.uploads.get(id, account: session.actor.accountID ?? -1) else { throw WebError.notFound }
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let r = entry.outcome.report
        let headline: HTML
        switch r.status {
        case .imported: headline = "<p class=\"ok\">\(t("result.imported", ["batch": String(r.batch ?? 0)]))</p>"
        case .alreadyImported: headline = "<p class=\"ok\">\(t("result.already", [:]))</p>"
        case .dryRun: headline = .empty
        case .refused: headline = "<p class=\"error\">\(t("result.refused", ["reason": r.error ?? ""]))</p>"
        }
        let rows: [HTML] = entry.outcome.firstRejections.map { x in
            "<tr><td class=\"num\">\(x.line)</td><td>\(x.column)</td><td>\(x.value)</td><td>\(x.reason)</td></tr>"
        }
        let rejects: HTML = r.rejected == 0 && rows.isEmpty ? "<p>\(t("result.noRejects", [:]))</p>" : """
            <h2>\(t("result.rejectsTitle", ["shown": String(rows.count), "total": String(max(r.rejected, rows.count))]))</h2>
            \(entry.outcome.rejectsPath != nil ? "<p><a href=\"/upload/\(id)/rejects.csv\">\(t("result.rejectsDownload", [:]))</a></p>" as HTML : .empty)
            <table id="rejects"><thead><tr><th>\(t("col.line", [:]))</th><th>\(t("col.column", [:]))</th><th>\(t("col.value", [:]))</th><th>\(t("col.reason", [:]))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        let warnings: [HTML] = r.warnings.map { "<li>\($0)</li>" }
        return page(context, title: t("result.title", [:]), """
            <div class="card">\(headline)<p class="muted">\(r.file)</p>
            <dl class="summary" id="summary">
            <dt>\(t("result.rowsRead", [:]))</dt><dd>\(r.rowsRead)</dd>
            <dt>\(t("result.inserted", [:]))</dt><dd>\(r.inserted)</dd>
            <dt>\(t("result.updated", [:]))</dt><dd>\(r.updated)</dd>
            <dt>\(t("result.unchanged", [:]))</dt><dd>\(r.unchanged)</dd>
            <dt>\(t("result.rejected", [:]))</dt><dd>\(r.rejected)</dd>
            <dt>\(t("result.encoding", [:]))</dt><dd>\(r.encoding ?? "—")</dd>
            <dt>\(t("result.profile", [:]))</dt><dd>\(r.profile ?? "—")</dd>
            </dl>
            \(warnings.isEmpty ? .empty : "<h2>\(t("result.warnings", [:]))</h2><ul>\(warnings)</ul>" as HTML)
            </div>
            <div class="card">\(rejects)</div>
            <p><a href="/upload">\(t("upload.title", [:]))</a> · <a href="/batches">\(t("batches.title", [:]))</a></p>
            """)
    }

    func rejectsDownload(_ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        guard let id = context.parameters.get("id"), let entry = await app.uploads.get(id, account: session.actor.accountID ?? -1),
              let path = entry.outcome.rejectsPath, let data = FileManager.default.contents(atPath: path) else { throw WebError.notFound }
        var response = Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        let name = ((entry.outcome.report.file as NSString).deletingPathExtension + ".rejects.csv")
        response.headers[.contentDisposition] = "attachment; filename=\"rejects.csv\"; filename*=UTF-8''\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "rejects.csv")"
        return response
    }

    func batches(_ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let list = try await app.services.imports.uploads(actor: session.actor)
        let t = { (k: String) in app.t(k, [:], context) }
        let rows: [HTML] = list.map { u in
            "<tr><td>\(Pages.time(u.uploadedAt))</td><td>\(t("upload.kind." + u.kind))</td><td>\(u.fileName)</td><td class=\"num\">\(u.batch)</td><td class=\"num\">\(u.rowsRead)</td><td class=\"num\">\(u.inserted)</td><td class=\"num\">\(u.updated)</td><td class=\"num\">\(u.unchanged)</td><td class=\"num\">\(u.rejected)</td><td>\(u.uploadedBy)</td></tr>"
        }
        return page(context, title: t("batches.title"), rows.isEmpty ? "<p>\(t("batches.none"))</p>" : """
            <table><thead><tr><th>\(t("batches.when"))</th><th>\(t("batches.kind"))</th><th>\(t("batches.file"))</th><th>#</th><th>\(t("result.rowsRead"))</th>
            <th>\(t("result.inserted"))</th><th>\(t("result.updated"))</th><th>\(t("result.unchanged"))</th><th>\(t("result.rejected"))</th><th>\(t("case.by"))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """)
    }

    /// A time in the county's zone (UTC+8).
    static func time(_ t: Int?) -> String {
        guard let t else { return "—" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}
