import HealthCore
import HealthRisk
public import HealthStorage
import PostgresNIO
import Foundation
import Synchronization

extension PostgresStore {
    /// Imports one file as one transaction on a connection of its own. The rows are streamed into a temporary
    /// staging table with `COPY`, then merged in a few set-wise statements when the load ends: repeats within the
    /// file, changed rows (their previous values kept as revisions), unchanged rows and new rows — the same outcomes
    /// the SQLite store gives row by row.
    public func importFile(_ header: BatchHeader, now: String, body: (any ScreeningBatchWriter) throws -> ImportDecision) throws -> BatchOutcome {
        if header.kind == .psych { throw PostgresBatchWriter.psychRefused(location) }
        defer { counted.withLock { $0.removeAll() } }
        let logger = self.logger
        let connection: PostgresConnection
        do { connection = try Blocking.run { [self] in try await connect(address) } } catch { throw storeError(error) }
        defer { _ = try? Blocking.run { try await connection.close() } }
        func run(_ query: PostgresQuery) throws {
            do { try Blocking.run { _ = try await connection.query(query, logger: logger) } } catch { throw storeError(error) }
        }
        /// The batch that holds a file with this digest, if one was committed.
        func existing() throws -> BatchOutcome? {
            do {
                return try Blocking.run {
                    let rows = try await connection.query("SELECT id, imported_at FROM import_batch WHERE kind = \(header.kind.rawValue) AND file_sha256 = \(header.sha256)",
                                                          logger: logger)
                    for try await (id, at) in rows.decode((Int64, String).self) { return BatchOutcome.alreadyImported(batch: id, importedAt: at) }
                    return nil
                }
            } catch { throw storeError(error) }
        }

        try run("BEGIN")
        do {
            if let known = try existing() {
                try run("ROLLBACK")
                return known
            }
            let batch: Int64
            do {
                batch = try Blocking.run {
                    let rows = try await connection.query("""
                        INSERT INTO import_batch (kind, file_name, file_sha256, file_bytes, encoding, profile, rule_version, imported_at)
                        VALUES (\(header.kind.rawValue), \(header.fileName), \(header.sha256), \(header.fileBytes), \(header.encoding),
                                \(header.profile), \(header.ruleVersion), \(now))
                        RETURNING id
                        """, logger: logger)
                    for try await id in rows.decode(Int64.self) { return id }
                    throw StoreError.postgres(path: "", sqlState: "", message: "no batch id returned")
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                // The same file committed by another importer meanwhile.
                try run("ROLLBACK")
                if let known = try existing() { return known }
                throw storeError(error)
            }
            let writer = try PostgresBatchWriter(store: self, connection: connection, table: header.kind.table, batch: batch)
            let decision = try body(writer)
            _ = try writer.finishLoad()
            let c = writer.counts
            try run("""
                UPDATE import_batch SET rows_read = \(c.rowsRead), inserted = \(c.inserted), updated = \(c.updated), unchanged = \(c.unchanged),
                       rejected = \(c.rejected), layout = \(writer.layout) WHERE id = \(batch)
                """)
            try run(decision == .commit ? "COMMIT" : "ROLLBACK")
            return decision == .commit ? .committed(batch: batch) : .rolledBack(batch: batch)
        } catch {
            _ = try? Blocking.run { try await connection.query("ROLLBACK", logger: logger) }
            // The importer's own refusals (IngestError) pass through unchanged, as with SQLite.
            if error is PSQLError { throw storeError(error) }
            throw error
        }
    }
}

/// Writes one file's rows into a staging table with `COPY` (text format) and merges them into the screening table
/// when the load ends. Rows are sent in blocks of about a megabyte; the next block is filled while the previous one
/// is on its way.
final class PostgresBatchWriter: ScreeningBatchWriter {
    let store: PostgresStore
    let connection: PostgresConnection
    let table: ScreeningTable
    let batch: Int64
    var counts = BatchCounts()
    var layout: String?
    let values: UnsafeMutablePointer<StoreValue>
    private let valueCount: Int
    /// The COPY text of the rows not sent yet.
    private var block: [UInt8] = []
    private var sending: Task<Void, any Error>?
    /// Where the block on its way runs (not the cooperative pool: see `Blocking`).
    private let sender = Blocking.QueueExecutor()
    /// The years the file's rows fall in (their partitions must exist before the merge).
    private var years: Set<Int> = []
    private var finished = false
    private var loaded: [String] = []
    /// The connection `schoolOf` reads on (opened when first needed).
    private var lookup: PostgresConnection?
    static let blockBytes = 1 << 20

