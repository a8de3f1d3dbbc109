public import HealthCore
public import HealthRisk
import Foundation
import Yams
import Crypto

/// A column profile: which headers name which field (`Config/profiles/*.yaml`), and how one export layout
/// writes its values (not-measured markers, codes, blocks that are not the screening).
public struct ColumnProfile: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var key: String
        public var required: Bool
        /// Headers that name the field: a label (`右眼裸眼视力`), or a path through a merged head
        /// (`视力/右眼`), which matches when its last label is the column's and the others are above it, in order.
        public var aliases: [String]
        /// Cell values this layout writes for "not measured" in this column, beside the profile's own.
        public var notMeasured: [String] = []
        /// Acuity: values this layout writes for "below the chart's lowest line, 3.0" (the national upload's 9.0, 0).
        public var belowChart: [String] = []
        /// Layout codes, each read as the value it stands for (`"0": 是`).
        public var codes: [String: String] = [:]
        /// Fields that, when the file has them, stand in for this one (a required grade, given by 年级情况).
        public var or: [String] = []
    }
    /// Columns under a head whose label contains `match` are not read as the screening, for `reason`.
    public struct Block: Sendable, Equatable {
        public var match: String
        public var reason: String
    }
    /// One column holding two fields, e.g. `裸眼视力（右/左）` = `4.9/5.0`.
    public struct Pair: Sendable, Equatable {
        public var aliases: [String]
        public var fields: [String]
        public var separator: String
    }
    public var name: String
    public var kind: String
    public var fields: [Field]
    /// The file it came from.
    public var source: String
    public var description: String?
    /// Where the layout is documented: the public system whose code writes it.
    public var origin: String?
    /// Said with every import that uses the profile (e.g. a mapping that is not confirmed).
    public var caution: String?
    /// Headers that identify the layout: the profile is considered only for files that have them all.
    public var signature: [String] = []
    /// Cell values that mean "not measured" in any measurement column (`--`, `/`).
    public var notMeasured: [String] = []
    public var ignoreBlocks: [Block] = []
    public var pairs: [Pair] = []
    /// How many `extends:` steps below a profile without a parent (more specific profiles win a tie).
    public var depth = 0

    public func field(_ key: String) -> Field? { fields.first { $0.key == key } }
}

/// Everything SchoolHealth reads from `Config/`: rule sets and column profiles.
///
///     let config = try SchoolHealthConfig.load(directory: "Config")
///     config.vision.versionTag        // "2025.1@3f2a9c1d"
public struct SchoolHealthConfig: Sendable {
    public var directory: String
    public var vision: VisionRules
    public var spine: SpineRules
    public var fitness: FitnessRules
    public var risk: RiskRules
    /// The screening loop: which findings send a notice, what a clinic's result must look like.
    public var followUp: FollowUpRules
    /// The notices' text (Chinese).
    public var notices: NoticeTemplate
    public var profiles: [ColumnProfile]

