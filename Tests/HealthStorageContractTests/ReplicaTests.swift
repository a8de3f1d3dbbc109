import Foundation
import HealthCore
import HealthIngest
import HealthStorage
import HealthStorePostgres
import HealthServices
import HealthSynthetic
import HealthTestSupport
import HealthAnalytics
import Testing

/// Two throwaway clusters on loopback — a primary and a hot standby streaming from it — made with
/// `Tests/postgres/cluster`, stopped and removed at the end.
final class ReplicaPair: @unchecked Sendable {
    let dir = TestSupport.temporaryDirectory("replica")
    let primary: PostgresAddress
    let standby: PostgresAddress
    private var stopped = false

    static let script = TestSupport.repositoryRoot.appendingPathComponent("Tests/postgres/cluster").path

    /// Runs the cluster script and waits for it. Its output goes through files (a server it starts must not hold a
    /// pipe of ours open), and it is spawned and reaped with posix_spawn and waitpid: Foundation's Process here did not
    /// notice the script's exit (it stayed a zombie) once the server it started had detached.
    @discardableResult
    static func cluster(_ arguments: [String]) throws -> String {
        let base = TestSupport.temporaryDirectory("cluster-call")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let command = ([script] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            + " >'\(base)/out' 2>'\(base)/err' </dev/null"
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { word in word.withCString { strdup($0) } } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard spawned == 0 else { throw ClusterError(text: "cluster: posix_spawn failed (\(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: base + "/out", encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, written out (the C macros do not cross into Swift).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw ClusterError(text: "cluster \(arguments.joined(separator: " ")): " + ((try? String(contentsOfFile: base + "/err", encoding: .utf8)) ?? ""))
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct ClusterError: Error, CustomStringConvertible { let text: String; var description: String { text } }

    /// A port nothing listens on (ask the kernel for one).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init() throws {
        let primaryPort = Self.freePort()
        primary = try PostgresAddress(parsing: try Self.cluster(["start", dir + "/primary", String(primaryPort)]))
        do {
            standby = try PostgresAddress(parsing: try Self.cluster(["standby", dir + "/standby", String(Self.freePort()), String(primaryPort)]))
        } catch {
            _ = try? Self.cluster(["stop", dir + "/primary"])
            throw error
        }
    }

    func stopPrimary() throws {
        try Self.cluster(["stop", dir + "/primary"])
    }

    deinit {
        try? Self.cluster(["stop", dir + "/standby"])
        try? Self.cluster(["stop", dir + "/primary"])
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("Reports from a streaming replica", .enabled(if: Backend.postgresServer != nil, "SCHOOLHEALTH_TEST_POSTGRES names no server"))
struct ReplicaTests {
    @Test("after an import on the primary, the report is read from the hot standby — and still is once the primary is gone")
    func reportFromStandby() async throws {
        let pair = try ReplicaPair()
        try PostgresStore.createDatabase("county", on: pair.primary)
        let primary = pair.primary.database("county"), standby = pair.standby.database("county")
        let primaryStore = try PostgresStore.open(primary)
        // The standby has the database and its schema once it has replayed them (at most 20 s).
        for _ in 0..<200 {
            if (try? PostgresStore.open(standby)) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let services = try SchoolHealthServices.open(databasePath: primary.shown, configDirectory: TestSupport.configDirectory,
                                                     readReplica: standby.shown, now: ContractWorld.clock)
        let county = SyntheticCounty(seed: 5, students: 600, firstYear: 2024, years: 1)
        let file = try #require(try county.writeVision(to: pair.dir + "/files").first)
        let imported = try await services.imports.importFile(path: file.path, ImportRequest(kind: .vision, options: ContractTests.options()),
                                                             rejects: RejectionList())
        #expect(imported.status == .imported)

        // The standby replays the primary's WAL: wait (at most 20 s) until it has the batch.
        let committed = try primaryStore.changeStamp()
        var seen: [Int64] = []
        for _ in 0..<200 {
            seen = try services.screenings.changeStamp()
            if seen == committed { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(seen == committed, "the standby replayed the import")
        let report = try await services.reports.trends(TrendRequest(language: .zh))
        let county2024 = report.cells.filter { $0.measure == "myopia" && $0.area == "county" && $0.grade == nil && $0.sex == nil }
        #expect((county2024.first?.denominator ?? 0) > 500, "the county's myopia cell counts the imported screenings")

        // The standby is read-only: an import pointed at it as if it were the primary is refused, and says so.
        let onStandby = try SchoolHealthServices.open(databasePath: standby.shown, configDirectory: TestSupport.configDirectory)
        let second = try #require(try SyntheticCounty(seed: 6, students: 50, firstYear: 2025, years: 1).writeVision(to: pair.dir + "/more").first)
        do {
            _ = try await onStandby.imports.importFile(path: second.path, ImportRequest(kind: .vision, options: ContractTests.options()), rejects: RejectionList())
            Issue.record("an import on the standby was accepted")
        } catch {
            #expect(error.description.contains("read-only"), "\(error)")
        }

        // With the primary stopped, a new count (the cache cleared by a new services object) still comes from the standby.
        try pair.stopPrimary()
        let later = try SchoolHealthServices(postgres: try PostgresStore.open(standby), configDirectory: TestSupport.configDirectory, now: ContractWorld.clock)
        let again = try await later.reports.trends(TrendRequest(language: .zh))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(again.cells) == encoder.encode(report.cells))
    }
}
