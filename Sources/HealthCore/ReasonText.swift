/// A reason written in English in the code, that keeps its template and its values apart so that a catalogue
/// can say it in another language: the compiler splits the interpolation, nothing parses the English.
///
///     let r: ReasonText = "is \(12) characters long; at most \(10) are allowed"
///     r.text          // "is 12 characters long; at most 10 are allowed"
///     r.template      // "is {0} characters long; at most {1} are allowed"
///     r.arguments     // the values 12 and 10 (each a ReasonText without placeholders)
///
/// A catalogue maps the template to a translation with the same numbered placeholders
/// (`"is {0} characters long; at most {1} are allowed": "长度为 {0} 个字符，最多 {1} 个"`). A value that is itself
/// a `ReasonText` (or a word the catalogue knows, such as `sphere`) is translated in its turn.
public struct ReasonText: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public var template: String
    public var arguments: [ReasonText]

    public init(template: String, arguments: [ReasonText] = []) {
        self.template = template
        self.arguments = arguments
    }

    public init(stringLiteral value: String) { self.init(template: value) }

    public init(stringInterpolation: Interpolation) { self.init(template: stringInterpolation.template, arguments: stringInterpolation.arguments) }

    public struct Interpolation: StringInterpolationProtocol {
        var template = ""
        var arguments: [ReasonText] = []
        public init(literalCapacity: Int, interpolationCount: Int) { template.reserveCapacity(literalCapacity + 4 * interpolationCount) }
        public mutating func appendLiteral(_ literal: String) {
            // A literal brace would read as a placeholder: double it (`{{`), as `fill` undoes.
            template += ReasonText.escape(literal)
        }
        public mutating func appendInterpolation(_ value: some Any) {
            template += "{\(arguments.count)}"
            arguments.append(ReasonText(value: String(describing: value)))
        }
        public mutating func appendInterpolation(_ value: ReasonText) {
            template += "{\(arguments.count)}"
            arguments.append(value)
        }
    }

    /// Several reasons one after the other (`a; b`), each translated in its turn.
    public static func joined(_ parts: [ReasonText], separator: String) -> ReasonText {
        ReasonText(template: parts.indices.map { "{\($0)}" }.joined(separator: escape(separator)), arguments: parts)
    }

    /// A value as it is (braces in it are not placeholders).
    public init(value: String) {
        self.init(template: Self.escape(value))
    }

    static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "{" || $0 == "}" }) else { return text }
        var out = ""
        for c in text { out.append(c); if c == "{" || c == "}" { out.append(c) } }
        return out
    }

    /// The English text.
    public var text: String { Self.fill(template, arguments.map(\.text)) }
    public var description: String { text }

    /// `template` with `{n}` replaced by `arguments[n]` (and `{{`/`}}` by single braces).
    public static func fill(_ template: String, _ arguments: [String]) -> String {
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            let next = template.index(after: i)
            if (c == "{" || c == "}"), next < template.endIndex, template[next] == c {
                out.append(c); i = template.index(after: next); continue
            }
            if c == "{", let close = template[next...].firstIndex(of: "}"), let n = Int(template[next..<close]), n >= 0, n < arguments.count {
                out += arguments[n]; i = template.index(after: close); continue
            }
            out.append(c); i = next
        }
        return out
    }
}
