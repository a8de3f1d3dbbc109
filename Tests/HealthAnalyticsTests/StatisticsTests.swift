import Foundation
import Testing
@testable import HealthAnalytics
import HealthTestSupport

/// Reference values computed by statsmodels/scipy (Tests/HealthAnalyticsTests/reference/make_reference.py).
struct Reference: Decodable {
    struct Wilson: Decodable { var x, n: Int; var lower, upper: Double }
    struct Newcombe: Decodable { var x1, n1, x2, n2: Int; var diff, lower, upper: Double }
    struct ZTest: Decodable { var x1, n1, x2, n2: Int; var z, p: Double }
    struct Trend: Decodable { var x, n: [Int]; var z, p: Double }
    struct Standardisation: Decodable { var counts, population, reference: [Int]; var rate, variance, lower, upper: Double }
    var wilson: [Wilson]
    var newcombe: [Newcombe]
    var twoProportionZ: [ZTest]
    var cochranArmitage: [Trend]
    var directStandardisation: [Standardisation]

    static func load() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("analytics/reference.json"))))
    }
}

func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tolerance
}

@Suite("Statistics against statsmodels/scipy (1e-9)")
struct StatisticsTests {
    let reference: Reference
    init() throws { reference = try Reference.load() }

    @Test("Wilson score intervals")
    func wilson() {
        for r in reference.wilson {
            let w = Statistics.wilson(r.x, r.n)
            #expect(close(w?.lower, r.lower) && close(w?.upper, r.upper), "\(r.x)/\(r.n): \(String(describing: w))")
        }
    }

    @Test("Newcombe intervals for a difference of proportions")
    func newcombe() {
        for r in reference.newcombe {
            let d = Statistics.newcombe(r.x1, r.n1, r.x2, r.n2)
            #expect(close(d?.difference, r.diff) && close(d?.interval.lower, r.lower) && close(d?.interval.upper, r.upper), "\(r)")
        }
    }

    @Test("Two-proportion z test p-values")
    func zTest() {
        for r in reference.twoProportionZ {
            let t = Statistics.twoProportionZ(r.x1, r.n1, r.x2, r.n2)
            #expect(close(t?.z, r.z) && close(t?.p, r.p), "\(r)")
        }
    }

    @Test("Cochran–Armitage trend tests")
    func cochranArmitage() {
        for r in reference.cochranArmitage {
            let t = Statistics.cochranArmitage(successes: r.x, totals: r.n)
            #expect(close(t?.z, r.z) && close(t?.p, r.p), "\(r)")
        }
    }

    @Test("Direct standardisation with Fay–Feuer gamma intervals")
    func standardisation() {
        for r in reference.directStandardisation {
            let s = Statistics.directlyStandardised(counts: r.counts, populations: r.population, reference: r.reference.map(Double.init))
            #expect(close(s?.rate, r.rate) && close(s?.variance, r.variance, 1e-12), "\(r)")
            #expect(close(s?.interval.lower, r.lower) && close(s?.interval.upper, r.upper), "\(r): \(String(describing: s))")
        }
    }

    @Test("Edge cases: nothing measured gives no interval; 0 and n give bounds at 0 and 1")
    func edges() {
        #expect(Statistics.wilson(0, 0) == nil)
        #expect(Statistics.wilson(0, 10)?.lower == 0)
        #expect(close(Statistics.wilson(10, 10)?.upper, 1, 1e-15))
        #expect(Statistics.cochranArmitage(successes: [0, 0], totals: [10, 10]) == nil)
    }
}
