import Foundation
import Testing
@testable import HealthIngest

/// Reads `text` with the CSV reader, fed in chunks of `chunk` bytes; returns (line, fields) per record.
func readCSV(_ text: String, chunk: Int = 3) throws -> [(Int, [String])] {
    let reader = CSVReader()
    var out: [(Int, [String])] = []
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        let end = min(bytes.count, i + chunk)
        try bytes[i..<end].withUnsafeBufferPointer { b in
            try reader.parse(b) { r in out.append((r.line, (0..<r.count).map { r.string($0) })) }
        }
        i = end
    }
    try reader.finish { r in out.append((r.line, (0..<r.count).map { r.string($0) })) }
    return out
}

@Suite("CSV reader (libcsv, strict) and physical line numbers")
struct CSVReaderTests {
    @Test("LF, CRLF and a lone CR each end a line", arguments: ["\n", "\r\n", "\r"])
    func lineEndings(eol: String) throws {
        let rows = try readCSV("a,b\(eol)1,2\(eol)3,4\(eol)")
        #expect(rows.map(\.0) == [1, 2, 3])
        #expect(rows[2].1 == ["3", "4"])
    }

    @Test("Quoted fields keep commas, quotes and newlines; line numbers count the embedded lines")
    func quoted() throws {
        let rows = try readCSV("h1,h2\n\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\n\"three\r\nline\r\nfield\",y\nlast,z")
        #expect(rows.map(\.0) == [1, 2, 3, 5, 8])
        #expect(rows[1].1 == ["a,b", "say \"hi\""])
        #expect(rows[2].1 == ["two\nlines", "x"])
        #expect(rows[4].1 == ["last", "z"])
    }

    @Test("Blank lines are skipped but counted")
    func blankLines() throws {
        let rows = try readCSV("a\n\n\nb\r\n\r\nc")
        #expect(rows.map(\.0) == [1, 4, 6])
    }

    @Test("An unterminated quote is reported with the line it starts on")
    func unterminated() {
        do {
            _ = try readCSV("a,b\n1,2\n3,\"open\n4,5\n")
            Issue.record("expected an error")
        } catch let error as CSVStructureError {
            #expect(error.line == 3)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("A stray quote inside an unquoted field is a structure error")
    func strayQuote() {
        #expect(throws: CSVStructureError.self) { try readCSV("a,b\n1,\"x\"y\n") }
    }

    @Test("Any chunking gives the same records", arguments: [1, 2, 7, 64, 4096])
    func chunking(size: Int) throws {
        let text = "id,v\n\"0012\",\"a\nb\"\r\n0013,c\n"
        let rows = try readCSV(text, chunk: size)
        #expect(rows.map(\.0) == [1, 2, 4])
        #expect(rows[1].1 == ["0012", "a\nb"])
    }
}
