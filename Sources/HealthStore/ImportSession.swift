internal import HealthStorage
public import HealthCore
internal import GRDB
import Foundation
internal import CSQLite
import HealthRisk

extension Store {
    /// Imports one file as one transaction: either everything `body` wrote is committed, or nothing is.
    ///
    /// A file whose SHA-256 was imported before is not read again: the outcome says which batch has it.
    /// Rows go to their year's table (see `Partitions`). A year's table that is new or empty is bulk-loaded:
    /// its index is dropped for the load and rebuilt before the commit (~3× faster), and repeated keys are
    /// then found by the rebuild.
    public func importFile(_ header: BatchHeader, now: String,
                           body: (any ScreeningBatchWriter) throws -> ImportDecision) throws -> BatchOutcome {
        defer { reportInputsChanged() }
        do {
            return try queue.inDatabase { db in
                var outcome: BatchOutcome = .rolledBack(batch: 0)
                try db.inTransaction(.immediate) {
                    if let row = try Row.fetchOne(db, sql: "SELECT id, imported_at FROM import_batch WHERE kind = ? AND file_sha256 = ?",
                                                  arguments: [header.kind.rawValue, header.sha256]) {
                        outcome = .alreadyImported(batch: row["id"], importedAt: row["imported_at"])
                        return .rollback
                    }
                    // The kept report counts are carried across a small file (a school's upload); a large one leaves
                    // them to the next report's count. Read before the batch row moves the generation on.
                    let carry = header.fileBytes <= ReportTally.Carry.fileBytesLimit && header.kind != .psych ? try ReportTally.Carry.begin(db) : nil
                    try db.execute(sql: """
                        INSERT INTO import_batch (kind, file_name, file_sha256, file_bytes, encoding, profile, rule_version, imported_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [header.kind.rawValue, header.fileName, header.sha256, header.fileBytes,
                                         header.encoding, header.profile, header.ruleVersion, now])
                    let batch = db.lastInsertedRowID
                    let session = try ImportSession(db: db, table: header.kind.table, batch: batch, path: path, store: self)
                    session.carry = carry
                    let decision = try body(session)
                    try session.close()
                    if decision == .commit, let carry = session.carry { try carry.finish(db) }
                    let c = session.counts
                    try db.execute(sql: "UPDATE import_batch SET rows_read = ?, inserted = ?, updated = ?, unchanged = ?, rejected = ?, layout = ? WHERE id = ?",
                                   arguments: [c.rowsRead, c.inserted, c.updated, c.unchanged, c.rejected, session.layout, batch])
                    if decision == .commit {
                        // Who imported what: the file, its digest and counts (imports are not yet made by accounts:
                        // the operating-system user is recorded).
                        try Ledger.append(db, store: self, at: Int(Date().timeIntervalSince1970), actor: .system("import by \(NSUserName())"),
                                          action: "import", caseID: nil,
                                          detail: "batch \(batch) \(header.kind.rawValue) \(header.fileName) sha256 \(header.sha256.prefix(16)): \(c.inserted) inserted, \(c.updated) updated, \(c.unchanged) unchanged, \(c.rejected) rejected")
                    }
                    outcome = decision == .commit ? .committed(batch: batch) : .rolledBack(batch: batch)
                    return decision == .commit ? .commit : .rollback
                }
                return outcome
            }
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
        // Anything else (e.g. the importer refusing the file) passes through unchanged, after the rollback.
    }
}

/// Writes the records of one file inside its transaction. Obtained from `Store.importFile`.
///
/// The importer fills `values` (the table's columns in order) and calls a `write` method; the row goes to
/// the writer of its year's table.
public final class ImportSession: ScreeningBatchWriter {
    let db: Database
    let table: ScreeningTable
    let batch: Int64
    let path: String
    /// For the audit log (flags raised by rules) and the drill mark.
    let store: Store
    /// The counts recorded with the batch; the importer keeps them up to date.
    public var counts = BatchCounts()
    /// How the file was read (header lines, delimiter, column mapping), as JSON, recorded with the batch.
    public var layout: String?
    /// Where the `write` methods put the row being written: the next free slot of the last writer used
    /// (rows of one year then go to their writer without a copy).
    public private(set) var values: UnsafeMutablePointer<StoreValue>
    /// The row buffer until a writer exists.
    private let scratch: UnsafeMutablePointer<StoreValue>
    private let valueCount: Int
    /// One writer per physical table the file has reached, by year (0 for a table not stored by year).
    private var writers: [Int: TableWriter] = [:]
    private var lastWriter: (year: Int, writer: TableWriter?) = (0, nil)
    private var viewStale = false
    private var closed = false
    /// Finds a student's school from their other records (for exports without a school column).
    var schoolLookup: OpaquePointer?
    /// The report's kept counts, carried across this file (nil: left to the next report's count).
    var carry: ReportTally.Carry?

    init(db: Database, table: ScreeningTable, batch: Int64, path: String, store: Store) throws {
        self.store = store
        self.db = db; self.table = table; self.batch = batch; self.path = path
        valueCount = table.columns.count
        scratch = .allocate(capacity: valueCount)
        scratch.initialize(repeating: .null, count: valueCount)
        values = scratch
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_touched (row_id INTEGER PRIMARY KEY, line INTEGER NOT NULL); DELETE FROM import_touched")
    }

    deinit {
        sqlite3_finalize(schoolLookup)
        scratch.deinitialize(count: valueCount)
        scratch.deallocate()
    }

    func prepare(_ sql: String) throws -> OpaquePointer? { try ImportSession.prepare(db, sql, path: path) }

    static func prepare(_ db: Database, _ sql: String, path: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(db.sqliteConnection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK else { throw failure(db, rc, path: path) }
        return statement
    }

    func failure(_ rc: Int32) -> StoreError { ImportSession.failure(db, rc, path: path) }

    static func failure(_ db: Database, _ rc: Int32, path: String) -> StoreError {
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        switch rc & 0xff {
        case SQLITE_FULL: return .diskFull(path: path)
        case SQLITE_READONLY: return .readOnly(path: path)
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy(path: path)
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .notADatabase(path: path, detail: message)
        default: return .sqlite(path: path, code: rc, message: message)
        }
    }

    /// Inserts, updates (keeping a revision) or leaves alone the row whose key is in `values`.
    public func writeValues(line: Int) throws(StoreError) -> WriteOutcome {
        let year = try year()
        if year != lastWriter.year || lastWriter.writer == nil { lastWriter = (year, try writer(year: year)) }
        let writer = lastWriter.writer!
        if let known = carry?.students, case .text(let student) = values[0], !known.contains(student) {
            do {
                let bulk = Set(writers.values.filter(\.bulk).map(\.physical))
                if try carry?.touch(db, student: student, skipping: bulk) == false { carry = nil }
            } catch {
                throw StoreError(error, path: path)
            }
        }
        if writer.slot != values { for i in 0..<valueCount { writer.slot[i] = values[i] } }
        defer { values = writer.slot }
        return try writer.write(line: line)
    }

    /// The year whose table holds the row in `values` (0 for a table not stored by year).
    private func year() throws(StoreError) -> Int {
        guard let year = table.year(ofRow: values) else {
            throw .sqlite(path: path, code: -1, message: "\(table.name): no four-digit year in \(values[1])")
        }
        return year
    }

    private func writer(year: Int) throws(StoreError) -> TableWriter {
        if let writer = writers[year] { return writer }
        do {
            var physical = table.name
            if table.year != nil {
                physical = Partitions.name(table, year: year)
                if try !db.tableExists(physical) {
                    try Partitions.create(db, table, year: year)
                    viewStale = true
                }
            }
            let writer = try TableWriter(db: db, table: table, physical: physical, batch: batch, path: path,
                                         firstID: table.year == nil ? nil : Partitions.firstID(year: year))
            writers[year] = writer
            return writer
        } catch {
            throw StoreError(error, path: path)
        }
    }

    /// The tables this file bulk-loaded (new or empty when it began), e.g. `["vision_screening_2025"]`.
    public var bulkLoaded: [String] { writers.values.filter(\.bulk).map(\.physical).sorted() }

    /// Ends the load: rebuilds the indexes of the tables that were bulk-loaded. Repeated keys the rebuild
    /// finds are removed (the first occurrence in the file stays) and returned, by line, so the importer can
    /// reject them.
    public func finishLoad() throws(StoreError) -> [LateDuplicate] {
        guard !closed else { return [] }
        closed = true
        var duplicates: [LateDuplicate] = []
        for year in writers.keys.sorted() { duplicates += try writers[year]!.finishLoad() }
        if viewStale {
            do { try Partitions.refreshView(db, table) } catch { throw StoreError(error, path: path) }
            viewStale = false
        }
        return duplicates.sorted { $0.line < $1.line }
    }

    func close() throws {
        if !closed { _ = try finishLoad() }
        closed = true
    }
}

/// Writes rows into one physical table. The insert loop binds raw SQLite statements: this is the path a
/// million-row file takes.
final class TableWriter {
    let db: Database
    let table: ScreeningTable
    let physical: String
    let batch: Int64
    let path: String
    /// True when the table was empty at the start: indexes are rebuilt at the end and no lookups are needed.
    let bulk: Bool

    private var insert: OpaquePointer?
    private var lookup: OpaquePointer?
    private var update: OpaquePointer?
    private var revise: OpaquePointer?
    /// Rows of the table this file left unchanged, by row id, with the line that matched them
    /// (so a later line with the same key is caught as a repeat).
    private var touch: OpaquePointer?
    private var touched: OpaquePointer?
    /// A bulk load inserts `bulkRows` rows per statement (one VALUES list each): SQLite's per-statement
    /// work is then paid once per block instead of once per row.
    static let bulkRows = 32
    private var insertMany: OpaquePointer?
    /// Rows collected for a bulk insert.
    private let pending: UnsafeMutablePointer<StoreValue>
    /// Where the next row is to be put before `write`.
    private(set) var slot: UnsafeMutablePointer<StoreValue>
    private var pendingLines: [Int] = []
    private let valueCount: Int
    private let keyCount: Int
    /// Positions in `values` of the payload columns, in the order the lookup statement returns them.
    private let payloadIndices: [Int]
    private var finished = false

    /// The id the first row of an empty year's table gets (the ones after it follow on).
    private var firstID: Int64?
    private var insertWithID: OpaquePointer?

    init(db: Database, table: ScreeningTable, physical: String, batch: Int64, path: String, firstID: Int64?) throws {
        self.db = db; self.table = table; self.physical = physical; self.batch = batch; self.path = path
        valueCount = table.columns.count
        keyCount = table.keyColumns.count
        payloadIndices = table.columns.indices.filter { table.columns[$0].role == .payload }
        pending = .allocate(capacity: valueCount * TableWriter.bulkRows)
        pending.initialize(repeating: .null, count: valueCount * TableWriter.bulkRows)
        pendingLines.reserveCapacity(TableWriter.bulkRows)
        slot = pending
        bulk = try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM \(physical))") ?? false
        let keyIndex = table.keyIndex(on: physical)
        if bulk { try db.execute(sql: "DROP INDEX IF EXISTS \(keyIndex.name)") }
        let all = table.storedColumns
        let tuple = "(" + all.map { _ in "?" }.joined(separator: ", ") + ")"
        func prepare(_ sql: String) throws -> OpaquePointer? { try ImportSession.prepare(db, sql, path: path) }
        insert = try prepare("INSERT INTO \(physical) (\(all.joined(separator: ", "))) VALUES \(tuple)")
        if bulk, let firstID {
            self.firstID = firstID
            insertWithID = try prepare("INSERT INTO \(physical) (id, \(all.joined(separator: ", "))) VALUES (?, \(tuple.dropFirst())")
        }
        if bulk {
            insertMany = try prepare("INSERT INTO \(physical) (\(all.joined(separator: ", "))) VALUES "
                                     + Array(repeating: tuple, count: TableWriter.bulkRows).joined(separator: ", "))
        }
        let nonKey = all.filter { name in !table.keyColumns.contains { $0.name == name } }
        update = try prepare("UPDATE \(physical) SET \(nonKey.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?")
        let keyWhere = table.keyColumns.map { "\($0.name) = ?" }.joined(separator: " AND ")
        lookup = try prepare("SELECT id, batch_id, source_line, \(table.payloadColumns.map(\.name).joined(separator: ", ")) FROM \(physical) WHERE \(keyWhere)")
        let json = (table.columns.filter { $0.role != .key }.map(\.name) + ["source_line"])
            .map { "'\($0)', \($0)" }.joined(separator: ", ")
        touch = try prepare("INSERT INTO import_touched (row_id, line) VALUES (?, ?)")
        touched = try prepare("SELECT line FROM import_touched WHERE row_id = ?")
        // Revisions name the table as readers know it (the view); row ids are unique across its years.
        revise = try prepare("""
            INSERT INTO revision (table_name, row_id, replaced_by_batch, previous_batch, previous_values)
            SELECT '\(table.name)', id, ?1, batch_id, json_object(\(json)) FROM \(physical) WHERE id = ?2
            """)
    }

    deinit {
        for statement in [insert, insertMany, insertWithID, lookup, update, revise, touch, touched] { sqlite3_finalize(statement) }
        pending.deinitialize(count: valueCount * TableWriter.bulkRows)
        pending.deallocate()
    }

    func failure(_ rc: Int32) -> StoreError { ImportSession.failure(db, rc, path: path) }

    /// Inserts, updates (keeping a revision) or leaves alone the row in `slot`.
    func write(line: Int) throws(StoreError) -> WriteOutcome {
        let values = slot
        if let id = firstID {
            firstID = nil
            try step(insertWithID) { s in
                sqlite3_bind_int64(s, 1, id)
                for i in 0..<valueCount { values[i].bind(to: s, at: Int32(i + 2)) }
                bindBookkeeping(s, from: Int32(valueCount + 2), line: line)
            }
            return .inserted
        }
        if bulk {
            pendingLines.append(line)
            if pendingLines.count == TableWriter.bulkRows { try flush() }
            slot = pending + pendingLines.count * valueCount
            return .inserted
        }
        sqlite3_reset(lookup)
        for i in 0..<keyCount { values[i].bind(to: lookup, at: Int32(i + 1)) }
        let rc = sqlite3_step(lookup)
        if rc == SQLITE_ROW {
            let id = sqlite3_column_int64(lookup, 0)
            let previousBatch = sqlite3_column_int64(lookup, 1)
            let previousLine = Int(sqlite3_column_int64(lookup, 2))
            var same = true
            for (offset, i) in payloadIndices.enumerated() where !values[i].equals(column: Int32(3 + offset), of: lookup) {
                same = false
                break
            }
            sqlite3_reset(lookup)
            if previousBatch == batch { return .duplicateInFile(firstLine: previousLine, identical: same) }
            sqlite3_reset(touched)
            sqlite3_bind_int64(touched, 1, id)
            if sqlite3_step(touched) == SQLITE_ROW {
                let first = Int(sqlite3_column_int64(touched, 0))
                sqlite3_reset(touched)
                return .duplicateInFile(firstLine: first, identical: same)
            }
            sqlite3_reset(touched)
            if same {
                try step(touch) { s in
                    sqlite3_bind_int64(s, 1, id)
                    sqlite3_bind_int64(s, 2, Int64(line))
                }
                return .unchanged
            }
            try step(revise) { s in
                sqlite3_bind_int64(s, 1, batch)
                sqlite3_bind_int64(s, 2, id)
            }
            try step(update) { s in
                var n: Int32 = 1
                for i in keyCount..<valueCount { values[i].bind(to: s, at: n); n += 1 }
                bindBookkeeping(s, from: n, line: line)
                sqlite3_bind_int64(s, n + 2, id)
            }
            return .updated
        }
        sqlite3_reset(lookup)
        guard rc == SQLITE_DONE else { throw failure(rc) }
        try step(insert) { s in
            for i in 0..<valueCount { values[i].bind(to: s, at: Int32(i + 1)) }
            bindBookkeeping(s, from: Int32(valueCount + 1), line: line)
        }
        return .inserted
    }

    /// Inserts the rows a bulk load has collected: a full block in one statement, a partial one row by row.
    private func flush() throws(StoreError) {
        let perRow = Int32(valueCount + 2)
        if pendingLines.count == TableWriter.bulkRows {
            try step(insertMany) { s in
                for (r, line) in pendingLines.enumerated() {
                    let row = pending + r * valueCount
                    let base = Int32(r) * perRow
                    for i in 0..<valueCount { row[i].bind(to: s, at: base + Int32(i + 1)) }
                    bindBookkeeping(s, from: base + Int32(valueCount + 1), line: line)
                }
            }
        } else {
            for (r, line) in pendingLines.enumerated() {
                let row = pending + r * valueCount
                try step(insert) { s in
                    for i in 0..<valueCount { row[i].bind(to: s, at: Int32(i + 1)) }
                    bindBookkeeping(s, from: Int32(valueCount + 1), line: line)
                }
            }
        }
        pendingLines.removeAll(keepingCapacity: true)
    }

    private func bindBookkeeping(_ s: OpaquePointer?, from n: Int32, line: Int) {
        sqlite3_bind_int64(s, n, batch)
        sqlite3_bind_int64(s, n + 1, Int64(line))
    }

    private func step(_ statement: OpaquePointer?, bind: (OpaquePointer?) -> Void) throws(StoreError) {
        sqlite3_reset(statement)
        bind(statement)
        let rc = sqlite3_step(statement)
        guard rc == SQLITE_DONE else {
            sqlite3_reset(statement)
            throw failure(rc)
        }
    }

    /// Ends a bulk load: rebuilds the key index. Repeated keys the rebuild finds are removed (the first
    /// occurrence in the file stays) and returned.
    func finishLoad() throws(StoreError) -> [LateDuplicate] {
        guard bulk, !finished else { return [] }
        try flush()
        finished = true
        var duplicates: [LateDuplicate] = []
        do {
            let index = table.keyIndex(on: physical)
            // SQLite's sorter may use a second thread for the rebuild (~1/3 faster on two cores).
            try db.execute(sql: "PRAGMA threads = 1")
            defer { try? db.execute(sql: "PRAGMA threads = 0") }
            func removeRepeats() throws {
                let key = table.keyColumns.map(\.name).joined(separator: ", ")
                let same = table.payloadColumns.map { "a.\($0.name) IS b.\($0.name)" }.joined(separator: " AND ")
                let rows = try Row.fetchAll(db, sql: """
                    WITH d AS (
                        SELECT id, source_line,
                               first_value(id) OVER w AS first_id, first_value(source_line) OVER w AS first_line,
                               row_number() OVER w AS rn
                        FROM \(physical)
                        WINDOW w AS (PARTITION BY \(key) ORDER BY source_line))
                    SELECT d.id, d.source_line, d.first_line, (\(same)) AS same
                    FROM d JOIN \(physical) a ON a.id = d.id JOIN \(physical) b ON b.id = d.first_id
                    WHERE d.rn > 1 ORDER BY d.source_line
                    """)
                for row in rows {
                    try db.execute(sql: "DELETE FROM \(physical) WHERE id = ?", arguments: [row["id"] as Int64])
                    duplicates.append(LateDuplicate(line: row["source_line"], firstLine: row["first_line"], identical: row["same"]))
                }
            }
            if index.unique {
                do {
                    try db.execute(sql: index.createSQL)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    try removeRepeats()
                    try db.execute(sql: index.createSQL)
                }
            } else {
                // The covering index holds more than the key: repeated keys are looked for along it (in order).
                try db.execute(sql: index.createSQL)
                let key = table.keyColumns.map(\.name).joined(separator: ", ")
                let repeated = try Bool.fetchOne(db, sql: """
                    SELECT EXISTS (SELECT 1 FROM \(physical) INDEXED BY \(index.name) GROUP BY \(key) HAVING count(*) > 1)
                    """) ?? false
                if repeated { try removeRepeats() }
            }
        } catch {
            throw StoreError(error, path: path)
        }
        return duplicates
    }
}

extension StoreValue {
    func bind(to statement: OpaquePointer?, at index: Int32) {
        switch self {
        case .null: sqlite3_bind_null(statement, index)
        case .int(let v): sqlite3_bind_int64(statement, index, v)
        case .real(let v): sqlite3_bind_double(statement, index, v)
        case .text(let s):
            let done = s.utf8.withContiguousStorageIfAvailable { buffer in
                sqlite3_bind_text(statement, index, UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                  Int32(buffer.count), sqliteTransient)
            }
            if done == nil { _ = sqlite3_bind_text(statement, index, s, -1, sqliteTransient) }
        }
    }

    /// Whether the current row's `column` holds this value.
    func equals(column: Int32, of statement: OpaquePointer?) -> Bool {
        let type = sqlite3_column_type(statement, column)
        switch self {
        case .null: return type == SQLITE_NULL
        case .int(let v): return type == SQLITE_INTEGER && sqlite3_column_int64(statement, column) == v
        case .real(let v): return (type == SQLITE_FLOAT || type == SQLITE_INTEGER) && sqlite3_column_double(statement, column) == v
        case .text(let s):
            guard type == SQLITE_TEXT, let p = sqlite3_column_text(statement, column) else { return false }
            let n = Int(sqlite3_column_bytes(statement, column))
            return s.utf8.elementsEqual(UnsafeBufferPointer(start: p, count: n))
        }
    }
}

private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
