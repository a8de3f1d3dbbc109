import HealthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An input as the importer reads it: a regular file read where it is, or a pipe (`/dev/stdin`, `<(zcat …)`)
/// copied once into a private temporary file, since an import reads its input twice (the SHA-256, then the rows).
/// A folder, a terminal or a device is refused with its own message instead of hanging or failing obscurely.
struct InputFile {
    /// The path to read.
    let path: String
    private let spooled: Bool

    init(_ given: String) throws(IngestError) {
        var st = stat()
        guard stat(given, &st) == 0 else {
            throw .unreadable(file: given, reason: errno == ENOENT ? "no such file" : ReasonText(value: String(cString: strerror(errno))))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            path = given
            spooled = false
        case S_IFDIR:
            throw .notAFile(file: given, reason: "is a folder, not a file: name the CSV files in it (e.g. \(given)/*.csv)")
        case S_IFIFO, S_IFCHR:
            path = try Self.spool(given)
            spooled = true
        default:
            throw .notAFile(file: given, reason: "is not a regular file or a pipe")
        }
    }

    /// Removes the temporary copy of a pipe.
    func remove() { if spooled { unlink(path) } }

    /// Copies a pipe into a temporary file. Opening does not wait for a writer; a terminal is refused.
    private static func spool(_ given: String) throws(IngestError) -> String {
        let fd = open(given, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(file: given, reason: ReasonText(value: String(cString: strerror(errno)))) }
        defer { close(fd) }
        if isatty(fd) == 1 {
            throw .notAFile(file: given, reason: "is a terminal: pipe a file into it (schoolhealth import vision /dev/stdin < export.csv) or name the file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var template = Array((NSTemporaryDirectory() + "/schoolhealth-input-XXXXXX").utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard out >= 0 else { throw .unreadable(file: given, reason: "cannot create a temporary copy: \(String(cString: strerror(errno)))") }
        let copy = String(cString: template)
        defer { close(out) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                unlink(copy)
                throw .unreadable(file: given, reason: ReasonText(value: String(cString: strerror(errno))))
            }
            let w = buffer.withUnsafeBytes { write(out, $0.baseAddress, n) }
            if w != n { unlink(copy); throw .unreadable(file: given, reason: "cannot write a temporary copy (is the disk full?)") }
        }
        return copy
    }
}
