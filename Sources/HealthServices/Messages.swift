public import Foundation
public import HealthCore
public import HealthIngest
import Yams

/// The language a person reads SchoolHealth in.
public enum Language: String, Sendable, CaseIterable, Codable {
    case zh = "zh-Hans"
    case en

    /// The CLI's language from the locale variables (`LC_ALL`, then `LC_MESSAGES`, then `LANG`): `zh*` is Chinese,
    /// anything else English.
    ///
    ///     Language.fromEnvironment(["LANG": "zh_CN.UTF-8"])   // .zh
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Language {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[name], !value.isEmpty else { continue }
            return value.lowercased().hasPrefix("zh") ? .zh : .en
        }
        return .en
    }
}

/// Every message a person reads, in 简体中文 and English: `Config/messages/<language>.yaml`, one flat map of keys to
/// texts with `{name}` placeholders. A key missing in one language falls back to the other, then to the key itself
/// (a test keeps the two files in step, so neither happens in a release).
///
///     let text = catalogue.text("result.imported", ["batch": "12"], in: .zh)   // 已导入，批次号 12
public struct MessageCatalogue: Sendable {
    let texts: [Language: [String: String]]
    /// Translations of the reasons the importers write in English (`ReasonText`), by template:
    /// `Config/messages/reasons/<language>.yaml`. English needs none.
    let reasons: [Language: [String: String]]

    public init(texts: [Language: [String: String]], reasons: [Language: [String: String]] = [:]) {
        self.texts = texts
        self.reasons = reasons
    }

    /// Reads `directory/messages/*.yaml`.
    public static func load(configDirectory directory: String) throws(ServiceError) -> MessageCatalogue {
        var texts: [Language: [String: String]] = [:]
        var reasons: [Language: [String: String]] = [:]
        for language in Language.allCases where language != .en {
            let path = "\(directory)/messages/reasons/\(language.rawValue).yaml"
            do {
                reasons[language] = try flatStrings(try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                throw ServiceError(.configuration, message: "\(path): \(error)")
            }
        }
        for language in Language.allCases {
            let path = "\(directory)/messages/\(language.rawValue).yaml"
            do {
                let source = try String(contentsOfFile: path, encoding: .utf8)
                texts[language] = try flatStrings(source)
            } catch {
                throw ServiceError(.configuration, message: "\(path): \(error)")
            }
        }
        return MessageCatalogue(texts: texts, reasons: reasons)
    }

    /// A flat YAML mapping of texts, read pair by pair. (Decoding `[String: String]` with YAMLDecoder looks each key
    /// up along the mapping again: quadratic, ~0.15 s of every command's start for the catalogue's ~900 texts.)
    static func flatStrings(_ yaml: String) throws -> [String: String] {
        guard let node = try Yams.compose(yaml: yaml) else { return [:] }
        guard let mapping = node.mapping else { throw ServiceError(.configuration, message: "not a mapping of texts") }
        var texts: [String: String] = [:]
        texts.reserveCapacity(mapping.count)
        for (key, value) in mapping {
            guard let k = key.string, let v = value.string else {
                throw ServiceError(.configuration, message: "line \(key.mark?.line ?? 0): a text must be a string")
            }
            texts[k] = v
        }
        return texts
    }

    /// A reason in `language`: its template's translation with the same values, or the English text.
    ///
    ///     catalogue.reason("is \(40) characters long; at most \(32) are allowed", in: .zh)
    public func reason(_ reason: ReasonText, in language: Language) -> String {
        let arguments = reason.arguments.map { self.reason($0, in: language) }
        return ReasonText.fill(reasons[language]?[reason.template] ?? reason.template, arguments)
    }

    /// Whether `template` has a translation in `language` (English always has).
    public func hasReason(_ template: String, in language: Language) -> Bool {
        language == .en || reasons[language]?[template] != nil
    }

    /// The templates with a translation in `language`.
    public func reasonTemplates(_ language: Language) -> Set<String> { Set(reasons[language]?.keys ?? [:].keys) }

    /// A rejected value's column and reason in `language` (the column as written in the file; "(whole row)" said).
    public func rejection(_ r: Rejection, in language: Language) -> (column: String, reason: String) {
        (r.column == Rejection.wholeRow ? text("reject.wholeRow", in: language) : r.column, reason(r.explanation, in: language))
    }

    /// The heading of a rejects CSV in `language`.
    public func rejectsHeadings(_ language: Language) -> [String] {
        ["file", "line", "column", "value", "reason"].map { text("rejects." + $0, in: language) }
    }

    /// The keys of one language (for the test that keeps the files in step).
    public func keys(_ language: Language) -> Set<String> { Set(texts[language]?.keys ?? [:].keys) }

    public func text(_ key: String, _ arguments: [String: String] = [:], in language: Language) -> String {
        let other: Language = language == .zh ? .en : .zh
        var text = texts[language]?[key] ?? texts[other]?[key] ?? key
        for (name, value) in arguments { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    /// The catalogue for one language, for a template (every key, by name).
    public func table(_ language: Language) -> [String: String] {
        let other: Language = language == .zh ? .en : .zh
        return (texts[other] ?? [:]).merging(texts[language] ?? [:]) { _, mine in mine }
    }
}
