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
        let kinds: [HTML] = ["vision", "spine", "fitness", "psych", "roster", "results"].map { "<option value=\"\($0)\">\(t("upload.kind." + $0))</option>" }
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
        let kind = fields["kind"] ?? ""
        let request: ImportRequest
        do {
            try app.requireCSRF(fields["csrf"], session)
            request = try app.importRequest(kind: kind, schoolYear: fields["schoolYear"], date: fields["date"], context)
        } catch {
            upload.remove()
            throw error
        }
        _ = try await app.importUpload(upload, request, kind: kind, actor: session.actor, context)
        return Web.redirect("/upload/\(upload.id)")
    }

    /// The mapping step's answer: a field per unmapped column (`col-N`), saved as the school's profile, and the
    /// waiting upload imported with it.
    func mapping(_ request: Request, _ context: WebContext) async throws -> Response {
        let session = try role(context, .nurse)
        let form = try await Web.readForm(request, context)
        try app.requireCSRF(form["csrf"], session)
        let account = session.actor.accountID ?? -1
        guard let id = context.parameters.get("id"), var entry = await app.uploads.get(id, account: account),
              let upload = entry.pending, let importRequest = entry.request else { throw WebError.notFound }
        var choices: [Int: String] = [:]
        for (name, field) in form where name.hasPrefix("col-") {
            guard let number = Int(name.dropFirst(4)) else { throw WebError.badRequest(name) }
            if !field.isEmpty { choices[number] = field }
        }
        do {
            _ = try await app.mapUpload(id, entry, upload, importRequest, choices: choices, actor: session.actor, context)
        } catch {
            guard error.code == .invalid else { throw error }
            entry.mappingError = error.message(app.services.messages, context.language)
            await app.uploads.put(id, entry)
        }
        return Web.redirect("/upload/\(id)")
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
        case .refused where entry.pending != nil: headline = "<p class=\"error\">\(t("result.needsMapping", [:]))</p>"
        case .refused: headline = "<p class=\"error\">\(t("result.refused", ["reason": r.error ?? ""]))</p>"
        }
        let rows: [HTML] = entry.outcome.firstRejections.map { x in
            let said = app.services.messages.rejection(x, in: context.language)
            return "<tr><td class=\"num\">\(x.line)</td><td>\(said.column)</td><td>\(x.value)</td><td>\(said.reason)</td></tr>"
        }
        let rejects: HTML = r.rejected == 0 && rows.isEmpty ? "<p>\(t("result.noRejects", [:]))</p>" : """
            <h2>\(t("result.rejectsTitle", ["shown": String(rows.count), "total": String(max(r.rejected, rows.count))]))</h2>
            \(entry.outcome.rejectsPath != nil ? "<p><a href=\"/upload/\(id)/rejects.csv\">\(t("result.rejectsDownload", [:]))</a></p>" as HTML : .empty)
            <table id="rejects"><thead><tr><th>\(t("col.line", [:]))</th><th>\(t("col.column", [:]))</th><th>\(t("col.value", [:]))</th><th>\(t("col.reason", [:]))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        let mapping: HTML = entry.pending != nil ? entry.outcome.mapping.map { mappingForm($0, id: id, error: entry.mappingError, context) } ?? .empty : .empty
        return page(context, title: t("result.title", [:]), """
            <div class="card">\(headline)<p class="muted">\(r.file)</p>
            \(entry.pending != nil ? .empty : summary(r, context))
            </div>
            \(mapping)
            \(entry.pending != nil ? .empty : "<div class=\"card\">\(rejects)</div>" as HTML)
            <p><a href="/upload">\(t("upload.title", [:]))</a> · <a href="/batches">\(t("batches.title", [:]))</a></p>
            """)
    }

    /// An import's counts, encoding, layout and warnings, in words a nurse understands.
    func summary(_ r: FileReport, _ context: WebContext) -> HTML {
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        let warnings: [HTML] = r.explainedWarnings.map { "<li>\(app.services.messages.reason($0, in: context.language))</li>" }
        return """
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
            """
    }

    /// The inspect mode's mapping on a page: the head as read (title and header lines), each column with its header,
    /// the first row's value and its field, and for every column not read a choice of the fields still open.
    func mappingForm(_ m: LayoutInspection, id: String, error: String?, _ context: WebContext) -> HTML {
        let t = { (k: String, a: [String: String]) in app.t(k, a, context) }
        guard let session = context.session else { return .empty }
        let label = Dictionary(m.openFields.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let suggested = Dictionary(m.suggested.map { ($0.column, $0.field) }, uniquingKeysWith: { a, _ in a })
        let missing: [HTML] = m.missing.map { "<li>\(label[$0]?.label ?? $0) <span class=\"muted\">(\($0))</span></li>" }
        let rows: [HTML] = m.layout.columns.map { c in
            let sample = c.number <= m.samples.count ? m.samples[c.number - 1] : ""
            let cell: HTML
            if let field = c.field {
                let words = field.components(separatedBy: " + ").map { m.labels[$0] ?? $0 }.joined(separator: " + ")
                cell = "<span class=\"ok\">\(words)</span> <span class=\"muted\">(\(field))</span>"
            } else if c.note == nil || m.layout.unmapped.contains(c) {
                let options: [HTML] = m.openFields.map { f in
                    "<option value=\"\(f.key)\"\(suggested[c.number] == f.key ? " selected" : "")>\(f.label) (\(f.key))\(f.required ? " *" : "")</option>"
                }
                cell = "<select name=\"col-\(String(c.number))\" aria-label=\"\(t("mapping.fieldFor", ["column": c.header]))\"><option value=\"\">\(t("mapping.ignore", [:]))</option>\(options)</select>"
            } else {
                cell = "<span class=\"muted\">\(t("mapping.notRead", [:]))</span>"
            }
            return "<tr><td class=\"num\">\(c.number)</td><td>\(c.header)</td><td class=\"muted\">\(sample)</td><td>\(cell)</td></tr>"
        }
        let titles = m.layout.titleLines.isEmpty ? t("mapping.none", [:]) : m.layout.titleLines.map(String.init).joined(separator: "、")
        return """
            <div class="card" id="mapping"><h2>\(t("mapping.title", [:]))</h2>
            <p>\(t("mapping.hint", ["profile": m.layout.profile]))</p>
            <p class="muted">\(t("mapping.head", ["titles": titles, "headers": m.layout.headerLines.map(String.init).joined(separator: "、"), "encoding": m.encoding]))</p>
            <p>\(t("mapping.missing", [:]))</p><ul>\(missing)</ul>
            \(error.map { "<p class=\"error\" id=\"mapping-error\">\($0)</p>" as HTML } ?? .empty)
            <form method="post" action="/upload/\(id)/mapping">\(csrfField(session))
            <table id="mapping-columns"><thead><tr><th>\(t("mapping.column", [:]))</th><th>\(t("mapping.header", [:]))</th><th>\(t("mapping.sample", [:]))</th><th>\(t("mapping.field", [:]))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <div><button class="primary" type="submit">\(t("mapping.submit", [:]))</button></div>
            </form></div>
            """
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
        // County time (UTC+8), written out by hand: a DateFormatter per call was a fifth of a queue page's time.
        let day = CivilDate(countyTime: t)
        let minutes = (t + 8 * 3600 - day.daysSinceEpoch * 86400) / 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(day) \(two(minutes / 60)):\(two(minutes % 60))"
    }
}
