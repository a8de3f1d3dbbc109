import Foundation
import HealthCore
#if canImport(Glibc)
import Glibc
#endif

/// Where an import puts the rows it rejects (and, for fitness, the scores that disagree with ours).
///
/// The import calls `add` for each one, then `seal` inside the file's transaction just before the commit: a
/// sink that cannot make its rows durable throws there and the whole file is rolled back, so rows are never
/// stored while the list of what was rejected is lost. Then `settle(kept:)` says whether the file's outcome
/// stands (committed, or a dry run or strict refusal whose list is wanted) or not (it failed: its rows go).
public protocol RejectionSink: AnyObject {
    func add(_ rejection: Rejection) throws
    func seal() throws
    func settle(kept: Bool)
}

/// Collects rejections in memory (tests, previews, the web's summary).
public final class RejectionList: RejectionSink {
    public private(set) var rejections: [Rejection] = []
    private var mark = 0
    private let limit: Int?
    public private(set) var dropped = 0

    /// Keeps at most `limit` rejections (counting the rest), or all of them.
    public init(limit: Int? = nil) { self.limit = limit }

    public func add(_ rejection: Rejection) throws {
        if let limit, rejections.count >= limit { dropped += 1; return }
        rejections.append(rejection)
    }
    public func seal() throws {}
    public func settle(kept: Bool) {
        if kept { mark = rejections.count } else { rejections.removeLast(rejections.count - mark) }
    }
}

/// A sink that hands each rejection to a closure and keeps nothing itself.
final class ClosureSink: RejectionSink {
    let body: (Rejection) -> Void
    init(_ body: @escaping (Rejection) -> Void) { self.body = body }
    func add(_ rejection: Rejection) throws { body(rejection) }
    func seal() throws {}
    func settle(kept: Bool) {}
}

/// A rejects CSV (UTF-8 with BOM so Excel opens it: file, line, column, value, reason), opened before the first
/// input is imported so that an unwritable path stops the import before anything is stored. Several inputs may
/// share it; rows of an input that is not kept are cut off again. Removed at the end if nothing was written.
public final class RejectsFile: RejectionSink {
    public let path: String
    private var handle: FileHandle?
    private var base: UInt64 = 0
    private var created = false
    public private(set) var written = 0
    private var writtenAtBase = 0

    private let headings: [String]
    private let words: @Sendable (Rejection) -> (column: String, reason: String)

    /// `headings` and `words` say the file in the reader's language (the service layer passes the catalogue's);
    /// by default English, with the column as written in the file.
    public init(path: String, headings: [String] = ["file", "line", "column", "value", "reason"],
                words: @escaping @Sendable (Rejection) -> (column: String, reason: String) = { ($0.column, $0.reason) }) {
        self.path = path
        self.headings = headings
        self.words = words
    }

    /// Opens (creating or emptying) the file, or says why it cannot. Call before each input.
    public func begin() throws {
        if handle == nil {
            let header = Data([0xEF, 0xBB, 0xBF] + Array((headings.map(CSVCell.escape).joined(separator: ",") + "\r\n").utf8))
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            // An older file of that name keeps its mode through O_TRUNC: rejected rows are students' data.
            if fd >= 0 { _ = fchmod(fd, 0o600) }
            guard fd >= 0 else {
                throw IngestError.outputUnwritable(file: path, reason: ReasonText(value: String(cString: strerror(errno))))
            }
            let h = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            do { try h.write(contentsOf: header) } catch {
                throw IngestError.outputUnwritable(file: path, reason: ReasonText(value: error.localizedDescription))
            }
            handle = h
            created = true
        }
        base = (try? handle!.offset()) ?? 0
        writtenAtBase = written
    }

    /// Lines not yet written: one write per 256 KB instead of one per rejected row (a county's file uploaded by one
    /// school rejects most of its rows, inside the import's transaction).
    private var pending: [UInt8] = []
    static let flushBytes = 1 << 18

    public func add(_ r: Rejection) throws {
        guard handle != nil else { throw IngestError.outputUnwritable(file: path, reason: "not opened") }
        let said = words(r)
        let fields = [r.file, String(r.line), said.column, r.value, said.reason].map(CSVCell.escape)
        pending += (fields.joined(separator: ",") + "\r\n").utf8
        written += 1
        if pending.count >= Self.flushBytes { try flush() }
    }

    private func flush() throws {
        guard let handle, !pending.isEmpty else { return }
        do { try handle.write(contentsOf: pending) } catch {
            throw IngestError.outputUnwritable(file: path, reason: ReasonText(value: error.localizedDescription))
        }
        pending.removeAll(keepingCapacity: true)
    }

    public func seal() throws {
        try flush()
        do { try handle?.synchronize() } catch {
            throw IngestError.outputUnwritable(file: path, reason: ReasonText(value: error.localizedDescription))
        }
    }

    public func settle(kept: Bool) {
        if kept {
            try? flush()
            base = (try? handle?.offset()) ?? base
            writtenAtBase = written
        } else {
            pending.removeAll(keepingCapacity: true)
            try? handle?.truncate(atOffset: base)
            written = writtenAtBase
        }
    }

    /// Closes the file (writing what is pending); removes it when no rejection was ever written to it.
    public func close() {
        try? flush()
        try? handle?.close()
        handle = nil
        if created && written == 0 { unlink(path) }
    }
}

/// Refuses an output path that would overwrite the database (or its -wal/-shm) or an input file.
public enum OutputSafety {
    /// `outputs` named by the user (rejects file, report file, ...), checked against `database` and `inputs`.
    public static func check(outputs: [(option: String, path: String)], database: String?, inputs: [String]) throws(IngestError) {
        var protected: [(what: String, path: String)] = inputs.map { ("the input file \($0)", $0) }
        if let database { protected += ["", "-wal", "-shm", "-journal"].map { ("the database (\(database + $0))", database + $0) } }
        for output in outputs {
            for p in protected where same(output.path, p.path) {
                throw .outputIsInput(option: output.option, path: output.path, what: p.what)
            }
        }
    }

    /// Whether two paths name the same file: the same inode when both exist, else the same absolute path.
    static func same(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return absolute(a) == absolute(b)
    }

    static func absolute(_ p: String) -> String {
        let url = URL(fileURLWithPath: p)
        let dir = url.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL.path
        return dir + "/" + url.lastPathComponent
    }
}
