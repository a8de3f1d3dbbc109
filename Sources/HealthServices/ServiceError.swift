import Foundation
public import HealthCore
import HealthIngest
import HealthRisk
import HealthStore

/// What went wrong, for any front end: a stable code, a neutral message (in the catalogue's words where it has
/// them) and a structured remedy. The CLI renders a remedy as an option (`--consent given`), the web as a hint
/// beside a form field.
///
///     throw ServiceError(.invalid, key: "error.transition", ["detail": "…"], remedy: .option(name: "consent", value: "given"))
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// Stable across releases: scripts and the web map on it, never on the text.
    public enum Code: String, Sendable, Codable {
        case unauthenticated, forbidden, notFound, invalid, conflict, fileRefused, busy, unavailable, configuration, tooLarge, internalError
    }
    /// What to do about it.
    public enum Remedy: Sendable, Equatable {
        /// Give this option or form field this value (`--consent given`; the field 监护人同意 = 同意).
        case option(name: String, value: String)
        /// Log in again.
        case login
        /// Try again shortly.
        case retry
        /// Ask the administrator.
        case administrator
    }

    public var code: Code
    /// A catalogue key and its arguments, when the message has one.
    public var key: String?
    public var arguments: [String: String]
    /// The English detail from the layer below (names the file, line, column and value where it has them).
    public var detail: String
    /// The detail with its template and values apart, where the layer below gave one (a refused file's why).
    public var reason: ReasonText?
    public var remedy: Remedy?

    public init(_ code: Code, key: String? = nil, _ arguments: [String: String] = [:], message: String = "", remedy: Remedy? = nil) {
        self.code = code
        self.key = key
        self.arguments = arguments
        self.detail = message
        self.remedy = remedy
    }

    public var description: String { detail.isEmpty ? (key ?? code.rawValue) : detail }

    /// The message in a language.
    /// The message in `language`. `valuesInWords`: states and roles in the reader's words (pages); the CLI keeps the
    /// values as typed (`referred_to_centre`), since the reader types them back as options.
    public func message(_ catalogue: MessageCatalogue, _ language: Language, valuesInWords: Bool = true) -> String {
        guard let key else { return detail(catalogue, language) }
        var arguments = arguments
        if arguments["detail"] == nil { arguments["detail"] = detail(catalogue, language) }
        // A case state or role named in a refusal is said in the reader's words (`state.*`, `role.*`), not as stored.
        for (name, prefix) in [("from", "state."), ("to", "state."), ("needed", "role."), ("actor", "role.")] where valuesInWords {
            if let value = arguments[name], catalogue.keys(language).contains(prefix + value) {
                arguments[name] = catalogue.text(prefix + value, [:], in: language)
            }
        }
        if valuesInWords, let allowed = arguments["allowed"] {
            arguments["allowed"] = allowed.components(separatedBy: ", ").map { catalogue.keys(language).contains("state." + $0) ? catalogue.text("state." + $0, [:], in: language) : $0 }
                .joined(separator: language == .zh ? "、" : ", ")
        }
        return catalogue.text(key, arguments, in: language)
    }

    /// The detail in `language` where the catalogue can say it, else as the layer below wrote it.
    public func detail(_ catalogue: MessageCatalogue, _ language: Language) -> String {
        reason.map { catalogue.reason($0, in: language) } ?? detail
    }

    /// Maps what the layers below throw; anything unknown is an internal error (its detail is logged, not shown).
    public init(_ error: any Error) {
        switch error {
        case let e as ServiceError:
            self = e
        case let e as CaseError:
            switch e {
            case .notInScope, .noSuchStudent: self.init(.notFound, key: "error.notFound", message: e.description)
            case .countsOnly, .notPermitted: self.init(.forbidden, key: "error.forbidden", message: e.description)
            case .authenticationFailed: self.init(.unauthenticated, key: "login.failed", message: e.description, remedy: .login)
            case .transition(let t): self.init(.conflict, key: t.messageKey.key, t.messageKey.arguments, message: t.description, remedy: Self.remedy(t))
            case .invalid, .simulatedTime, .transferRefused: self.init(.invalid, key: "error.badRequest", message: e.description)
            }
        case let e as StoreError:
            switch e {
            case .busy: self.init(.busy, key: "error.busy", message: e.description, remedy: .retry)
            case .notOnThisBackend: self.init(.unavailable, key: "error.notOnPostgres", message: e.description, remedy: .administrator)
            default: self.init(.unavailable, key: "error.database", message: e.description, remedy: .administrator)
            }
        case let e as NoticeError:
            switch e {
            case .noSuchNotice(let id), .otherSchool(let id):
                // Another school's notice is answered like a missing one: it does not say that it exists.
                self.init(.notFound, key: "error.notFound", message: "no notice \(id) of your school")
            }
        case let e as BackupError:
            switch e {
            case .notVerified: self.init(.invalid, key: "error.backupNotVerified", message: e.description)
            case .inUse: self.init(.conflict, key: "error.restoreRefused", message: e.description, remedy: .administrator)
            case .targetIsNewer, .targetUnreadable: self.init(.conflict, key: "error.restoreRefused", message: e.description, remedy: .option(name: "force", value: ""))
            default: self.init(.unavailable, key: "error.backup", message: e.description, remedy: .administrator)
            }
        case let e as IngestError:
            self.init(.fileRefused, key: "error.fileRefused", message: e.description)
            reason = e.explanation
        default:
            self.init(.internalError, key: "error.internal", message: String(describing: error), remedy: .administrator)
        }
    }

    static func remedy(_ error: TransitionError) -> Remedy? {
        switch error {
        case .consentRequired: return .option(name: "consent", value: "given")
        case .overrideReasonRequired: return .option(name: "emergency-override", value: "…")
        case .hospitalNotRegistered: return .option(name: "hospital", value: "…")
        default: return nil
        }
    }
}
