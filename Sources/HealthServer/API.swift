import Logging
import HealthCore
import HealthIngest
import Foundation
import HealthAnalytics
import HealthRisk
import HealthServices
import HealthStore
import Hummingbird
import HTTPTypes
import NIOCore

/// The JSON API: everything the pages show, with the same scopes and audit, through the same services. A
/// browser uses its session (and sends `X-CSRF-Token` on POST); a script sends `Authorization: Bearer <token>`.
/// `GET /api/openapi.json` describes it, generated from `endpoints` so the document cannot drift from the routes.
struct API {
    let app: WebApp

    struct Endpoint: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let summary: String
        let parameters: [Parameter]
        /// The request body's media type and schema (OpenAPI), for POST.
        var body: (mediaType: String, schema: Schema)? = nil
        /// What a success answers with.
        var produces = "application/json"
        let handler: @Sendable (API, Request, WebContext, Actor) async throws -> Response

        init(method: HTTPRequest.Method, path: String, summary: String, parameters: [Parameter], body: (mediaType: String, schema: Schema)? = nil,
             produces: String = "application/json", handler: @escaping @Sendable (API, Request, WebContext, Actor) async throws -> Response) {
            self.method = method; self.path = path; self.summary = summary; self.parameters = parameters; self.body = body; self.produces = produces
            self.handler = handler
        }
    }

    /// A query or path parameter as OpenAPI describes it.
    struct Parameter: Sendable {
        let name: String
        let schema: Schema
        var required = false
        var inPath = false
        static func query(_ name: String, _ schema: Schema, required: Bool = false) -> Parameter { Parameter(name: name, schema: schema, required: required) }
        static let caseID = Parameter(name: "id", schema: .object(["type": "integer", "minimum": 1, "maximum": Int64.max]), required: true, inPath: true)
        static let uploadID = Parameter(name: "id", schema: .object(["type": "string", "pattern": "^[0-9a-f]{32}$"]), required: true, inPath: true)
    }

    /// A JSON Schema fragment (built once, serialised into the document).
    struct Schema: @unchecked Sendable {
        let value: [String: Any]
        static func object(_ value: [String: Any]) -> Schema { Schema(value: value) }
        static let year = Schema(value: ["type": "integer", "minimum": 1990, "maximum": 2099])
        static let string = Schema(value: ["type": "string", "maxLength": 200])
    }

    static let endpoints: [Endpoint] = [
        Endpoint(method: .get, path: "/api/me", summary: "The signed-in account", parameters: []) { _, _, _, actor in
            Web.json(Me(login: actor.user, role: actor.role.rawValue, organisation: actor.organisation))
        },
        Endpoint(method: .get, path: "/api/report", summary: "The trend report (suppressed), as JSON",
                 parameters: [.query("from", .year), .query("to", .year), .query("school", .string),
                              .query("by", .object(["type": "string", "enum": ["none", "sex", "stage", "grade"]]))]) { api, request, context, actor in
            guard Access.canReadReports(actor) else { throw ServiceError(.forbidden, key: "error.forbidden") }
            let data = try await api.app.services.reports.encoded(try Pages(app: api.app).trendRequest(request, context, actor: actor), format: "api-json") {
                try Web.jsonEncoder.encode($0)
            }
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        },
        Endpoint(method: .get, path: "/api/queue", summary: "Open cases in the account's scope, most urgent first", parameters: [.query("limit", .object(["type": "integer", "minimum": 1, "maximum": 500]))]) { api, request, _, actor in
            let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 50
            guard (1...500).contains(limit) else { throw ServiceError(.invalid, key: "error.badRequest", message: "limit is 1 to 500") }
            return Web.json(["cases": try await api.app.services.referrals.queue(actor: actor, limit: limit)])
        },
        Endpoint(method: .get, path: "/api/cases/{id}", summary: "One case, as the account's role may see it", parameters: [.caseID]) { api, _, context, actor in
            Web.json(try await api.app.services.referrals.show(actor: actor, caseID: try api.caseID(context), purpose: "api"))
        },
        Endpoint(method: .post, path: "/api/cases/{id}/advance", summary: "Move a case to its next state", parameters: [.caseID],
                 body: ("application/json", .object(["type": "object", "required": ["to"], "properties": [
                     "to": ["type": "string", "enum": CaseState.allCases.map(\.rawValue)], "note": ["type": "string"], "guardianInformed": ["type": "boolean"],
                     "consent": ["type": "string", "enum": ["given", "refused", "not-asked"]], "emergencyOverride": ["type": "string"],
                     "hospital": ["type": "string"], "attendance": ["type": "string"], "safetyAdvice": ["type": "string"], "nextVisit": ["type": "string"]]]))) { api, request, context, actor in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let input: AdvanceInput
            do { input = try JSONDecoder().decode(AdvanceInput.self, from: Data(body.readableBytesView)) } catch {
                throw ServiceError(.invalid, key: "error.badRequest", message: "the body is not an advance request: \(error)")
            }
            guard let to = CaseState(rawValue: input.to), let consent = Consent(rawValue: input.consent ?? "not-asked") else {
                throw ServiceError(.invalid, key: "error.badRequest", message: "to or consent has an unknown value")
            }
            let feedback = input.attendance.map { HospitalFeedback(attendance: $0, safetyAdvice: input.safetyAdvice ?? "", nextVisit: input.nextVisit) }
            let view = try await api.app.services.referrals.advance(actor: actor, caseID: try api.caseID(context), request: TransitionRequest(
                to: to, note: input.note ?? "", guardianInformed: input.guardianInformed ?? false, consent: consent,
                emergencyOverride: input.emergencyOverride, feedback: feedback, hospital: input.hospital))
            return Web.json(view)
        },
        Endpoint(method: .get, path: "/api/counts", summary: "Open cases by tier and by state (health office, centre)", parameters: []) { api, _, _, actor in
            Web.json(try await api.app.services.referrals.counts(actor: actor))
        },
        Endpoint(method: .get, path: "/api/uploads", summary: "The nurse's school's imports", parameters: []) { api, _, _, actor in
            Web.json(["uploads": try await api.app.services.imports.uploads(actor: actor)])
        },
        Endpoint(method: .post, path: "/api/uploads", summary: "Upload a file for the nurse's school (the CSV is the body, streamed to disk)",
                 parameters: [.query("kind", .object(["type": "string", "enum": ScreeningKind.allCases.map(\.rawValue) + ["roster", "results"]]), required: true),
                              .query("schoolYear", .year), .query("date", .object(["type": "string", "format": "date"])), .query("name", .string)],
                 body: ("text/csv", .object(["type": "string", "format": "binary"]))) { api, request, context, actor in
            try await api.upload(request, context, actor)
        },
        Endpoint(method: .get, path: "/api/uploads/{id}", summary: "An upload's result: counts, the first rejected values, the mapping step if it waits",
                 parameters: [.uploadID]) { api, _, context, actor in
            let (id, entry) = try await api.uploadEntry(context, actor)
            return Web.json(api.uploadBody(id, entry, context))
        },
        Endpoint(method: .get, path: "/api/uploads/{id}/rejects.csv", summary: "Every rejected value of an upload (UTF-8 with BOM, for Excel)",
                 parameters: [.uploadID], produces: "text/csv") { api, _, context, actor in
            let (_, entry) = try await api.uploadEntry(context, actor)
            guard let path = entry.outcome.rejectsPath, let data = FileManager.default.contents(atPath: path) else { throw ServiceError(.notFound, key: "error.notFound") }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        },
        Endpoint(method: .post, path: "/api/uploads/{id}/mapping", summary: "The mapping step: a field per unread column (column number → field key)",
                 parameters: [.uploadID],
                 body: ("application/json", .object(["type": "object", "required": ["choices"], "properties": [
                     "choices": ["type": "object", "additionalProperties": ["type": "string"]]]]))) { api, request, context, actor in
            let (id, entry) = try await api.uploadEntry(context, actor)
            guard let upload = entry.pending, let importRequest = entry.request else {
                throw ServiceError(.conflict, key: "error.badRequest", message: "this upload does not wait for a mapping")
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            let input: MappingInput
            do { input = try JSONDecoder().decode(MappingInput.self, from: Data(body.readableBytesView)) } catch {
                throw ServiceError(.invalid, key: "error.badRequest", message: "the body is not a mapping: \(error)")
            }
            var choices: [Int: String] = [:]
            for (column, field) in input.choices where !field.isEmpty {
                guard let number = Int(column), number > 0 else { throw ServiceError(.invalid, key: "error.badRequest", message: "\(column) is not a column number") }
                choices[number] = field
            }
            let mapped = try await api.app.mapUpload(id, entry, upload, importRequest, choices: choices, actor: actor, context)
            return Web.json(api.uploadBody(id, mapped, context))
        },
        Endpoint(method: .get, path: "/api/schools", summary: "The county's schools", parameters: []) { api, _, _, _ in
            Web.json(["schools": try await api.app.services.accounts.schools()])
        },
        Endpoint(method: .get, path: "/api/accounts", summary: "Every account (administrators)", parameters: []) { api, _, _, actor in
            Web.json(["accounts": try await api.app.services.accounts.list(by: actor)])
        },
    ]

    struct Me: Encodable { let login, role, organisation: String }
    struct MappingInput: Decodable { let choices: [String: String] }
    /// An upload's result as the API gives it: reasons in the request's language, the rejects CSV's address.
    struct UploadBody: Encodable {
        let id: String
        let report: FileReport
        let warnings: [String]
        let rejections: [RejectionBody]
        let rejectsCSV: String?
        let mapping: LayoutInspection?
    }
    struct RejectionBody: Encodable { let line: Int; let column: String; let value: String; let reason: String }
    struct AdvanceInput: Decodable {
        let to: String
        let note: String?
        let guardianInformed: Bool?
        let consent: String?
        let emergencyOverride: String?
        let hospital: String?
        let attendance: String?
        let safetyAdvice: String?
        let nextVisit: String?
    }
    struct Problem: Encodable {
        let code: String
        let message: String
        let remedy: RemedyBody?
    }
    struct RemedyBody: Encodable { let kind: String; let name: String?; let value: String? }

    func uploadEntry(_ context: WebContext, _ actor: Actor) async throws -> (String, UploadResults.Entry) {
        guard let id = context.parameters.get("id"), let account = actor.accountID, let entry = await app.uploads.get(id, account: account) else {
            throw ServiceError(.notFound, key: "error.notFound")
        }
        return (id, entry)
    }

    func uploadBody(_ id: String, _ entry: UploadResults.Entry, _ context: WebContext) -> UploadBody {
        let messages = app.services.messages
        return UploadBody(id: id, report: entry.outcome.report,
                          warnings: entry.outcome.report.explainedWarnings.map { messages.reason($0, in: context.language) },
                          rejections: entry.outcome.firstRejections.map { r in
                              let said = messages.rejection(r, in: context.language)
                              return RejectionBody(line: r.line, column: said.column, value: r.value, reason: said.reason)
                          },
                          rejectsCSV: entry.outcome.rejectsPath == nil ? nil : "/upload/\(id)/rejects.csv",
                          mapping: entry.pending == nil ? nil : entry.outcome.mapping)
    }

    /// The body is the file: spooled chunk by chunk (never held whole), then imported for the nurse's school.
    func upload(_ request: Request, _ context: WebContext, _ actor: Actor) async throws -> Response {
        guard Access.canImport(actor, school: actor.organisation), actor.accountID != nil else {
            throw ServiceError(.forbidden, key: "error.forbidden", message: "only a school's nurse uploads its screenings")
        }
        let query = request.uri.queryParameters
        let kind = query["kind"].map(String.init) ?? ""
        let importRequest = try app.importRequest(kind: kind, schoolYear: query["schoolYear"].map(String.init), date: query["date"].map(String.init), context)
        var spool = try UploadSpool(directory: app.options.workDirectory, fileName: query["name"].map(String.init) ?? "upload.csv", limit: app.options.uploadLimit)
        do {
            for try await chunk in request.body { try spool.append(chunk.readableBytesView) }
        } catch {
            spool.discard()
            throw error
        }
        let upload = try spool.finish()
        let entry = try await app.importUpload(upload, importRequest, kind: kind, actor: actor, context)
        return Web.json(uploadBody(upload.id, entry, context), status: entry.outcome.report.status == .refused ? .unprocessableContent : .created)
    }

    func caseID(_ context: WebContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else { throw ServiceError(.notFound, key: "error.notFound") }
        return id
    }

    func register(_ router: Router<WebContext>) {
        for endpoint in Self.endpoints {
            let path = RouterPath(endpoint.path.replacingOccurrences(of: "{id}", with: ":id"))
            router.on(path, method: endpoint.method) { request, context in
                await self.run(endpoint, request, context)
            }
        }
        router.get("/api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Self.openAPIDocument())))
        }
    }

    /// Authenticates (token, or session with CSRF on changes), runs, and maps errors to a problem body.
    func run(_ endpoint: Endpoint, _ request: Request, _ context: WebContext) async -> Response {
        do {
            let actor: Actor
            if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") {
                actor = try await app.services.accounts.authenticate(token: String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            } else if let session = context.session {
                if endpoint.method != .get { try app.requireCSRF(request.headers[.csrfToken], session) }
                actor = session.actor
            } else {
                throw ServiceError(.unauthenticated, key: "error.auth", remedy: .login)
            }
            return try await endpoint.handler(self, request, context, actor)
        } catch WebError.csrf {
            return Web.json(Problem(code: "csrf", message: app.t("error.csrf", [:], context), remedy: nil), status: .forbidden)
        } catch {
            // What the pages' parsers throw is the request's fault, as on the pages (found by the fuzz: `to=null` was a 500).
            let e: ServiceError
            switch error {
            case WebError.badRequest(let detail): e = ServiceError(.invalid, key: "error.badRequest", ["detail": detail], message: detail)
            case WebError.notFound: e = ServiceError(.notFound, key: "error.notFound")
            case WebError.unauthenticated: e = ServiceError(.unauthenticated, key: "error.auth", remedy: .login)
            default: e = ServiceError(error)
            }
            if e.code == .internalError { app.services.logger.error("internal error", metadata: ["detail": "\(e.detail)"]) }
            let remedy: RemedyBody? = e.remedy.map { r in
                switch r {
                case let .option(name, value): return RemedyBody(kind: "option", name: name, value: value)
                case .login: return RemedyBody(kind: "login", name: nil, value: nil)
                case .retry: return RemedyBody(kind: "retry", name: nil, value: nil)
                case .administrator: return RemedyBody(kind: "administrator", name: nil, value: nil)
                }
            }
            return Web.json(Problem(code: e.code.rawValue, message: e.message(app.services.messages, context.language), remedy: remedy), status: Web.status(e.code))
        }
    }

    /// `get_api_uploads_id_mapping` for `GET /api/uploads/{id}/mapping`.
    static func operationID(_ e: Endpoint) -> String {
        (e.method.rawValue.lowercased() + e.path).map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            .replacingOccurrences(of: "__", with: "_").trimmingCharacters(in: CharacterSet(charactersIn: "_"))
    }

    /// OpenAPI 3.0 from `endpoints`.
    static func openAPIDocument() -> String {
        var paths: [String: [String: Any]] = [:]
        for e in endpoints {
            let parameters: [[String: Any]] = e.parameters.map { ["name": $0.name, "in": $0.inPath ? "path" : "query", "required": $0.required, "schema": $0.schema.value] }
            var operation: [String: Any] = [
                "operationId": operationID(e),
                "summary": e.summary,
                "parameters": parameters,
                "responses": [
                    (e.path == "/api/uploads" && e.method == .post ? "201" : "200"): ["description": "OK", "content": [e.produces: ["schema": e.produces == "application/json" ? ["type": "object"] : ["type": "string"]]]],
                    "default": ["description": "A problem: code, message, remedy", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Problem"]]]],
                ],
                "security": [["bearer": [String]()], ["session": [String]()]],
            ]
            if let body = e.body {
                operation["requestBody"] = ["required": true, "content": [body.mediaType: ["schema": body.schema.value]]]
            }
            // An upload's id leads to its result, its rejects and its mapping step (a fuzzer's stateful phase follows these).
            if e.method == .post && e.path == "/api/uploads" {
                let links: [String: Any] = Dictionary(uniqueKeysWithValues: endpoints.filter { $0.path.hasPrefix("/api/uploads/{id}") }.map {
                    (operationID($0), ["operationId": operationID($0), "parameters": ["id": "$response.body#/id"]] as [String: Any])
                })
                var responses = operation["responses"] as! [String: Any]
                for code in ["201", "422"] {
                    var response = (responses[code] as? [String: Any]) ?? ["description": "Refused, or waiting for the mapping step",
                                                                            "content": ["application/json": ["schema": ["type": "object"]]]]
                    response["links"] = links
                    responses[code] = response
                }
                operation["responses"] = responses
            }
            paths[e.path, default: [:]][e.method.rawValue.lowercased()] = operation
        }
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "SchoolHealth API", "version": "1"],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"], "session": ["type": "apiKey", "in": "cookie", "name": "sid"]],
                "schemas": ["Problem": ["type": "object", "required": ["code", "message"], "properties": [
                    "code": ["type": "string"], "message": ["type": "string"], "remedy": ["type": "object", "nullable": true]]]],
            ],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
