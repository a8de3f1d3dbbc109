import Foundation
import HealthCore
import HealthStorage
import HealthStore
import HealthStorePostgres
import HealthServices
import HealthTestSupport
import Testing

/// The backends the contract holds to the same answers. PostgreSQL runs when `SCHOOLHEALTH_TEST_POSTGRES` names a
/// server (`Tests/run` starts a throwaway cluster on loopback and sets it); CI must have it.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// The PostgreSQL server of the test run, if there is one.
    static let postgresServer: PostgresAddress? = {
        guard let text = ProcessInfo.processInfo.environment["SCHOOLHEALTH_TEST_POSTGRES"], !text.isEmpty else { return nil }
        return try? PostgresAddress(parsing: text)
    }()

    /// The backends this run can test.
    static var available: [Backend] { postgresServer == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// One backend's empty database for one test, and services over it (the clock fixed, so reports compare byte for byte).
final class ContractWorld: @unchecked Sendable {
    let backend: Backend
    let dir: String
    let services: SchoolHealthServices
    let storage: any ScreeningStorage
    let sqlite: Store?
    let postgres: PostgresStore?
    private let database: String?

    static let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_767_225_600) }   // 2026-01-01T00:00:00Z

    init(_ backend: Backend) throws {
        self.backend = backend
        dir = TestSupport.temporaryDirectory("contract-\(backend.rawValue)")
        switch backend {
        case .sqlite:
            let store = try Store.open(path: dir + "/contract.sqlite")
            sqlite = store; postgres = nil; database = nil; storage = store
            services = try SchoolHealthServices(store: store, configDirectory: TestSupport.configDirectory, now: Self.clock)
        case .postgres:
            guard let server = Backend.postgresServer else { throw ContractSkip() }
            let name = "contract_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
            try PostgresStore.createDatabase(String(name), on: server)
            database = String(name)
            let store = try PostgresStore.open(server.database(String(name)))
            sqlite = nil; postgres = store; storage = store
            services = try SchoolHealthServices(postgres: store, configDirectory: TestSupport.configDirectory, now: Self.clock)
        }
    }

    deinit {
        if let database, let server = Backend.postgresServer { try? PostgresStore.dropDatabase(database, on: server) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Rows kept as revisions, per table.
    func revisionCounts() throws -> [String: Int] {
        if let postgres { return try postgres.revisionCounts() }
        var counts: [String: Int] = [:]
        for row in try sqlite!.debugRows("SELECT table_name, count(*) FROM revision GROUP BY table_name") {
            counts[row[0]!] = Int(row[1]!)!
        }
        return counts
    }
}

struct ContractSkip: Error {}
