public import HealthCore
public import HealthStorage
public import Logging
import PostgresNIO
import Foundation
import Synchronization

/// The PostgreSQL backend, for city and province deployments: screenings in tables partitioned by year, bulk
/// loads through `COPY`, reports that may read from a streaming replica while the primary takes imports.
///
///     let store = try PostgresStore.open(try PostgresAddress(parsing: "postgresql://schoolhealth@127.0.0.1/county"))
///     let report = try store.reportData(fromYear: 2023, toYear: 2025, latest: false)
///
/// It keeps what `ScreeningStorage` names (import batches with revisions, the schools, the report's counts). The
/// referral workflow, accounts and the audit log are still kept by the SQLite store only (`StoreError.notOnThisBackend`).
///
/// Every call waits for its answer (see `Blocking`): call it from a thread of its own, as the services' `offload` does.
public final class PostgresStore: ScreeningStorage, Sendable {
    /// Where imports and every other write go.
    public let address: PostgresAddress
    /// Where reports read: a hot standby of `address`, or `address` itself.
    public let readAddress: PostgresAddress
    let logger: Logger
    /// The counts of the last report, by whether the latest screening counts, with the stamp they were counted at.
    let counted = Mutex<[Bool: (stamp: [Int64], counts: CountedReport)]>([:])
    private static let connectionNumbers = Atomic<Int>(0)

    public var location: String { address.shown }

    private init(address: PostgresAddress, readAddress: PostgresAddress, logger: Logger) {
        self.address = address; self.readAddress = readAddress; self.logger = logger
    }

    /// Connects, and brings the schema up to date (on the primary; a replica follows it). `replica`, when given, is
    /// where reports read.
    public static func open(_ address: PostgresAddress, readingFrom replica: PostgresAddress? = nil,
                            logger: Logger = Logger(label: "schoolhealth.postgres")) throws(StoreError) -> PostgresStore {
        let store = PostgresStore(address: address, readAddress: replica ?? address, logger: logger)
        try store.migrate()
        if let replica { try PostgresStore(address: replica, readAddress: replica, logger: logger).migrate() }
        return store
    }

    // MARK: Connections

