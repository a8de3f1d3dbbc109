internal import CLibCSV
#if canImport(Glibc)
import Glibc
#endif

/// One CSV record as libcsv delivered it, valid only during the call that receives it.
struct CSVRecord {
    /// The physical line of the source file on which the record starts (1-based).
    let line: Int
    fileprivate let bytes: UnsafeBufferPointer<UInt8>
    fileprivate let ends: UnsafeBufferPointer<Int>

    var count: Int { ends.count }

    /// The bytes of field `i` (UTF-8), surrounding spaces of unquoted fields already trimmed by libcsv.
    func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = i == 0 ? 0 : ends[i - 1]
        return UnsafeBufferPointer(rebasing: bytes[start..<ends[i]])
    }

    func string(_ i: Int) -> String { String(decoding: field(i), as: UTF8.self) }

    /// True when every field is empty (e.g. the ",,,,," rows Excel leaves at the end).
    var isBlank: Bool { ends.last.map { $0 == 0 } ?? true }
}

/// A record copied out of the reader, to be read again later (the rows kept while the header is found).
struct OwnedCSVRecord {
    let line: Int
    private let bytes: [UInt8]
    private let ends: [Int]

    init(_ record: CSVRecord) {
        line = record.line
        bytes = Array(record.bytes)
        ends = Array(record.ends)
    }

    var cells: [String] { (0..<ends.count).map { i in String(decoding: bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]], as: UTF8.self) } }

    func withRecord<T>(_ body: (CSVRecord) throws -> T) rethrows -> T {
        try bytes.withUnsafeBufferPointer { b in
            try ends.withUnsafeBufferPointer { e in try body(CSVRecord(line: line, bytes: b, ends: e)) }
        }
    }
}

/// A streaming RFC 4180 reader over libcsv in strict mode, which also counts physical lines
/// (quoted fields may hold newlines; CRLF, LF and a lone CR all end a line).
///
///     let reader = CSVReader()
///     try reader.parse(chunk) { record in print(record.line, record.count) }
///     try reader.finish { record in … }
final class CSVReader {
    private let parser: UnsafeMutablePointer<csv_parser>
    /// The current record's field bytes and field end offsets. Plain buffers, grown by doubling:
    /// this is the innermost loop of every import.
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCount = 0
    private var byteCapacity = 1 << 12
    private var ends: UnsafeMutablePointer<Int>
    private var endCount = 0
    private var endCapacity = 64
    private var line = 1
    private var embeddedLines = 0
    private var lastTerminatorWasCR = false
    private var lastFieldEndedWithCR = false
    private var handler: ((CSVRecord) throws -> Void)?
    private var failure: (any Error)?
    /// The line on which the record being read started.
    var currentLine: Int { line }

    /// `delimiter`: `,` (the default), `;` or a tab (see `Delimiter.sniff`).
    init(delimiter: UInt8 = UInt8(ascii: ",")) {
        parser = .allocate(capacity: 1)
        csv_init(parser, UInt8(CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL))
        if delimiter != UInt8(ascii: ",") { csv_set_delim(parser, delimiter) }
        bytes = .allocate(capacity: byteCapacity)
        ends = .allocate(capacity: endCapacity)
    }

    deinit {
        csv_free(parser)
        parser.deallocate()
        bytes.deallocate()
        ends.deallocate()
    }

    /// Feeds a chunk; `handler` gets each complete record. Throws `CSVStructureError` on broken quoting.
    func parse(_ chunk: UnsafeBufferPointer<UInt8>, handler: (CSVRecord) throws -> Void) throws {
        try withoutActuallyEscaping(handler) { handler in try parseEscaping(chunk, handler: handler) }
    }

    private func parseEscaping(_ chunk: UnsafeBufferPointer<UInt8>, handler: @escaping (CSVRecord) throws -> Void) throws {
        self.handler = handler
        defer { self.handler = nil }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let consumed = csv_parse(parser, chunk.baseAddress, chunk.count, fieldCallback, recordCallback, context)
        if let failure { throw failure }
        if consumed != chunk.count {
            throw CSVStructureError(line: line + embeddedLines, detail: String(cString: csv_strerror(csv_error(parser))))
        }
    }

    /// Ends the input: delivers a last record without a trailing newline, or reports an unterminated quote.
    func finish(handler: (CSVRecord) throws -> Void) throws {
        try withoutActuallyEscaping(handler) { handler in try finishEscaping(handler: handler) }
    }

