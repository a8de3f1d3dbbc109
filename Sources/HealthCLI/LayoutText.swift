import Foundation
import HealthIngest

/// How the CLI shows the way a file's head was read.
enum LayoutText {
    /// One line: header lines, title lines, delimiter, columns mapped and not.
    static func summary(_ layout: LayoutReport) -> String {
        let mapped = layout.columns.filter { $0.field != nil }.count
        let excluded = layout.columns.filter { $0.field == nil && $0.note != nil && !layout.unmapped.contains($0) }.count
        let t = { (key: String, arguments: [String: String], english: String) in CLIMessages.text(key, arguments, english: english) }
        var parts = [t("cli.layout.header", ["lines": lines(layout.headerLines)], "header \(lines(layout.headerLines))")]
        if !layout.titleLines.isEmpty {
            parts.append(t("cli.layout.title", ["lines": lines(layout.titleLines)], "title \(lines(layout.titleLines)) skipped"))
        }
        if layout.delimiter != "," { parts.append(t("cli.layout.delimiter", ["delimiter": layout.delimiter], "delimiter \(layout.delimiter)")) }
        parts.append(t("cli.layout.mapped", ["mapped": String(mapped), "columns": String(layout.columns.count)], "\(mapped) of \(layout.columns.count) columns mapped"))
        if excluded > 0 { parts.append(t("cli.layout.excluded", ["count": String(excluded)], "\(excluded) not read on purpose")) }
        return parts.joined(separator: " · ")
    }

    static func lines(_ l: [Int]) -> String {
        guard let first = l.first, let last = l.last else { return "-" }
        return first == last ? CLIMessages.text("cli.layout.line", ["line": String(first)], english: "line \(first)")
            : CLIMessages.text("cli.layout.lines", ["first": String(first), "last": String(last)], english: "lines \(first)–\(last)")
    }

    /// The whole inspection, for a person.
    static func describe(_ i: LayoutInspection, draftPath: String) -> String {
        let t = { (key: String, arguments: [String: String], english: String) in CLIMessages.text(key, arguments, english: english) }
        var out = [t("cli.inspect.head", ["file": i.file, "encoding": i.encoding, "summary": summary(i.layout), "profile": i.layout.profile],
                     "\(i.file): \(i.encoding), \(summary(i.layout)), closest profile \(i.layout.profile)")]
        let width = min(48, i.layout.columns.map { $0.header.count }.max() ?? 10)
        for c in i.layout.columns {
            let header = c.header.isEmpty ? t("cli.inspect.noHeader", [:], "(no header)") : c.header
            let padded = header.count < width ? header + String(repeating: " ", count: width - header.count) : header
            out.append("  \(String(format: "%3d", c.number))  \(padded)  \(c.field.map { "→ \($0)" } ?? "· \(c.note ?? "")")")
        }
        let missing = i.missing.joined(separator: ", ")
        if !i.missing.isEmpty { out.append("  " + t("cli.inspect.missing", ["fields": missing], "required and not found: \(missing)")) }
        let problem = i.problemExplained.map(CLIMessages.reason) ?? i.problem
        out.append("  " + (problem.map { t("cli.inspect.refused", ["problem": $0], "would be refused: \($0)") }
                           ?? t("cli.inspect.fine", ["profile": i.layout.profile], "imports as it is with profile \(i.layout.profile)")))
        out.append("  " + t("cli.inspect.draft", ["path": draftPath],
                            "profile draft written to \(draftPath): check it, save it in Config/profiles/ (or pass --profile FILE) and import again"))
        return out.joined(separator: "\n")
    }
}