    /// Loads `rules/vision.yaml` and every `profiles/*.yaml` under `directory`, plus any `extraProfiles` files.
    public static func load(directory: String, extraProfiles: [String] = []) throws(IngestError) -> SchoolHealthConfig {
        let rulesPath = directory + "/rules/vision.yaml"
        var vision: VisionRules = try decode(VisionRules.self, path: rulesPath)
        vision.versionTag = "\(vision.version)@\(try digest(path: rulesPath).prefix(8))"
        let spinePath = directory + "/rules/spine.yaml"
        var spine: SpineRules = try decode(SpineRules.self, path: spinePath)
        spine.versionTag = "\(spine.version)@\(try digest(path: spinePath).prefix(8))"
        let fitness = try FitnessConfigLoader.load(directory: directory)
        let riskPath = directory + "/rules/risk.yaml"
        var risk = try RiskRulesLoader.load(path: riskPath)
        risk.versionTag = "\(risk.version)@\(try digest(path: riskPath).prefix(8))"
        let followUpPath = directory + "/rules/follow-up.yaml"
        var followUp: FollowUpRules = try decode(FollowUpRules.self, path: followUpPath)
        followUp.versionTag = "\(followUp.version)@\(try digest(path: followUpPath).prefix(8))"
        let noticesPath = directory + "/notices/zh-Hans.yaml"
        var notices: NoticeTemplate = try decode(NoticeTemplate.self, path: noticesPath)
        notices.versionTag = "\(notices.version)@\(try digest(path: noticesPath).prefix(8))"
        for f in followUp.findings where notices.findings[f.id] == nil {
            throw .badConfig(file: noticesPath, reason: "has no text for the finding \(f.id) of \(followUpPath) (findings: \(f.id): ...)")
        }

        let profileDir = directory + "/profiles"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: profileDir)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var raw: [(RawProfile, String)] = []
        for name in names { raw.append((try decode(RawProfile.self, path: profileDir + "/" + name), profileDir + "/" + name)) }
        for path in extraProfiles { raw.append((try decode(RawProfile.self, path: path), path)) }
        return SchoolHealthConfig(directory: directory, vision: vision, spine: spine, fitness: fitness, risk: risk, followUp: followUp,
                                  notices: notices, profiles: try resolve(raw))
    }

    /// This configuration with more profiles, given as YAML texts (a school's saved mappings); each may extend
    /// any profile already here. `source` names where a text came from in errors.
    public func adding(profiles texts: [(yaml: String, source: String)]) throws(IngestError) -> SchoolHealthConfig {
        guard !texts.isEmpty else { return self }
        var raw: [(RawProfile, String)] = []
        for (yaml, source) in texts {
            do { raw.append((try YAMLDecoder().decode(RawProfile.self, from: yaml), source)) } catch {
                throw .badConfig(file: source, reason: String(describing: error))
            }
        }
        var copy = self
        copy.profiles = try Self.resolve(raw, over: profiles)
        return copy
    }

    /// Profiles of one kind (e.g. "vision").
    public func profiles(kind: String) -> [ColumnProfile] { profiles.filter { $0.kind == kind } }

    struct RawProfile: Decodable {
        struct RawField: Decodable {
            var required: Bool?
            var aliases: [String]?
            var notMeasured: [String]?
            var belowChart: [String]?
            var codes: [String: String]?
            var or: [String]?
        }
        struct RawBlock: Decodable { var match: String; var reason: String }
        struct RawPair: Decodable { var aliases: [String]; var fields: [String]; var separator: String? }
        var profile: String
        var kind: String?
        var extends: String?
        var description: String?
        var origin: String?
        var caution: String?
        var signature: [String]?
        var notMeasured: [String]?
        var ignoreBlocks: [RawBlock]?
        var pairs: [RawPair]?
        var fields: [String: RawField]?
    }

    /// Applies `extends:`: a child adds aliases, markers, codes, blocks and pairs to its parent's (and may override
    /// `required`); its own signature, description and origin are added to or replace the parent's.
    static func resolve(_ raw: [(RawProfile, String)], over known: [ColumnProfile] = []) throws(IngestError) -> [ColumnProfile] {
        var resolved = Dictionary(known.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        var order = known.map(\.name)
        var pending = raw
        func union(_ a: [String], _ b: [String]?) -> [String] { a + (b ?? []).filter { !a.contains($0) } }
        while !pending.isEmpty {
            let before = pending.count
            var next: [(RawProfile, String)] = []
            for (p, path) in pending {
                var base: ColumnProfile
                if let parent = p.extends {
                    guard let parentProfile = resolved[parent] else { next.append((p, path)); continue }
                    base = parentProfile
                    base.name = p.profile
                    base.source = path
                    base.depth = parentProfile.depth + 1
                    base.description = p.description ?? base.description
                    base.origin = p.origin ?? base.origin
                    base.caution = p.caution ?? base.caution
                } else {
                    guard let kind = p.kind else { throw .badConfig(file: path, reason: "a profile needs 'kind' (e.g. vision) or 'extends'") }
                    base = ColumnProfile(name: p.profile, kind: kind, fields: [], source: path, description: p.description, origin: p.origin,
                                         caution: p.caution)
                }
                base.signature = union(base.signature, p.signature)
                base.notMeasured = union(base.notMeasured, p.notMeasured)
                base.ignoreBlocks += (p.ignoreBlocks ?? []).map { ColumnProfile.Block(match: $0.match, reason: $0.reason) }
                for pair in p.pairs ?? [] {
                    guard pair.fields.count >= 2 else { throw .badConfig(file: path, reason: "a pair names at least two fields") }
                    base.pairs.append(.init(aliases: pair.aliases, fields: pair.fields, separator: pair.separator ?? "/"))
                }
                let fields = p.fields ?? [:]
                // A header a child names for a field is taken from any other field of its parent.
                for (key, f) in fields {
                    let taken = Set((f.aliases ?? []).map(HeaderMatcher.normalize))
                    for i in base.fields.indices where base.fields[i].key != key {
                        base.fields[i].aliases.removeAll { taken.contains(HeaderMatcher.normalize($0)) }
                    }
                }
                for key in fields.keys.sorted() {
                    let f = fields[key]!
                    if let i = base.fields.firstIndex(where: { $0.key == key }) {
                        base.fields[i].aliases = union(base.fields[i].aliases, f.aliases)
                        base.fields[i].notMeasured = union(base.fields[i].notMeasured, f.notMeasured)
                        base.fields[i].belowChart = union(base.fields[i].belowChart, f.belowChart)
                        base.fields[i].codes.merge(f.codes ?? [:]) { _, new in new }
                        base.fields[i].or = union(base.fields[i].or, f.or)
                        if let r = f.required { base.fields[i].required = r }
                    } else {
                        base.fields.append(.init(key: key, required: f.required ?? false, aliases: f.aliases ?? [],
                                                 notMeasured: f.notMeasured ?? [], belowChart: f.belowChart ?? [], codes: f.codes ?? [:],
                                                 or: f.or ?? []))
                    }
                }
                for pair in base.pairs {
                    for key in pair.fields where !base.fields.contains(where: { $0.key == key }) {
                        throw .badConfig(file: path, reason: "pair \(pair.aliases.first ?? "?") names field '\(key)', which the profile does not have")
                    }
                }
                if resolved[p.profile] == nil { order.append(p.profile) }
                resolved[p.profile] = base
            }
            if next.count == before {
                throw .badConfig(file: next[0].1, reason: "profile '\(next[0].0.profile)' extends '\(next[0].0.extends ?? "")', which does not exist")
            }
            pending = next
        }
        return order.map { resolved[$0]! }
    }

    static func decode<T: Decodable>(_ type: T.Type, path: String) throws(IngestError) -> T {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .badConfig(file: path, reason: "cannot read the file")
        }
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch {
            throw .badConfig(file: path, reason: String(describing: error))
        }
    }

    static func digest(path: String) throws(IngestError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw .badConfig(file: path, reason: "cannot read the file") }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
