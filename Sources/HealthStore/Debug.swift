internal import HealthStorage
internal import GRDB

extension Store {
    /// Every row of `sql` as text, for tests and diagnostics (`nil` for NULL).
    public func debugRows(_ sql: String) throws(StoreError) -> [[String?]] {
        try run { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { v -> String? in
                    switch v.storage {
                    case .null: return nil
                    case .int64(let i): return String(i)
                    case .double(let d): return String(d)
                    case .string(let s): return s
                    case .blob(let b): return "<\(b.count) bytes>"
                    }
                }
            }
        }
    }

    /// Runs `sql` as someone holding the file would (no audit, triggers as they are): for tests that play the
    /// attacker. Not for the product's own writes.
    package func debugExecute(_ sql: String) throws(StoreError) {
        do { try queue.writeWithoutTransaction { db in try db.execute(sql: sql) } } catch { throw StoreError(error, path: path) }
    }
}
