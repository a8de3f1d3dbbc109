/// Text from the database made safe for a terminal or a log line: control characters (newlines, escape codes,
/// bidirectional overrides) become visible escapes, so that a note cannot forge lines or recolour a screen.
///
///     PrintableText.escape("ok\n2024-10-08 forged line\u{1B}[2J")   // "ok\\n2024-10-08 forged line\\u{1B}[2J"
public enum PrintableText {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x5C: out += "\\\\"
            case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029:
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Text made safe inside HTML: for element text and for double- or single-quoted attribute values. Control
/// characters other than tab and line ends, and bidirectional overrides, are shown as U+FFFD.
///
///     HTMLText.escape("<b>\"G1\"</b>")   // "&lt;b&gt;&quot;G1&quot;&lt;/b&gt;"
public enum HTMLText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(ch)
            default:
                if ch.value < 0x20 || ch.value == 0x7F || (0x80..<0xA0).contains(ch.value) || (0x202A...0x202E).contains(ch.value) || (0x2066...0x2069).contains(ch.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out
    }
}
