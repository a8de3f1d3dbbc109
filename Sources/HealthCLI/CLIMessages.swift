import Foundation
import HealthCore
import HealthIngest
import HealthServices

/// The CLI's side of the message catalogue: the language from `LANG`, remedies as options.
enum CLIMessages {
    static let language = Language.fromEnvironment()

    /// The catalogue of the Config folder, if it can be found (else messages stay in English).
    static let catalogue: MessageCatalogue? = (try? ConfigLocator.locate(explicit: nil)).flatMap { try? MessageCatalogue.load(configDirectory: $0) }

    static func text(_ key: String, _ arguments: [String: String] = [:], english: String) -> String {
        guard let catalogue, language != .en else { return english }
        return catalogue.text(key, arguments, in: language)
    }

    /// An error's detail in the CLI's language (a refused file's why), without the remedy.
    static func detail(_ error: ServiceError) -> String {
        guard let catalogue, language != .en else { return error.description }
        return error.detail(catalogue, language)
    }

    /// A reason or warning in the CLI's language.
    static func reason(_ r: ReasonText) -> String {
        guard let catalogue, language != .en else { return r.text }
        return catalogue.reason(r, in: language)
    }

    /// A rejected value's column and reason in the CLI's language.
    static func rejection(_ r: Rejection) -> (column: String, reason: String) {
        guard let catalogue, language != .en else { return (r.column, r.reason) }
        return catalogue.rejection(r, in: language)
    }

    /// A rejects CSV whose heading and reasons are in the CLI's language.
    static func rejectsFile(_ path: String) -> RejectsFile {
        guard let catalogue, language != .en else { return RejectsFile(path: path) }
        let language = language
        return RejectsFile(path: path, headings: catalogue.rejectsHeadings(language), words: { catalogue.rejection($0, in: language) })
    }

    /// "error: …" with what to do, e.g. "(give --consent given)".
    static func render(_ error: ServiceError) -> String {
        var text: String
        if language == .zh, let catalogue {
            text = catalogue.text("cli.error", ["text": error.message(catalogue, .zh, valuesInWords: false)], in: .zh)
            if error.key == nil || error.key == "error.internal" { text += " (\(error.detail))" }
        } else {
            text = "error: \(error.description)"
        }
        switch error.remedy {
        case let .option(name, value)?: text += language == .zh ? "（请加 --\(name) \(value)）" : " (give --\(name) \(value))"
        case .login?: text += language == .zh ? "（请用 --login 或 SCHOOLHEALTH_TOKEN 重新认证）" : " (authenticate again: --login or SCHOOLHEALTH_TOKEN)"
        case .retry?: text += language == .zh ? "（请稍后重试）" : " (try again shortly)"
        case .administrator?, nil: break
        }
        return text
    }
}
