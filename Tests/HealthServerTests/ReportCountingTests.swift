import Foundation
import HealthCore
import HealthIngest
@testable import HealthServices
import HealthSynthetic
import HealthAnalytics
import HealthTestSupport
import Testing
import Synchronization
import HealthStore

/// After an upload the report's counts are read again once; meanwhile the other requests are served the counts
/// being replaced instead of waiting (a page must not stall behind a recount).
@Suite("Report counts while they are read again")
struct ReportCountingTests {
    @Test("while a count is under way the previous counts are served; once none is, the new ones")
    func staleWhileCounting() async throws {
        let w = try WebWorld()
        let county = SyntheticCounty(seed: 3, students: 300, firstYear: 2024, years: 2)
        let files = try county.writeVision(to: w.dir + "/county").sorted { $0.schoolYear < $1.schoolYear }
        var options = ImportOptions()
        options.today = CivilDate(year: 2026, month: 1, day: 1)!
        _ = try await w.services.imports.importFile(path: files[0].path, ImportRequest(kind: .vision, options: options), rejects: RejectionList())
        let request = TrendRequest(from: 2024, to: 2025)
        let before = try await w.services.reports.trends(request)
        _ = try await w.services.imports.importFile(path: files[1].path, ImportRequest(kind: .vision, options: options), rejects: RejectionList())
        // Another request is counting (simulated): this one is given the counts that count replaces, at once.
        w.services.countingNow.store(true, ordering: .releasing)
        let during = try await w.services.reports.trends(request)
        w.services.countingNow.store(false, ordering: .releasing)
        let after = try await w.services.reports.trends(request)
        func cells(_ r: TrendReport) throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try encoder.encode(r.cells)
        }
        #expect(try cells(during) == cells(before))
        #expect(try cells(after) != cells(before), "the new year's screenings are counted once no count is under way")
    }
}