    init(store: PostgresStore, connection: PostgresConnection, table: ScreeningTable, batch: Int64) throws {
        self.store = store; self.connection = connection; self.table = table; self.batch = batch
        valueCount = table.columns.count
        values = .allocate(capacity: valueCount)
        values.initialize(repeating: .null, count: valueCount)
        block.reserveCapacity(Self.blockBytes + 4096)
        let columns = table.columns.map { "\($0.name) \($0.type == "TEXT" ? "text COLLATE \"C\"" : "bigint")" }
        let logger = store.logger
        try Blocking.run {
            try await connection.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE import_stage (line integer NOT NULL, \(columns.joined(separator: ", "))) ON COMMIT DROP
                """), logger: logger)
        }
    }

    deinit {
        closeLookup()
        values.deinitialize(count: valueCount)
        values.deallocate()
    }

    var bulkLoaded: [String] { loaded }

    /// Adds the row in `values` to the block being filled. What it did is known when the load ends: `.inserted`
    /// now, corrected in `finishLoad`.
    func writeValues(line: Int) throws(StoreError) -> WriteOutcome {
        years.insert(try year())
        append(line)
        for i in 0..<valueCount {
            block.append(9)   // tab
            switch values[i] {
            case .null: block.append(contentsOf: [92, 78])   // \N
            case .int(let v): append(v)
            case .real(let v): block.append(contentsOf: String(v).utf8)
            case .text(var s): s.withUTF8 { escape($0) }
            }
        }
        block.append(10)
        if block.count >= Self.blockBytes { try send() }
        return .inserted
    }

    /// A number's decimal digits (a short string: no allocation).
    private func append(_ v: some BinaryInteger) {
        block.append(contentsOf: String(v).utf8)
    }

    /// COPY's text escapes: backslash, tab, newline and carriage return.
    private func escape(_ bytes: UnsafeBufferPointer<UInt8>) {
        for b in bytes {
            switch b {
            case 92: block.append(contentsOf: [92, 92])
            case 9: block.append(contentsOf: [92, 116])
            case 10: block.append(contentsOf: [92, 110])
            case 13: block.append(contentsOf: [92, 114])
            default: block.append(b)
            }
        }
    }

    /// The year of the row in `values` (its partition).
    private func year() throws(StoreError) -> Int {
        guard let year = table.year(ofRow: values) else {
            throw .postgres(path: store.location, sqlState: "", message: "\(table.name): no four-digit year in \(values[1])")
        }
        return year
    }

    /// Sends the block filled so far (after the one before it has arrived).
    private func send() throws(StoreError) {
        try waitForSending()
        guard !block.isEmpty else { return }
        let bytes = block
        block.removeAll(keepingCapacity: true)
        let connection = self.connection, logger = store.logger
        let columns = ["line"] + table.columns.map(\.name)
        sending = Task.detached(executorPreference: sender) {
            try await connection.copyFrom(table: "import_stage", columns: columns, logger: logger) { writer in
                try await writer.write(ByteBuffer(bytes: bytes))
            }
        }
    }

    private func waitForSending() throws(StoreError) {
        guard let task = sending else { return }
        sending = nil
        do { try Blocking.run { try await task.value } } catch { throw store.storeError(error) }
    }

    private func query<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRowSequence) async throws -> T) throws(StoreError) -> T {
        let connection = self.connection, logger = store.logger
        do { return try Blocking.run { try await decode(try await connection.query(query, logger: logger)) } } catch { throw store.storeError(error) }
    }

    private func count(_ sql: String) throws(StoreError) -> Int {
        try query(PostgresQuery(unsafeSQL: sql)) { rows in
            var n = 0
            for try await c in rows.decode(Int64.self) { n = Int(c) }
            return n
        }
    }

    /// Asked on a connection of its own, outside the import's transaction: a read of the screening tables there
    /// would hold a lock on them until the commit, and a new year's partition (made before the merge, see
    /// `PostgresStore.ensurePartitions`) would wait for it. The committed rows are the ones that count (this file's
    /// own rows are fitness tests, which the lookup leaves out, as SQLite's does).
    func schoolOf(_ student: String) throws(StoreError) -> String? {
        let store = self.store, logger = store.logger
        if lookup == nil {
            do { lookup = try Blocking.run { try await store.connect(store.address) } } catch { throw store.storeError(error) }
        }
        let connection = lookup!, batch = self.batch
        do {
            return try Blocking.run {
                let rows = try await connection.query("""
                    SELECT school_code FROM (
                        SELECT school_code, screening_date AS d FROM vision_screening WHERE student_id = \(student)
                        UNION ALL SELECT school_code, screening_date FROM spine_screening WHERE student_id = \(student)
                        UNION ALL SELECT school_code, lpad(school_year::text, 4, '0') || '-09-01' FROM fitness_test WHERE student_id = \(student) AND batch_id <> \(batch)
                    ) r ORDER BY d DESC LIMIT 1
                    """, logger: logger)
                for try await code in rows.decode(String.self) { return code }
                return nil
            }
        } catch { throw store.storeError(error) }
    }

    private func closeLookup() {
        guard let connection = lookup else { return }
        lookup = nil
        _ = try? Blocking.run { try await connection.close() }
    }

    /// Merges the staged rows: repeated keys within the file first (the first line stays; the others are returned),
    /// then rows whose source values changed (previous values kept in `revision`), unchanged rows, and new rows.
    func finishLoad() throws(StoreError) -> [LateDuplicate] {
        guard !finished else { return [] }
        finished = true
        closeLookup()
        try send()
        try waitForSending()
        try store.ensurePartitions(table, years: years)
        let key = table.keyColumns.map(\.name)
        let keyList = key.joined(separator: ", ")
        let payload = table.payloadColumns.map(\.name)
        func same(_ a: String, _ b: String) -> String { payload.map { "\(a).\($0) IS NOT DISTINCT FROM \(b).\($0)" }.joined(separator: " AND ") }
        let keyMatch = key.map { "t.\($0) = s.\($0)" }.joined(separator: " AND ")
        let changed = "(" + payload.map { "t.\($0)" }.joined(separator: ", ") + ") IS DISTINCT FROM (" + payload.map { "s.\($0)" }.joined(separator: ", ") + ")"
        let columns = table.columns.map(\.name)
        let nonKey = table.columns.filter { $0.role != .key }.map(\.name)
        let insertAll = """
            INSERT INTO \(table.name) (\(columns.joined(separator: ", ")), batch_id, source_line)
            SELECT \(columns.map { "s.\($0)" }.joined(separator: ", ")), \(batch), s.line FROM import_stage s
            """

        // A bulk load: every year the file reaches is empty, so every row is new unless the file repeats a key. The
        // rows go in at once; a repeated key (the primary key refuses it) sends the load down the general path.
        if try partitionsAreEmpty() {
            try exec("SAVEPOINT bulk_load")
            do {
                let inserted = try count("WITH i AS (\(insertAll) RETURNING 1) SELECT count(*) FROM i")
                try exec("RELEASE SAVEPOINT bulk_load")
                counts.inserted = inserted
                loaded = years.sorted().map { "\(table.name)_\($0)" }
                return []
            } catch let error as StoreError {
                guard case .postgres(_, "23505", _) = error else { throw error }
                try exec("ROLLBACK TO SAVEPOINT bulk_load")
            }
        }
        try exec("ANALYZE import_stage")

        // 1. Repeats within the file.
        let repeats: [LateDuplicate] = try query(PostgresQuery(unsafeSQL: """
            WITH d AS (
                SELECT line, first_value(line) OVER w AS first_line, row_number() OVER w AS rn
                FROM import_stage WINDOW w AS (PARTITION BY \(keyList) ORDER BY line))
            SELECT d.line, d.first_line, (\(same("a", "b"))) AS same
            FROM d JOIN import_stage a ON a.line = d.line JOIN import_stage b ON b.line = d.first_line
            WHERE d.rn > 1 ORDER BY d.line
            """)) { rows in
            var found: [LateDuplicate] = []
            for try await (line, first, same) in rows.decode((Int, Int, Bool).self) {
                found.append(LateDuplicate(line: line, firstLine: first, identical: same))
            }
            return found
        }
        if !repeats.isEmpty {
            try exec("DELETE FROM import_stage WHERE line IN (\(repeats.map { String($0.line) }.joined(separator: ",")))")
        }

        // 2. Changed rows: the previous values become a revision, then the row takes the file's values.
        let previous = (nonKey + ["source_line"]).map { "'\($0)', t.\($0)" }
        // jsonb_build_object takes at most 100 arguments: the values are built in pieces of 40 and joined.
        let pieces = stride(from: 0, to: previous.count, by: 40).map { "jsonb_build_object(\(previous[$0..<min($0 + 40, previous.count)].joined(separator: ", ")))" }
        let updated = try count("""
            WITH r AS (
                INSERT INTO revision (table_name, row_id, replaced_by_batch, previous_batch, previous_values)
                SELECT '\(table.name)', t.id, \(batch), t.batch_id, \(pieces.joined(separator: " || "))
                FROM \(table.name) t JOIN import_stage s ON \(keyMatch) WHERE \(changed)
                RETURNING 1)
            SELECT count(*) FROM r
            """)
        if updated > 0 {
            try exec("""
                UPDATE \(table.name) t SET \(nonKey.map { "\($0) = s.\($0)" }.joined(separator: ", ")), batch_id = \(batch), source_line = s.line
                FROM import_stage s WHERE \(keyMatch) AND \(changed)
                """)
        }
        // 3. Unchanged rows: the key is there with the same source values (now every matched row but the new ones).
        let matched = try count("SELECT count(*) FROM \(table.name) t JOIN import_stage s ON \(keyMatch) WHERE t.batch_id <> \(batch)")
        // 4. New rows. Another import that wrote the same student and date meanwhile (committed while this insert
        // waited for it) makes the key taken: the file is rolled back and can be imported again, as after a busy SQLite.
        let inserted: Int
        do {
            inserted = try count("""
                WITH i AS (\(insertAll) WHERE NOT EXISTS (SELECT 1 FROM \(table.name) t WHERE \(keyMatch)) RETURNING 1)
                SELECT count(*) FROM i
                """)
        } catch .postgres(_, "23505", _) {
            throw .busy(path: store.location)
        }
        // Every written row was counted as inserted; the importer takes the repeats off itself.
        counts.updated += updated
        counts.unchanged += matched
        counts.inserted = inserted + repeats.count
        return repeats
    }

    /// Whether the partitions of every year the file reaches hold no committed row.
    private func partitionsAreEmpty() throws(StoreError) -> Bool {
        for year in years {
            if try count("SELECT count(*) FROM (SELECT 1 FROM \(table.name)_\(year) LIMIT 1) r") > 0 { return false }
        }
        return true
    }

    private func exec(_ sql: String) throws(StoreError) {
        try query(PostgresQuery(unsafeSQL: sql)) { _ in () }
    }

    func write(psych s: PsychScores, student: String, sex: Int, school: String, grade: Int, className: String?, date: String,
               schoolYear: Int, rule: RiskRule?, ruleVersion: String?, deadlines: DeadlinePolicy, now: Int, line: Int) throws -> WriteOutcome {
        throw Self.psychRefused(store.location)
    }

    /// Psychological screenings feed the referral workflow, which PostgreSQL does not keep yet.
    static func psychRefused(_ location: String) -> StoreError {
        .notOnThisBackend(path: location, what: "psychological screening (and the referral workflow it feeds)")
    }
}
