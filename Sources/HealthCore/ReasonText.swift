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
        // Bytes, not characters: a brace is one ASCII byte, and a reason is escaped for every rejected row.
        guard text.utf8.contains(where: { $0 == 0x7B || $0 == 0x7D }) else { return text }
        var out = ""
        for c in text { out.append(c); if c == "{" || c == "}" { out.append(c) } }
        return out
    }

    /// The English text.
    public var text: String { Self.fill(template, arguments.map(\.text)) }
    public var description: String { text }

    /// `template` with `{n}` replaced by `arguments[n]` (and `{{`/`}}` by single braces). Read as UTF-8 bytes
    /// (a brace or a digit is one ASCII byte, never part of another character's bytes): it runs for every rejected row.
    public static func fill(_ template: String, _ arguments: [String]) -> String {
        let open: UInt8 = 0x7B, close: UInt8 = 0x7D
        guard template.utf8.contains(where: { $0 == open || $0 == close }) else { return template }
        let bytes = Array(template.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 32)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == open || c == close, i + 1 < bytes.count, bytes[i + 1] == c {
                out.append(c); i += 2; continue
            }
            if c == open {
                var j = i + 1, n = 0
                while j < bytes.count, j - i <= 9, (0x30...0x39).contains(bytes[j]) { n = n * 10 + Int(bytes[j] - 0x30); j += 1 }
                if j > i + 1, j < bytes.count, bytes[j] == close, n < arguments.count {
                    out += arguments[n].utf8; i = j + 1; continue
                }
            }
            out.append(c); i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
