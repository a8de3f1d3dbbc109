import Logging
import HealthCore
/// HTML whose interpolated values are escaped unless they are `HTML` themselves: a page cannot carry a student's
/// name, a note or a file's value unescaped by accident, and the compiler checks every page.
///
///     let row: HTML = "<td>\(rejection.value)</td>"   // "<script>" arrives as "&lt;script&gt;"
struct HTML: Sendable, ExpressibleByStringInterpolation {
    var text: String

    init(raw text: String) { self.text = text }
    init(stringLiteral value: String) { text = value }
    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    static let empty = HTML(raw: "")

    struct Interpolation: StringInterpolationProtocol {
        var text = ""
        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity + interpolationCount * 16) }
        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }
        mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ value: Int64) { text += String(value) }
        mutating func appendInterpolation(_ html: HTML) { text += html.text }
        mutating func appendInterpolation(_ list: [HTML]) { for h in list { text += h.text } }
    }

    /// Escapes for text and for quoted attribute values (`HTMLText.escape`).
    static func escape(_ s: String) -> String { HTMLText.escape(s) }
}
