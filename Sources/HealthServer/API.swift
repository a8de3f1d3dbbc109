import Logging
import HealthCore
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
        let parameters: [String]
        let handler: @Sendable (API, Request, WebContext, Actor) async throws -> Response
    }

    static let endpoints: [Endpoint] = [
        Endpoint(method: .get, path: "/api/me", summary: "The signed-in account", parameters: []) { _, _, _, actor in
            Web.json(Me(login: actor.user, role: actor.role.rawValue, organisation: actor.organisation))
        },
        Endpoint(method: .get, path: "/api/report", summary: "The trend report (suppressed), as JSON", parameters: ["from", "to", "school", "by"]) { api, request, context, actor in
            guard Access.canReadReports(actor) else { throw ServiceError(.forbidden, key: "error.forbidden") }
            let report = try await api.app.services.reports.trends(try Pages(app: api.app).trendRequest(request, context, actor: actor))
            return Web.json(report)
        },
        Endpoint(method: .get, path: "/api/queue", summary: "Open cases in the account's scope, most urgent first", parameters: ["limit"]) { api, request, _, actor in
            let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 50
            guard (1...500).contains(limit) else { throw ServiceError(.invalid, key: "error.badRequest", message: "limit is 1 to 500") }
            return Web.json(["cases": try await api.app.services.referrals.queue(actor: actor, limit: limit)])
        },
        Endpoint(method: .get, path: "/api/cases/{id}", summary: "One case, as the account's role may see it", parameters: []) { api, _, context, actor in
            Web.json(try await api.app.services.referrals.show(actor: actor, caseID: try api.caseID(context), purpose: "api"))
        },
        Endpoint(method: .post, path: "/api/cases/{id}/advance", summary: "Move a case to its next state", parameters: []) { api, request, context, actor in
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
        Endpoint(method: .get, path: "/api/schools", summary: "The county's schools", parameters: []) { api, _, _, _ in
            Web.json(["schools": try await api.app.services.accounts.schools()])
        },
        Endpoint(method: .get, path: "/api/accounts", summary: "Every account (administrators)", parameters: []) { api, _, _, actor in
            Web.json(["accounts": try await api.app.services.accounts.list(by: actor)])
        },
    ]

    struct Me: Encodable { let login, role, organisation: String }
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
            let e = ServiceError(error)
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

    /// OpenAPI 3.0 from `endpoints`.
    static func openAPIDocument() -> String {
        var paths: [String: [String: Any]] = [:]
        for e in endpoints {
            var parameters: [[String: Any]] = e.parameters.map { ["name": $0, "in": "query", "required": false, "schema": ["type": $0 == "school" ? "string" : ($0 == "by" ? "string" : "integer")]] }
            if e.path.contains("{id}") { parameters.append(["name": "id", "in": "path", "required": true, "schema": ["type": "integer", "minimum": 1]]) }
            var operation: [String: Any] = [
                "summary": e.summary,
                "parameters": parameters,
                "responses": [
                    "200": ["description": "OK", "content": ["application/json": ["schema": ["type": "object"]]]],
                    "default": ["description": "A problem: code, message, remedy", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Problem"]]]],
                ],
                "security": [["bearer": [String]()], ["session": [String]()]],
            ]
            if e.method == .post {
                operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": [
                    "type": "object", "required": ["to"],
                    "properties": ["to": ["type": "string", "enum": CaseState.allCases.map(\.rawValue)], "note": ["type": "string"], "guardianInformed": ["type": "boolean"],
                                   "consent": ["type": "string", "enum": ["given", "refused", "not-asked"]], "emergencyOverride": ["type": "string"],
                                   "hospital": ["type": "string"], "attendance": ["type": "string"], "safetyAdvice": ["type": "string"], "nextVisit": ["type": "string"]],
                ]]]]
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
