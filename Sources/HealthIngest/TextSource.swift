import HealthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streams a file as UTF-8 chunks: a UTF-8 BOM is dropped, GB18030 is converted with iconv.
///
/// A byte sequence that is not valid GB18030 becomes U+FFFD, so the row that holds it is rejected
/// with its line number instead of the whole file failing.
final class TextSource {
    private let handle: FileHandle
    private let encoding: TextEncoding
    private var converter: iconv_t?
    private var pending: [UInt8] = []
    private var first = true
    private var output: [UInt8]
    /// Bytes of the file consumed so far (for progress).
    private(set) var bytesRead = 0

    init(path: String, encoding: TextEncoding, chunkSize: Int = 1 << 20) throws(IngestError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(file: path, reason: "cannot open") }
        self.handle = handle
        self.encoding = encoding
        output = [UInt8](repeating: 0, count: chunkSize * 2 + 16)
        if encoding == .gb18030 {
            let cd = iconv_open("UTF-8", "GB18030")
            guard let cd, Int(bitPattern: cd) != -1 else { throw .unreadable(file: path, reason: "this system cannot convert GB18030 (iconv)") }
            converter = cd
        }
        self.chunkSize = chunkSize
    }
    private let chunkSize: Int

    deinit {
        if let converter { iconv_close(converter) }
        try? handle.close()
    }

    /// Calls `body` with the next UTF-8 chunk; returns false at the end of the file.
    func next(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        let data = try handle.read(upToCount: chunkSize) ?? Data()
        bytesRead += data.count
        if data.isEmpty {
            // A truncated multi-byte sequence at the very end of a GB18030 file.
            if !pending.isEmpty {
                pending.removeAll()
                try [0xEF, 0xBF, 0xBD].withUnsafeBufferPointer { try body($0) }
            }
            return false
        }
        var bytes = [UInt8](data)
        if first {
            first = false
            if encoding == .utf8BOM, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        }
        guard let converter else {
            try bytes.withUnsafeBufferPointer { try body($0) }
            return true
        }
        if !pending.isEmpty {
            bytes = pending + bytes
            pending.removeAll()
        }
        var produced = 0
        try bytes.withUnsafeMutableBufferPointer { input in
            try output.withUnsafeMutableBufferPointer { out in
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(input.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = input.count
                while inLeft > 0 {
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(out.baseAddress! + produced).assumingMemoryBound(to: CChar.self)
                    var outLeft = out.count - produced
                    let rc = iconv(converter, &inPtr, &inLeft, &outPtr, &outLeft)
                    produced = out.count - outLeft
                    if rc != -1 { break }
                    switch errno {
                    case EILSEQ:
                        // Not GB18030: mark it and step over one byte.
                        if out.count - produced < 3 { try body(UnsafeBufferPointer(rebasing: out[0..<produced])); produced = 0 }
                        out[produced] = 0xEF; out[produced + 1] = 0xBF; out[produced + 2] = 0xBD
                        produced += 3
                        inPtr = inPtr! + 1; inLeft -= 1
                    case EINVAL:
                        // Incomplete sequence at the end of this chunk: keep it for the next one.
                        let start = UnsafeMutableRawPointer(inPtr!).assumingMemoryBound(to: UInt8.self)
                        pending = Array(UnsafeBufferPointer(start: start, count: inLeft))
                        inLeft = 0
                    case E2BIG:
                        try body(UnsafeBufferPointer(rebasing: out[0..<produced]))
                        produced = 0
                    default:
                        inLeft = 0
                    }
                }
                if produced > 0 { try body(UnsafeBufferPointer(rebasing: out[0..<produced])) }
            }
        }
        return true
    }
}

/// Text SchoolHealth writes for other systems (the national upload file) in the encoding they expect.
public enum TextEncoder {
    /// `text` in GB18030 (which holds every Unicode character), or nil when iconv cannot convert.
    ///
    ///     TextEncoder.gb18030("年级编号")   // [0xC4, 0xEA, 0xBC, 0xB6, …]
    public static func gb18030(_ text: String) -> [UInt8]? {
        let cd = iconv_open("GB18030", "UTF-8")
        guard let cd, Int(bitPattern: cd) != -1 else { return nil }
        defer { iconv_close(cd) }
        var input = Array(text.utf8)
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
        let produced: Int? = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = inBuf.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count, outLeft = outBuf.count
                guard iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) != -1, inLeft == 0 else { return nil }
                return outBuf.count - outLeft
            }
        }
        return produced.map { Array(output[0..<$0]) }
    }
}
