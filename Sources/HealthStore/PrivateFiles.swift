internal import HealthStorage
internal import GRDB
import Foundation
import Crypto

/// Files that hold students' data or the audit key: created readable by their owner only.
enum PrivateFiles {
    /// Creates an empty database file with mode 0600 when there is none (SQLite then gives `-wal` and `-shm`
    /// the same mode); narrows an existing one (and its `-wal`, `-shm`) to its owner. True if it was created.
    static func createDatabaseFile(_ path: String) throws(StoreError) -> Bool {
        guard path != ":memory:" else { return false }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd); return true }
        if errno != EEXIST {
            if errno == EACCES || errno == EROFS { throw .readOnly(path: path) }
            throw .sqlite(path: path, code: 14, message: "cannot create the database file: \(String(cString: strerror(errno))) (does the folder exist and can it be written?)")
        }
        for file in [path, path + "-wal", path + "-shm"] { narrow(file) }
        return false
    }

    /// Takes group and other permissions away from a file this user owns.
    static func narrow(_ file: String) {
        var st = stat()
        guard stat(file, &st) == 0, st.st_uid == getuid(), st.st_mode & 0o077 != 0 else { return }
        _ = chmod(file, st.st_mode & 0o700)
    }
}

/// The audit key: 32 random bytes as hex in a file of its own, mode 0600. Keep it on another volume or
/// account than the database (`$SCHOOLHEALTH_AUDIT_KEY`) and back it up apart from the database backups.
enum AuditKeyFile {
    static func load(_ path: String, createIfMissing: Bool) throws(StoreError) -> SymmetricKey? {
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = unhexBytes(text), bytes.count == 32 else { throw .auditKeyUnreadable(path: path) }
            PrivateFiles.narrow(path)
            return SymmetricKey(data: bytes)
        }
        guard createIfMissing else { return nil }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { raw in raw.map { String(format: "%02x", $0) }.joined() } + "\n"
        // Written whole to a private temporary file, then linked into place: another process sees no key or a
        // whole key, never half of one; if one got there first, its key is used.
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .auditKeyUnreadable(path: path) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        let synced = fsync(fd) == 0
        close(fd)
        defer { unlink(temporary) }
        guard written == text.utf8.count, synced else { throw .auditKeyUnreadable(path: path) }
        if link(temporary, path) != 0 {
            if errno == EEXIST { return try load(path, createIfMissing: false) }
            throw .auditKeyUnreadable(path: path)
        }
        return key
    }

    static func unhexBytes(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while chars.count >= 2 {
            guard let b = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            chars = chars.dropFirst(2)
        }
        return chars.isEmpty ? out : nil
    }
}

/// `store_setting`: whether this is a drill database.
enum Settings {
    static func drill(_ db: Database, markNew: Bool) throws -> Bool {
        if markNew { try db.execute(sql: "INSERT OR REPLACE INTO store_setting (key, value) VALUES ('drill', '1')") }
        return try String.fetchOne(db, sql: "SELECT value FROM store_setting WHERE key = 'drill'") == "1"
    }
}