    /// A connection of its own (an import holds one for its transaction; a report for its read).
    func connect(_ address: PostgresAddress) async throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(host: address.host, port: address.port, username: address.user,
                                                             password: address.password, database: address.database, tls: .disable)
        let id = Self.connectionNumbers.add(1, ordering: .relaxed).newValue
        return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
    }

    /// Runs `body` on a new connection to `address`, closing it after, and waits for the answer.
    func withConnection<T: Sendable>(_ address: PostgresAddress, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) throws(StoreError) -> T {
        let store = self
        do {
            return try Blocking.run {
                let connection = try await store.connect(address)
                do {
                    let value = try await body(connection)
                    try? await connection.close()
                    return value
                } catch {
                    try? await connection.close()
                    throw error
                }
            }
        } catch {
            throw storeError(error, address)
        }
    }

    /// The StoreError for what postgres-nio (or the server) reported.
    func storeError(_ error: any Error, _ address: PostgresAddress? = nil) -> StoreError {
        let shown = (address ?? self.address).shown
        if let error = error as? StoreError { return error }
        guard let error = error as? PSQLError else { return .postgres(path: shown, sqlState: "", message: "\(error)") }
        if let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? ""
            switch state {
            case "53100": return .diskFull(path: shown)
            case "25006": return .readOnly(path: shown)
            case "40001", "40P01", "55P03": return .busy(path: shown)
            case "28000", "28P01", "3D000", "57P03": return .unavailable(path: shown, detail: "\(state) \(message)")
            default: return .postgres(path: shown, sqlState: state, message: message)
            }
        }
        let underlying = error.underlying.map { "\($0)" } ?? "\(error.code)"
        return .unavailable(path: shown, detail: underlying)
    }

    // MARK: Schema

    /// Applies the steps this database has not had, in one transaction under an advisory lock (two servers starting
    /// at once do not both migrate). A database with steps this version does not know is refused, unchanged. A hot
    /// standby is only checked: its schema is the primary's, replayed.
    func migrate() throws(StoreError) {
        let logger = self.logger
        let shown = address.shown
        try withConnection(address) { connection in
            let standby = try await connection.query("SELECT pg_is_in_recovery()", logger: logger).decode(Bool.self).reduce(false) { $0 || $1 }
            if standby {
                var applied: Set<String> = []
                for try await id in try await connection.query("SELECT id FROM schema_migration", logger: logger).decode(String.self) { applied.insert(id) }
                let unknown = applied.subtracting(PostgresMigrations.steps.map(\.id)).sorted()
                guard unknown.isEmpty else { throw StoreError.newerSchema(path: shown, unknownMigrations: unknown) }
                let missing = PostgresMigrations.steps.map(\.id).filter { !applied.contains($0) }
                guard missing.isEmpty else {
                    throw StoreError.unavailable(path: shown, detail: "a standby without the schema steps \(missing.joined(separator: ", ")): open the primary with this version first")
                }
                return
            }
            try await Self.transaction(connection, logger) {
                try await connection.query("SELECT pg_advisory_xact_lock(74201601)", logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS schema_migration (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                var applied: Set<String> = []
                for try await id in try await connection.query("SELECT id FROM schema_migration", logger: logger).decode(String.self) {
                    applied.insert(id)
                }
                let known = Set(PostgresMigrations.steps.map(\.id))
                let unknown = applied.subtracting(known).sorted()
                guard unknown.isEmpty else { throw StoreError.newerSchema(path: shown, unknownMigrations: unknown) }
                for step in PostgresMigrations.steps where !applied.contains(step.id) {
                    for statement in step.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO schema_migration (id) VALUES (\(step.id))", logger: logger)
                }
            }
        }
    }

    /// Runs `body` in a transaction on `connection`: committed when it returns, rolled back when it throws.
    static func transaction(_ connection: PostgresConnection, _ logger: Logger, _ body: () async throws -> Void) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await body()
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The schema steps this database has had, in order.
    public func appliedMigrations() throws(StoreError) -> [String] {
        let logger = self.logger
        return try withConnection(readAddress) { connection in
            var ids: [String] = []
            for try await id in try await connection.query("SELECT id FROM schema_migration ORDER BY applied_at, id", logger: logger).decode(String.self) {
                ids.append(id)
            }
            return ids
        }
    }

    /// Makes the partitions of `years` that do not exist yet, each in a short transaction of its own: creating a
    /// partition locks the whole table, so it is not done inside an import's long transaction (eight importers would
    /// queue behind it). A partition made for an import that then rolls back stays, empty.
    func ensurePartitions(_ table: ScreeningTable, years: Set<Int>) throws(StoreError) {
        guard !years.isEmpty else { return }
        let logger = self.logger
        try withConnection(address) { connection in
            for year in years.sorted() {
                let name = "\(table.name)_\(year)"
                let exists = try await connection.query("SELECT to_regclass(\(name)) IS NOT NULL", logger: logger).decode(Bool.self)
                    .reduce(false) { $0 || $1 }
                if exists { continue }
                let bounds: String
                switch table.year {
                case .calendarYearOfDate?: bounds = "FROM ('\(year)') TO ('\(year + 1)')"
                case .schoolYear?: bounds = "FROM (\(year)) TO (\(year + 1))"
                case nil: continue
                }
                // The lock on the whole table is asked for 2 s at a time: a request that waits behind a long report
                // would hold up every reader queued after it, so it steps back and asks again (for up to a minute).
                for attempt in 1...30 {
                    do {
                        try await Self.transaction(connection, logger) {
                            try await connection.query("SELECT pg_advisory_xact_lock(74201602)", logger: logger)
                            try await connection.query("SET LOCAL lock_timeout = '2s'", logger: logger)
                            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(name) PARTITION OF \(table.name) FOR VALUES \(bounds)"), logger: logger)
                        }
                        break
                    } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" && attempt < 30 {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
        }
    }

    // MARK: Schools

    public func schools() throws(StoreError) -> [School] {
        let logger = self.logger
        return try withConnection(address) { connection in
            var aliases: [String: [String]] = [:]
            for try await (code, written) in try await connection.query("SELECT code, written FROM school_alias ORDER BY written", logger: logger).decode((String, String).self) {
                aliases[code, default: []].append(written)
            }
            var schools: [School] = []
            for try await (code, name, stage) in try await connection.query("SELECT code, name, stage FROM school ORDER BY code", logger: logger).decode((String, String, String?).self) {
                schools.append(School(code: code, name: name, stage: stage.flatMap(SchoolStage.init(rawValue:)), aliases: aliases[code] ?? []))
            }
            return schools
        }
    }

    /// Adds or updates `schools` by code in one transaction; each school's other spellings become the ones given
    /// (`key` folds them as matching does). Schools not in the list stay.
    public func saveSchools(_ schools: [School], key: @escaping @Sendable (String) -> String) throws(StoreError) {
        let logger = self.logger
        try withConnection(address) { connection in
            try await Self.transaction(connection, logger) {
                for school in schools {
                    try await connection.query("""
                        INSERT INTO school (code, name, stage) VALUES (\(school.code), \(school.name), \(school.stage?.rawValue))
                        ON CONFLICT (code) DO UPDATE SET name = excluded.name, stage = excluded.stage
                        """, logger: logger)
                    try await connection.query("DELETE FROM school_alias WHERE code = \(school.code)", logger: logger)
                    for alias in school.aliases {
                        try await connection.query("""
                            INSERT INTO school_alias (alias, code, written) VALUES (\(key(alias)), \(school.code), \(alias))
                            ON CONFLICT (alias) DO UPDATE SET code = excluded.code, written = excluded.written
                            """, logger: logger)
                    }
                }
            }
        }
    }

    // MARK: Reports

    /// Moves on with every committed import batch (a rolled-back one leaves no row): read where reports read.
    public func changeStamp() throws -> [Int64] {
        let logger = self.logger
        return try withConnection(readAddress) { connection in
            var stamp: [Int64] = [0, 0]
            for try await (last, count) in try await connection.query("SELECT coalesce(max(id), 0)::bigint, count(*)::bigint FROM import_batch", logger: logger).decode((Int64, Int64).self) {
                stamp = [last, count]
            }
            return stamp
        }
    }

    public func reportData(fromYear: Int, toYear: Int, latest: Bool) throws(StoreError) -> (strata: [StratumCount], followUps: [FollowUpCount]) {
        let all = try counts(latest: latest)
        return (all.strata.filter { $0.year >= fromYear && $0.year <= toYear },
                all.followUps.filter { $0.fromYear >= fromYear && $0.fromYear < toYear })
    }

    public func reportYears() throws(StoreError) -> [Int] {
        try counts(latest: false).years
    }

    /// Every year's counts: the last ones while no batch was committed since, else counted again.
    func counts(latest: Bool) throws(StoreError) -> CountedReport {
        let stamp: [Int64]
        do { stamp = try changeStamp() } catch { throw storeError(error, readAddress) }
        if let kept = counted.withLock({ $0[latest] }), kept.stamp == stamp { return kept.counts }
        let counts = try countReport(latest: latest)
        counted.withLock { $0[latest] = (stamp, counts) }
        return counts
    }

    /// Counts every year: the screenings are read in key order (student, date) — one ordered read over the partitions'
    /// keys, which carry the report's columns — and go through the same `ReportAggregator` the SQLite store uses.
    func countReport(latest: Bool) throws(StoreError) -> CountedReport {
        let logger = self.logger
        return try withConnection(readAddress) { connection in
            var aggregate = ReportAggregator()
            // One snapshot for the three reads.
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            // The report's columns of each table, as SQLite's covering key index holds them: year, school, grade, sex,
            // complete, then the three findings counted (vision: myopic, poor vision, myopia grade; spine: lateral,
            // sagittal, any abnormality).
            for table in [ScreeningTable.vision, .spine] {
                let isVision = table.name == ScreeningTable.vision.name
                func counted(_ rows: [CountedRow]) { if isVision { aggregate.vision(rows) } else { aggregate.spine(rows) } }
                var tracker = StudentTracker()
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT student_id, \((table.reportColumns ?? []).joined(separator: ", "))
                    FROM \(table.name) ORDER BY student_id, screening_date
                    """), logger: logger)
                for try await (student, year, school, grade, sex, complete, a, b, c)
                        in rows.decode((String, Int, String, Int, Int, Int, Int?, Int?, Int?).self) {
                    let row = CountedRow(year: Int32(truncatingIfNeeded: year), school: aggregate.intern(school),
                                         grade: Int16(truncatingIfNeeded: grade), sex: Int8(truncatingIfNeeded: sex), complete: complete == 1,
                                         a: Int8(truncatingIfNeeded: a ?? -1), b: Int8(truncatingIfNeeded: b ?? -1), c: Int8(truncatingIfNeeded: c ?? -1))
                    var id = student
                    id.withUTF8 { bytes in tracker.add(id: bytes, row: row, latest: latest, flush: counted) }
                }
                tracker.finish(counted)
            }
            let fitness = try await connection.query("SELECT school_code, school_year, scoring_grade, sex, status, band, bmi_category FROM fitness_test", logger: logger)
            for try await (school, year, grade, sex, status, band, bmi) in fitness.decode((String, Int, Int, Int, Int, Int?, Int?).self) {
                aggregate.fitness(school: aggregate.intern(school), year: year, grade: grade, sex: sex, status: status, band: band, bmi: bmi)
            }
            try await connection.query("COMMIT", logger: logger)
            return aggregate.result()
        }
    }
}

extension PostgresMigrations.Step {
    /// The step's statements, one by one (the extended protocol takes one statement per query).
    var statements: [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}

extension PostgresStore {
    /// Makes a database on the server `server` names (tests give each case its own).
    package static func createDatabase(_ name: String, on server: PostgresAddress) throws(StoreError) {
        try admin(server) { connection, logger in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
        }
    }

    /// Drops a database (with every connection to it).
    package static func dropDatabase(_ name: String, on server: PostgresAddress) throws(StoreError) {
        try admin(server) { connection, logger in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"), logger: logger)
        }
    }

    private static func admin(_ server: PostgresAddress, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) throws(StoreError) {
        let store = PostgresStore(address: server, readAddress: server, logger: Logger(label: "schoolhealth.postgres.admin"))
        let logger = store.logger
        try store.withConnection(server) { connection in try await body(connection, logger) }
    }

    /// The corrections kept (previous values of rows a later file changed), per table.
    package func revisionCounts() throws(StoreError) -> [String: Int] {
        let logger = self.logger
        return try withConnection(address) { connection in
            var counts: [String: Int] = [:]
            for try await (table, n) in try await connection.query("SELECT table_name, count(*)::bigint FROM revision GROUP BY table_name", logger: logger).decode((String, Int64).self) {
                counts[table] = Int(n)
            }
            return counts
        }
    }

    /// The columns of a table as the database has them, in order (the frozen schema against `ScreeningTable`).
    package func columns(of table: String) throws(StoreError) -> [String] {
        let logger = self.logger
        return try withConnection(address) { connection in
            var names: [String] = []
            for try await name in try await connection.query("""
                SELECT column_name::text FROM information_schema.columns WHERE table_name = \(table) ORDER BY ordinal_position
                """, logger: logger).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }
}

extension PostgresStore {
    /// Runs `sql` as someone holding the database would: for tests that play the attacker or the future.
    package func debugExecute(_ sql: String) throws(StoreError) {
        let logger = self.logger
        try withConnection(address) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}