    private func finishEscaping(handler: @escaping (CSVRecord) throws -> Void) throws {
        self.handler = handler
        defer { self.handler = nil }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let rc = csv_fini(parser, fieldCallback, recordCallback, context)
        if let failure { throw failure }
        if rc != 0 {
            throw CSVStructureError(line: line, detail: "a quoted field starting on this line is never closed")
        }
    }

    fileprivate func appendField(_ pointer: UnsafeRawPointer?, _ count: Int) {
        if let pointer, count > 0 {
            if byteCount + count > byteCapacity {
                while byteCount + count > byteCapacity { byteCapacity *= 2 }
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: byteCapacity)
                grown.update(from: bytes, count: byteCount)
                bytes.deallocate()
                bytes = grown
            }
            (bytes + byteCount).update(from: pointer.assumingMemoryBound(to: UInt8.self), count: count)
            // Newlines inside a quoted field are physical lines too: count LF and lone CR.
            if memchr(pointer, 0x0A, count) != nil || memchr(pointer, 0x0D, count) != nil {
                var previousCR = false
                for i in byteCount..<(byteCount + count) {
                    let b = bytes[i]
                    if b == 0x0A { if !previousCR { embeddedLines += 1 } } else if b == 0x0D { embeddedLines += 1 }
                    previousCR = b == 0x0D
                }
            }
            byteCount += count
        }
        if endCount == endCapacity {
            endCapacity *= 2
            let grown = UnsafeMutablePointer<Int>.allocate(capacity: endCapacity)
            grown.update(from: ends, count: endCount)
            ends.deallocate()
            ends = grown
        }
        ends[endCount] = byteCount
        endCount += 1
    }

    fileprivate func endRecord(_ terminator: Int32) {
        defer {
            byteCount = 0
            endCount = 0
            lastTerminatorWasCR = terminator == 0x0D
        }
        if endCount == 0 {
            // An empty line, or the LF of a CRLF whose CR already ended the record.
            if !(terminator == 0x0A && lastTerminatorWasCR) && terminator != -1 { line += 1 }
            return
        }
        guard failure == nil, let handler else { return }
        let start = line
        line += 1 + embeddedLines
        embeddedLines = 0
        let record = CSVRecord(line: start, bytes: UnsafeBufferPointer(start: bytes, count: byteCount),
                               ends: UnsafeBufferPointer(start: ends, count: endCount))
        do { try handler(record) } catch { failure = error }
    }
}

/// The field delimiter of a file: comma, semicolon (Excel in locales with a decimal comma) or tab.
enum Delimiter {
    /// The delimiter of the text starting with `head`: the candidate found the same number of times (at least
    /// once) outside quotes on the most of the first lines, then the most often. A comma when in doubt.
    static func sniff(_ head: UnsafeBufferPointer<UInt8>) -> UInt8 {
        let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09]
        var counts = Array(repeating: [Int](), count: candidates.count)
        var current = Array(repeating: 0, count: candidates.count)
        var inQuotes = false, lines = 0, i = 0
        while i < head.count, lines < 20 {
            let b = head[i]
            if b == UInt8(ascii: "\"") { inQuotes.toggle() }
            else if !inQuotes, b == 0x0A || b == 0x0D {
                if current.contains(where: { $0 > 0 }) { for k in candidates.indices { counts[k].append(current[k]) } ; lines += 1 }
                current = Array(repeating: 0, count: candidates.count)
            } else if !inQuotes, let k = candidates.firstIndex(of: b) { current[k] += 1 }
            i += 1
        }
        if current.contains(where: { $0 > 0 }) { for k in candidates.indices { counts[k].append(current[k]) } }
        var best = 0, bestScore = (0, 0)
        for k in candidates.indices {
            let nonzero = counts[k].filter { $0 > 0 }
            guard let mode = Dictionary(grouping: nonzero, by: { $0 }).max(by: { ($0.value.count, $0.key) < ($1.value.count, $1.key) }) else { continue }
            let score = (mode.value.count, mode.key)
            if score > bestScore { bestScore = score; best = k }
        }
        return candidates[best]
    }

    static func name(_ b: UInt8) -> String { b == 0x09 ? "tab" : String(UnicodeScalar(b)) }
}

/// The CSV structure itself is broken (an unclosed or stray quote in strict mode).
struct CSVStructureError: Error {
    let line: Int
    let detail: String
}

private func fieldCallback(_ data: UnsafeMutableRawPointer?, _ count: Int, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<CSVReader>.fromOpaque(context!).takeUnretainedValue().appendField(UnsafeRawPointer(data), count)
}

private func recordCallback(_ terminator: Int32, _ context: UnsafeMutableRawPointer?) {
    Unmanaged<CSVReader>.fromOpaque(context!).takeUnretainedValue().endRecord(terminator)
}
