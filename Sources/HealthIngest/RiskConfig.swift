import Foundation
public import HealthRisk
import Yams

/// Loads `Config/rules/risk.yaml`, refusing a malformed file with the line and the reason.
public enum RiskRulesLoader {
    public static func load(path: String) throws(IngestError) -> RiskRules {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .badConfig(file: path, reason: "cannot read the file")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(IngestError) -> RiskRules {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw IngestError.badConfig(file: file, reason: "the file is empty") }
            root = node
        } catch let error as IngestError {
            throw error
        } catch {
            throw .badConfig(file: file, reason: "not valid YAML: \(error)")
        }
        func fail(_ node: Node?, _ reason: String) -> IngestError {
            .badConfig(file: file, reason: "line \((node?.mark?.line).map(String.init) ?? "?"): \(reason)")
        }
        guard let top = root.mapping else { throw fail(root, "expected a mapping with version, rules and deadlines") }
        guard let version = top["version"]?.string else { throw fail(root, "missing 'version'") }
        let status = top["status"]?.string ?? ""
        guard let ruleNodes = top["rules"]?.sequence else { throw fail(root, "missing the 'rules' list") }
        var rules: [RiskRule] = []
        var ids = Set<String>()
        for node in ruleNodes {
            guard let r = node.mapping else { throw fail(node, "a rule must be a mapping") }
            func field(_ key: String) throws(IngestError) -> String {
                guard let v = r[key]?.string, !v.isEmpty else { throw fail(node, "rule is missing '\(key)'") }
                return v
            }
            let id = try field("id")
            guard ids.insert(id).inserted else { throw fail(node, "rule id '\(id)' is used twice") }
            let ruleVersion = try field("version")
            guard let instrument = Instrument(rawValue: try field("instrument")) else {
                throw fail(r["instrument"], "rule '\(id)': unknown instrument '\(r["instrument"]?.string ?? "")' (known: \(Instrument.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let tier = Tier(rawValue: try field("tier")) else {
                throw fail(r["tier"], "rule '\(id)': tier must be red, orange or yellow")
            }
            let condition: Condition
            do { condition = try Condition(try field("when"), instrument: instrument) } catch let e as RuleError {
                throw fail(r["when"], "rule '\(id)': \(e.reason)")
            } catch let e as IngestError { throw e } catch { throw fail(r["when"], "rule '\(id)': \(error)") }
            rules.append(RiskRule(id: id, version: ruleVersion, instrument: instrument, condition: condition, tier: tier, source: try field("source")))
        }
        var deadlines: [Tier: [CaseState: Deadline]] = [:]
        if let d = top["deadlines"]?.mapping {
            for (tierNode, states) in d {
                guard let tier = Tier(rawValue: tierNode.string ?? "") else { throw fail(tierNode, "deadlines: '\(tierNode.string ?? "")' is not a tier") }
                guard let stateMap = states.mapping else { throw fail(states, "deadlines of \(tier.rawValue) must be a mapping") }
                for (stateNode, spec) in stateMap {
                    guard let state = CaseState(rawValue: stateNode.string ?? "") else {
                        throw fail(stateNode, "deadlines: '\(stateNode.string ?? "")' is not a case state")
                    }
                    guard let amount = spec.mapping?["amount"]?.int, amount > 0,
                          let unit = Deadline.Unit(rawValue: spec.mapping?["unit"]?.string ?? "") else {
                        throw fail(spec, "deadline of \(tier.rawValue)/\(state.rawValue) needs amount (> 0) and unit (hours or school-days)")
                    }
                    deadlines[tier, default: [:]][state] = Deadline(amount: amount, unit: unit)
                }
            }
        }
        var cases = CaseRules()
        if let c = top["cases"]?.mapping {
            func positive(_ key: String) throws(IngestError) -> Int? {
                guard let node = c[key] else { return nil }
                guard let v = node.int, v > 0 else { throw fail(node, "cases.\(key) must be a whole number above 0") }
                return v
            }
            cases.closedRetentionDays = try positive("closedRetentionDays") ?? cases.closedRetentionDays
            cases.noteLimit = try positive("noteLimit") ?? cases.noteLimit
            cases.reasonLimit = try positive("reasonLimit") ?? cases.reasonLimit
        }
        return RiskRules(version: version, status: status, rules: rules, deadlines: DeadlinePolicy(deadlines: deadlines), cases: cases)
    }
}
