public import HealthIngest
public import Foundation

/// A file being uploaded, written to a private spool folder chunk by chunk and inspected on the way (SHA-256,
/// encoding, not a workbook): a 100 MB upload is never held whole in memory and is read from the network once.
///
///     var spool = try UploadSpool(directory: dir, fileName: "视力.csv", limit: 200 << 20)
///     for try await chunk in body { try spool.append(chunk) }
///     let upload = try spool.finish()
public struct UploadSpool: Sendable {
    public let id: String
    public let path: String
    public let fileName: String
    public let limit: Int
    private var builder: FileInspectionBuilder
    private let fd: Int32
    private var isOpen = true
    public private(set) var bytes = 0

    public init(directory: String, fileName: String, limit: Int) throws(ServiceError) {
        self.id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        self.path = directory + "/" + id + ".upload"
        // The name is the uploader's: keep its last component, without control characters.
        let base = (fileName as NSString).lastPathComponent.filter { !$0.isASCII || !($0.asciiValue! < 32 || $0.asciiValue! == 127) }
        self.fileName = base.isEmpty ? "upload.csv" : String(base.prefix(200))
        self.limit = limit
        self.builder = FileInspectionBuilder(displayName: self.fileName)
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServiceError(.unavailable, key: "error.database", message: "\(path): cannot create the spool file: \(String(cString: strerror(errno)))") }
    }

    public mutating func append(_ chunk: some DataProtocol) throws(ServiceError) {
        bytes += chunk.count
        guard bytes <= limit else {
            discard()
            throw ServiceError(.tooLarge, key: "error.tooLarge", ["limit": "\(limit >> 20) MB"], message: "the upload is larger than \(limit >> 20) MB")
        }
        let data = Data(chunk)
        do { try builder.feed(data) } catch { discard(); throw ServiceError(error) }
        let written = data.withUnsafeBytes { raw -> Int in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { return -1 }
                done += n
            }
            return done
        }
        guard written == data.count else { discard(); throw ServiceError(.unavailable, key: "error.database", message: "\(path): cannot write the upload (disk full?)") }
    }

    /// The spooled file, inspected. The caller removes it (`SpooledUpload.remove`).
    public mutating func finish() throws(ServiceError) -> SpooledUpload {
        isOpen = false
        close(fd)
        do {
            return SpooledUpload(id: id, path: path, fileName: fileName, inspection: try builder.finish())
        } catch {
            unlink(path)
            throw ServiceError(error)
        }
    }

    /// Stops and removes the partial file (an aborted or refused upload).
    public mutating func discard() {
        if isOpen { close(fd) }
        isOpen = false
        unlink(path)
    }
}

/// An upload on disk, ready to import.
public struct SpooledUpload: Sendable {
    public let id: String
    public let path: String
    public let fileName: String
    public let inspection: FileInspection
    public func remove() { unlink(path) }
}
