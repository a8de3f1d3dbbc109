import HealthCore
public import Foundation
import Crypto

/// The text encodings SchoolHealth reads. Detected, never asked for.
public enum TextEncoding: String, Sendable, Codable {
    case utf8 = "UTF-8"
    case utf8BOM = "UTF-8 with BOM"
    case gb18030 = "GB18030"
}

/// What a first pass over a file found: its identity (SHA-256), size and encoding.
public struct FileInspection: Sendable {
    public var sha256: String
    public var bytes: Int
    public var encoding: TextEncoding
}

/// Reads a file once, in chunks: hashes it, refuses what is not a CSV text file, and detects the encoding
/// (a UTF-8 BOM; otherwise valid UTF-8 throughout; otherwise GB18030, which Excel writes on Chinese Windows).
enum FileInspector {
    static let chunkSize = 1 << 20

    static func inspect(path: String, displayName: String) throws(IngestError) -> FileInspection {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadable(file: displayName, reason: exists ? "permission denied or locked" : "no such file")
        }
        defer { try? handle.close() }
        var builder = FileInspectionBuilder(displayName: displayName)
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: chunkSize) ?? Data() } catch {
                throw .unreadable(file: displayName, reason: ReasonText(value: error.localizedDescription))
            }
            if chunk.isEmpty { break }
            try builder.feed(chunk)
        }
        return try builder.finish()
    }

    static func refuseNonText(_ head: Data, file: String) throws(IngestError) {
        let b = [UInt8](head.prefix(4096))
        if b.starts(with: [0x50, 0x4B, 0x03, 0x04]) || b.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw .spreadsheetWorkbook(file: file)
        }
        if b.starts(with: [0xFF, 0xFE]) || b.starts(with: [0xFE, 0xFF]) { throw .utf16(file: file) }
        let nuls = b.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        if b.count >= 4, nuls * 4 >= b.count {
            // Every other byte NUL: UTF-16 without a BOM.
            let evenNUL = stride(from: 0, to: b.count, by: 2).allSatisfy { b[$0] == 0 }
            let oddNUL = stride(from: 1, to: b.count, by: 2).allSatisfy { b[$0] == 0 }
            throw (evenNUL || oddNUL) ? .utf16(file: file) : .binary(file: file)
        }
    }
}

/// The first pass, fed chunk by chunk: a web upload is inspected while it is written to disk, so the file is
/// read from the network once and hashed there (`ImportOptions.inspection`), not read again.
///
///     var builder = FileInspectionBuilder(displayName: "vision.csv")
///     for chunk in chunks { try builder.feed(chunk) }
///     let inspection = try builder.finish()
public struct FileInspectionBuilder: Sendable {
    let displayName: String
    private var hasher = SHA256()
    private var total = 0
    private var validator = UTF8Validator()
    private var head = Data()
    private var bom = false
    private var checked = false

    public init(displayName: String) { self.displayName = displayName }

    public mutating func feed(_ chunk: Data) throws(IngestError) {
        hasher.update(data: chunk)
        if total == 0, !chunk.isEmpty {
            bom = chunk.count >= 3 && chunk[chunk.startIndex] == 0xEF && chunk[chunk.startIndex + 1] == 0xBB && chunk[chunk.startIndex + 2] == 0xBF
        }
        total += chunk.count
        chunk.withUnsafeBytes { raw in validator.feed(raw.bindMemory(to: UInt8.self)) }
        if !checked {
            head.append(chunk.prefix(4096 - head.count))
            if head.count >= 4096 { try check() }
        }
    }

    private mutating func check() throws(IngestError) {
        checked = true
        try FileInspector.refuseNonText(head, file: displayName)
        head = Data()
    }

    public mutating func finish() throws(IngestError) -> FileInspection {
        if !checked, !head.isEmpty { try check() }
        if total == 0 { throw .empty(file: displayName) }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let encoding: TextEncoding = bom ? .utf8BOM : (validator.finish() ? .utf8 : .gb18030)
        return FileInspection(sha256: digest, bytes: total, encoding: encoding)
    }
}


/// Incremental UTF-8 validation across chunk boundaries.
struct UTF8Validator {
    private var carry: [UInt8] = []
    private(set) var valid = true

    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard valid else { return }
        var i = 0
        let n = bytes.count
        if !carry.isEmpty {
            // Complete the sequence left over from the previous chunk.
            let need = UTF8Validator.length(carry[0]) - carry.count
            let take = min(need, n)
            carry.append(contentsOf: bytes[0..<take])
            i = take
            if carry.count < UTF8Validator.length(carry[0]) { return }
            if !UTF8Validator.check(carry) { valid = false; return }
            carry.removeAll(keepingCapacity: true)
        }
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let len = UTF8Validator.length(b)
            if len == 0 { valid = false; return }
            if i + len > n {
                carry.append(contentsOf: bytes[i..<n])
                return
            }
            if !UTF8Validator.check(bytes, at: i, length: len) { valid = false; return }
            i += len
        }
    }

    mutating func finish() -> Bool { valid && carry.isEmpty }

    static func length(_ lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    static func check(_ s: [UInt8]) -> Bool { s.withUnsafeBufferPointer { check($0, at: 0, length: s.count) } }

    static func check(_ b: UnsafeBufferPointer<UInt8>, at i: Int, length: Int) -> Bool {
        let lead = b[i]
        for k in 1..<length where b[i + k] & 0xC0 != 0x80 { return false }
        if length == 3 {
            let c1 = b[i + 1]
            if lead == 0xE0 && c1 < 0xA0 { return false }      // overlong
            if lead == 0xED && c1 >= 0xA0 { return false }     // surrogates
        } else if length == 4 {
            let c1 = b[i + 1]
            if lead == 0xF0 && c1 < 0x90 { return false }
            if lead == 0xF4 && c1 >= 0x90 { return false }
        }
        return true
    }
}
