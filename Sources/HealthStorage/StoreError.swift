/// Why the database could not do what was asked, in words a nurse or an administrator can act on.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The file was written by a newer SchoolHealth: upgrading is the only safe way on.
    case newerSchema(path: String, unknownMigrations: [String])
    /// The file is not a SQLite database, or it is damaged.
    case notADatabase(path: String, detail: String)
    /// The database (or its folder) cannot be written.
    case readOnly(path: String)
    /// The disk (or the database's size limit) is full; nothing of the current file was kept.
    case diskFull(path: String)
    /// Another program holds the database for longer than the busy timeout.
    case busy(path: String)
    /// Anything else SQLite reported.
    case sqlite(path: String, code: Int32, message: String)
    /// The PostgreSQL server cannot be reached, or refused the login (`path` is the address without a password).
    case unavailable(path: String, detail: String)
    /// Anything else PostgreSQL reported, with its SQLSTATE code.
    case postgres(path: String, sqlState: String, message: String)
    /// What was asked is not yet kept by this backend (e.g. referrals on PostgreSQL): nothing was changed.
    case notOnThisBackend(path: String, what: String)
    /// The audit key file is not there: nothing that must be audited can be done.
    case auditKeyMissing(path: String)
    /// The audit key file is there but is not a key.
    case auditKeyUnreadable(path: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, unknown):
            return "\(path): this database was written by a newer version of SchoolHealth (it has schema steps \(unknown.joined(separator: ", ")) that this version does not know). Use the newer version; nothing was changed."
        case let .notADatabase(path, detail):
            return "\(path): not a SchoolHealth database or the file is damaged (\(detail)). Restore it from a backup or choose another --db path."
        case let .readOnly(path):
            return "\(path): the database is read-only (check the file's and the folder's permissions); nothing was changed."
        case let .diskFull(path):
            return "\(path): the disk is full; the file being imported was rolled back and the database is as it was before it. Free some space and import again."
        case let .busy(path):
            return "\(path): the database is busy (another import or report holds it). Try again in a moment."
        case let .sqlite(path, code, message):
            return "\(path): database error \(code): \(message)"
        case let .unavailable(path, detail):
            return "\(path): the PostgreSQL server cannot be reached or refused the login (\(detail)). Check the address, the user and that the server runs; nothing was changed."
        case let .postgres(path, sqlState, message):
            return "\(path): database error \(sqlState): \(message)"
        case let .notOnThisBackend(path, what):
            return "\(path): \(what) is not yet kept on PostgreSQL (this version keeps screenings and reports there); nothing was changed. Use a SQLite database for it."
        case let .auditKeyMissing(path):
            return "\(path): the audit key file is missing, so nothing that is audited can be done. Restore it from its backup (or set SCHOOLHEALTH_AUDIT_KEY to where it is); a new key cannot verify the old log."
        case let .auditKeyUnreadable(path):
            return "\(path): the audit key file cannot be read or created, or it is not 64 hex digits. Restore it from its backup."
        }
    }
}
