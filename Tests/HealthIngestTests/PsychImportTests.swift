import Foundation
import Testing
@testable import HealthIngest
import HealthStore
import HealthRisk
import HealthTestSupport

@Suite("Psych import and risk rules")
struct PsychImportTests {
    @Test("Scores at each cut-off raise the flags of the shipped rules, recording rule and version; no item text stored")
    func flags() throws {
        var h = try Harness()
        let report = try h.run("psych/screening.csv", kind: .psych)
        #expect(report.rejected == 0, "\(h.rejects)")
        #expect(report.inserted == 10)
        let flags = try h.rows("SELECT student_id, tier, rule_id FROM psych_flag ORDER BY student_id")
        #expect(flags == [
            ["P001", "red", "phq9-item9-plan"], ["P002", "orange", "phq9-severe"], ["P004", "orange", "gad7-severe"],
            ["P005", "yellow", "mht-total"], ["P007", "orange", "mht-crisis-items"], ["P008", "yellow", "scl90-positive"],
            ["P009", "yellow", "sdq-high-parent"],
        ])
        // Each flag records its rule's version and the rule file's version with its SHA-256 prefix, as the
        // screenings and the batch do: an edited risk.yaml is never recorded under the approved version.
        let config = try SchoolHealthConfig.load(directory: TestSupport.configDirectory)
        #expect(config.risk.versionTag.range(of: #"^2025\.1-proposal@[0-9a-f]{8}$"#, options: .regularExpression) != nil)
        #expect(Set(try h.rows("SELECT rule_version FROM psych_flag").map { $0[0]! }) == ["1 (risk \(config.risk.versionTag))"])
        #expect(Set(try h.rows("SELECT rule_version FROM psych_screening WHERE rule_id IS NOT NULL").map { $0[0]! }) == ["1 (risk \(config.risk.versionTag))"])
        #expect(try h.rows("SELECT rule_version FROM import_batch WHERE kind = 'psych'").map { $0[0]! } == [config.risk.versionTag])
        #expect(try h.count("psych_case") == 7)
        #expect(report.warnings.contains { $0.contains("validity") })
        // Re-importing the same file changes nothing: no second flag.
        #expect(try h.run("psych/screening.csv", kind: .psych).status == .alreadyImported)
        #expect(try h.count("psych_flag") == 7)
        // Scores only.
        let columns = try h.rows("SELECT name FROM pragma_table_info('psych_screening')").map { $0[0]! }
        #expect(!columns.contains { $0.contains("text") || $0.contains("answer") })
    }

    @Test("A risk.yaml with the red rules removed is recorded under a different version tag")
    func editedRules() throws {
        let dir = TestSupport.temporaryDirectory("edited-config")
        try FileManager.default.copyItem(atPath: TestSupport.configDirectory, toPath: dir + "/Config")
        let path = dir + "/Config/rules/risk.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "when: \"item9 >= 2\"\n    tier: red", with: "when: \"item9 >= 2\"\n    tier: yellow")
        #expect(edited != text)
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let shipped = try SchoolHealthConfig.load(directory: TestSupport.configDirectory).risk
        let changed = try SchoolHealthConfig.load(directory: dir + "/Config").risk
        #expect(shipped.version == changed.version)
        #expect(shipped.versionTag != changed.versionTag)
    }

    @Test("PHQ-9 items: the total is their sum; a total that disagrees is rejected; bad values name line and column")
    func items() throws {
        let csv = """
            student_id,sex,school_code,grade,screening_date,instrument,total,item9,q1,q2,q3,q4,q5,q6,q7,q8,q9
            A,1,S,22,2024-10-08,PHQ-9,,,2,2,2,2,2,2,2,2,1
            B,1,S,22,2024-10-08,PHQ-9,10,,1,1,1,1,1,1,1,1,1
            C,1,S,22,2024-10-08,PHQ-9,30,0,,,,,,,,,
            D,1,S,22,2024-10-08,BDI,10,,,,,,,,,,
            """ + "\n"
        var h = try Harness()
        let report = try h.run("", kind: .psych, path: TestSupport.writeTemporary(csv))
        #expect(report.inserted == 1)
        #expect(try h.rows("SELECT total, item9, tier FROM psych_screening")[0] == ["17", "1", "orange"])
        #expect(h.rejects.map(\.line).sorted() == [3, 4, 5])
        #expect(h.rejects.first { $0.line == 3 }?.reason.contains("sum of the nine items") == true)
        #expect(h.rejects.first { $0.line == 4 }?.column == "total")
        #expect(h.rejects.first { $0.line == 5 }?.reason.contains("instrument") == true)
    }

    @Test("The shipped rules file loads; a malformed one is refused with its line and reason")
    func rulesFile() throws {
        let rules = try RiskRulesLoader.load(path: TestSupport.configDirectory + "/rules/risk.yaml")
        #expect(rules.rules.count == 12)
        #expect(rules.status.contains("proposal"))
        #expect(rules.deadlines.due(tier: .red, state: .identified, enteredAt: 0) == 4 * 3600)
        let bad: [(String, String)] = [
            ("version: x\nrules:\n  - id: a\n    version: '1'\n    instrument: phq9\n    when: 'itme9 >= 2'\n    tier: red\n    source: s\n", "line 6"),
            ("version: x\nrules:\n  - id: a\n    version: '1'\n    instrument: bdi\n    when: 'total >= 2'\n    tier: red\n    source: s\n", "unknown instrument"),
            ("version: x\nrules:\n  - id: a\n    version: '1'\n    instrument: phq9\n    when: 'total >= 2'\n    tier: purple\n    source: s\n", "line 7"),
            ("version: x\nrules:\n  - id: a\n    instrument: phq9\n    when: 'total >= 2'\n    tier: red\n    source: s\n", "missing 'version'"),
            ("version: x\nrules: []\ndeadlines:\n  red:\n    identified: { amount: 0, unit: hours }\n", "line 5"),
        ]
        for (text, words) in bad {
            #expect {
                _ = try RiskRulesLoader.parse(text, file: "risk.yaml")
            } throws: { error in
                String(describing: error).contains(words) && String(describing: error).contains("risk.yaml")
            }
        }
    }
}
