import Testing
import HealthCore

@Suite("Text from the database, made safe for a terminal")
struct PrintableTextTests {
    @Test("Line breaks, escape codes and bidirectional overrides become visible; Chinese and ordinary text stay")
    func escapes() {
        #expect(PrintableText.escape("王芳 说：ok") == "王芳 说：ok")
        #expect(PrintableText.escape("ok\n2024-10-08 forged line") == "ok\\n2024-10-08 forged line")
        #expect(PrintableText.escape("\u{1B}[2Jcleared") == "\\u{1B}[2Jcleared")
        #expect(PrintableText.escape("abc\u{202E}fed") == "abc\\u{202E}fed")
        #expect(PrintableText.escape("a\\nb") == "a\\\\nb", "a literal backslash cannot fake an escape")
        #expect(!PrintableText.escape("x\r\ty\u{7F}\u{85}").unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }
}
