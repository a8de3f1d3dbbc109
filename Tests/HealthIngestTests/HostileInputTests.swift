import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthTestSupport

/// Seeded mutation fuzzing of the whole import path (decoder, CSV reader, header matching, value parsers).
/// CI runs a short fixed-seed round; `SCHOOLHEALTH_FUZZ_SECONDS=600 swift test --filter HostileInputTests` runs
/// ten minutes with fresh seeds. Every input must either import (rows stored or rejected with a line number)
/// or be refused as a whole with an IngestError — never crash, hang or half-write.
@Suite("Hostile input", .serialized)
struct HostileInputTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    }

    static let seeds = ["vision/utf8.csv", "vision/gb18030.csv", "vision/quoted-multiline.csv", "vision/bad-values.csv",
                        "fitness/national-template-gb18030.csv", "spine/spine.csv", "psych/screening.csv"]
    static let nasty: [UInt8] = Array("\"\",\r\n\u{0}\u{1F}\u{FEFF}′″免ÿ".utf8) + [0x81, 0x30, 0xFF, 0xFE, 0xE3, 0x80]

    func mutate(_ input: [UInt8], _ rng: inout Rng) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + rng.below(8)) {
            guard !b.isEmpty else { b = [Self.nasty[rng.below(Self.nasty.count)]]; continue }
            let i = rng.below(b.count)
            switch rng.below(6) {
            case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())                                  // flip a byte
            case 1: b.insert(Self.nasty[rng.below(Self.nasty.count)], at: i)                      // insert a nasty byte
            case 2: b.removeSubrange(i..<min(b.count, i + 1 + rng.below(16)))                      // delete a run
            case 3: b.insert(contentsOf: b[i..<min(b.count, i + rng.below(64))], at: rng.below(b.count))   // duplicate a run
            case 4: b = Array(b.prefix(i))                                                         // truncate
            default: b.insert(contentsOf: Array(repeating: UInt8(ascii: ","), count: rng.below(40)), at: i)
            }
        }
        return b
    }

    func importOnce(_ bytes: [UInt8], kind: ScreeningKind, config: SchoolHealthConfig) throws {
        let path = TestSupport.temporaryDirectory("fuzz") + "/input.csv"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try Store.inMemory()
        var options = ImportOptions()
        options.school = "S"
        options.schoolYear = 2024
        var rejects: [Rejection] = []
        do {
            let report = try FileImporter(store: store, config: config).importFile(path: path, kind: kind, options: options) { rejects.append($0) }
            #expect(report.rowsRead == report.inserted + report.updated + report.unchanged + report.rejected)
            #expect(rejects.allSatisfy { $0.line >= 2 }, "every reject names a data line")
            #expect(try store.integrityCheck() == "ok")
        } catch is IngestError {
            // Refused as a whole: nothing may have been written.
            #expect(try store.counts().batches == 0)
        }
    }

    @Test("Seeded mutations of every fixture either import with line-numbered rejects or are refused whole")
    func mutations() throws {
        let config = try SchoolHealthConfig.load(directory: TestSupport.configDirectory)
        let seconds = Double(ProcessInfo.processInfo.environment["SCHOOLHEALTH_FUZZ_SECONDS"] ?? "") ?? 0
        var rng = Rng(state: seconds > 0 ? UInt64(Date().timeIntervalSince1970) : 20_241_008)
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0
        repeat {
            for fixture in Self.seeds {
                let original = [UInt8](FileManager.default.contents(atPath: TestSupport.fixture(fixture))!)
                let kind: ScreeningKind = fixture.hasPrefix("fitness") ? .fitness : fixture.hasPrefix("spine") ? .spine : fixture.hasPrefix("psych") ? .psych : .vision
                for _ in 0..<(seconds > 0 ? 20 : 6) {
                    try importOnce(mutate(original, &rng), kind: kind, config: config)
                    runs += 1
                }
            }
        } while Date() < deadline
        #expect(runs >= 42)
    }

    @Test("Nasty real-world shapes", arguments: ["nul", "lone-cr", "big-field", "many-columns", "bad-gb18030", "only-bom", "only-newlines"])
    func nastyShapes(shape: String) throws {
        let config = try SchoolHealthConfig.load(directory: TestSupport.configDirectory)
        let header = Array("student_id,sex,school_code,grade,screening_date,ucva_right,ucva_left\n".utf8)
        let row = Array("001,1,S,11,2024-09-02,5.0,5.0\n".utf8)
        var bytes: [UInt8]
        switch shape {
        case "nul": bytes = header + Array("002,1,S,11,2024-09-02,5.0,5\u{0}.0\n".utf8) + row
        case "lone-cr": bytes = Array("student_id,sex,school_code,grade,screening_date,ucva_right,ucva_left\r001,1,S,11,2024-09-02,5.0,5.0\r".utf8)
        case "big-field": bytes = header + Array("002,1,S,11,2024-09-02,5.0,\"".utf8) + Array(repeating: UInt8(ascii: "9"), count: 10_000_000) + Array("\"\n".utf8) + row
        case "many-columns": bytes = header + Array(repeating: UInt8(ascii: ","), count: 100_000) + Array("\n".utf8) + row
        case "bad-gb18030": bytes = Array(FileManager.default.contents(atPath: TestSupport.fixture("vision/gb18030.csv"))!) + [0x81, 0x0A, 0xFE, 0x39, 0x0A]
        case "only-bom": bytes = [0xEF, 0xBB, 0xBF]
        default: bytes = Array(repeating: UInt8(ascii: "\n"), count: 1000)
        }
        let start = Date()
        try importOnce(bytes, kind: .vision, config: config)
        #expect(Date().timeIntervalSince(start) < 30, "no hang")
    }
}
