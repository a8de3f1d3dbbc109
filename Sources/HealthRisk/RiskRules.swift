/// A psychological screening instrument (DOMAIN.md §5.1). Scores only: no item text is ever stored.
public enum Instrument: String, Sendable, Codable, CaseIterable {
    case phq9, gad7, mht, scl90, sdq

    /// The values a rule may test for this instrument.
    public var fields: Set<String> {
        switch self {
        case .phq9: return ["total", "item9"]
        case .gad7: return ["total"]
        case .mht: return ["total", "validity", "item85", "item97"]
        case .scl90: return ["total", "positive_items", "factor_max"]
        case .sdq: return ["total", "informant"]
        }
    }
}

/// The scores of one administration. `factorMax` in hundredths (SCL-90's largest factor mean).
public struct PsychScores: Sendable, Equatable, Codable {
    public var instrument: Instrument
    public var total: Int?
    public var item9: Int?
    public var validity: Int?
    public var item85: Int?
    public var item97: Int?
    public var positiveItems: Int?
    public var factorMaxHundredths: Int?
    /// SDQ informant: 1 parent, 2 teacher, 3 self.
    public var informant: Int?
    public init(instrument: Instrument, total: Int? = nil, item9: Int? = nil, validity: Int? = nil, item85: Int? = nil, item97: Int? = nil,
                positiveItems: Int? = nil, factorMaxHundredths: Int? = nil, informant: Int? = nil) {
        self.instrument = instrument; self.total = total; self.item9 = item9; self.validity = validity; self.item85 = item85
        self.item97 = item97; self.positiveItems = positiveItems; self.factorMaxHundredths = factorMaxHundredths; self.informant = informant
    }

    func value(_ field: String) -> Double? {
        switch field {
        case "total": return total.map(Double.init)
        case "item9": return item9.map(Double.init)
        case "validity": return validity.map(Double.init)
        case "item85": return item85.map(Double.init)
        case "item97": return item97.map(Double.init)
        case "positive_items": return positiveItems.map(Double.init)
        case "factor_max": return factorMaxHundredths.map { Double($0) / 100 }
        case "informant": return informant.map(Double.init)
        default: return nil
        }
    }
}

/// A rule condition: clauses `field op number` joined by `and` (binds tighter) and `or`.
///
///     try Condition("item85 == 1 or item97 == 1", instrument: .mht)
public struct Condition: Sendable, Equatable, CustomStringConvertible {
    struct Clause: Sendable, Equatable { var field: String; var op: String; var value: Double }
    /// Disjunction of conjunctions.
    let any: [[Clause]]
    public let description: String

    public init(_ text: String, instrument: Instrument) throws(RuleError) {
        description = text
        let words = text.split(separator: " ").map(String.init)
        guard !words.isEmpty else { throw RuleError(reason: "the condition is empty") }
        var groups: [[Clause]] = [[]]
        var i = 0
        while i < words.count {
            guard i + 2 < words.count else { throw RuleError(reason: "'\(words[i...].joined(separator: " "))' is not 'field op value'") }
            let (field, op, raw) = (words[i], words[i + 1], words[i + 2])
            guard instrument.fields.contains(field) else {
                throw RuleError(reason: "unknown field '\(field)' for \(instrument.rawValue) (known: \(instrument.fields.sorted().joined(separator: ", ")))")
            }
            guard ["<", "<=", "==", ">=", ">", "!="].contains(op) else { throw RuleError(reason: "unknown operator '\(op)' (use < <= == >= > !=)") }
            guard let value = Double(raw) else { throw RuleError(reason: "'\(raw)' is not a number") }
            groups[groups.count - 1].append(Clause(field: field, op: op, value: value))
            i += 3
            if i < words.count {
                switch words[i].lowercased() {
                case "and": break
                case "or": groups.append([])
                default: throw RuleError(reason: "expected 'and' or 'or', found '\(words[i])'")
                }
                i += 1
                guard i < words.count else { throw RuleError(reason: "the condition ends with '\(words[i - 1])'") }
            }
        }
        any = groups
    }

    public func matches(_ s: PsychScores) -> Bool {
        any.contains { clauses in
            clauses.allSatisfy { c in
                guard let v = s.value(c.field) else { return false }
                switch c.op {
                case "<": return v < c.value
                case "<=": return v <= c.value
                case "==": return v == c.value
                case ">=": return v >= c.value
                case ">": return v > c.value
                default: return v != c.value
                }
            }
        }
    }
}

public struct RuleError: Error, Equatable { public var reason: String }

/// One risk rule: when an instrument's scores meet the condition, flag this tier.
public struct RiskRule: Sendable, Equatable {
    public var id: String
    public var version: String
    public var instrument: Instrument
    public var condition: Condition
    public var tier: Tier
    public var source: String
    public init(id: String, version: String, instrument: Instrument, condition: Condition, tier: Tier, source: String) {
        self.id = id; self.version = version; self.instrument = instrument; self.condition = condition; self.tier = tier; self.source = source
    }
}

/// The rule set of `Config/rules/risk.yaml` and its deadlines.
public struct RiskRules: Sendable {
    public var version: String
    /// `version@` and the first 8 hex digits of the file's SHA-256: what flags and screenings record, so that an
    /// edited file (say, with the red rules removed) is never recorded under the approved version.
    public var versionTag: String
    public var status: String
    public var rules: [RiskRule]
    public var deadlines: DeadlinePolicy
    public var cases: CaseRules
    public init(version: String, status: String, rules: [RiskRule], deadlines: DeadlinePolicy, cases: CaseRules = CaseRules(),
                versionTag: String? = nil) {
        self.version = version; self.status = status; self.rules = rules; self.deadlines = deadlines; self.cases = cases
        self.versionTag = versionTag ?? version
    }

    /// What a flag raised by `rule` records as its version: the rule's own and the rule set's tag.
    ///
    ///     rules.recordedVersion(of: rule)   // "1 (risk 2025.1-proposal@3f2a9c1d)"
    public func recordedVersion(of rule: RiskRule) -> String { "\(rule.version) (risk \(versionTag))" }

    /// The most urgent rule the scores meet (the first in the file among equals), or nil.
    public func evaluate(_ scores: PsychScores) -> RiskRule? {
        rules.filter { $0.instrument == scores.instrument && $0.condition.matches(scores) }.min { $0.tier < $1.tier }
    }
}
