public import HealthCore
public import HealthRisk
import Foundation
import Yams
import Crypto

/// A column profile: which headers name which field (`Config/profiles/*.yaml`).
public struct ColumnProfile: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var key: String
        public var required: Bool
        public var aliases: [String]
    }
    public var name: String
    public var kind: String
    public var fields: [Field]
    /// The file it came from.
    public var source: String
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
        let risk = try RiskRulesLoader.load(path: directory + "/rules/risk.yaml")

        let profileDir = directory + "/profiles"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: profileDir)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var raw: [(RawProfile, String)] = []
        for name in names { raw.append((try decode(RawProfile.self, path: profileDir + "/" + name), profileDir + "/" + name)) }
        for path in extraProfiles { raw.append((try decode(RawProfile.self, path: path), path)) }
        return SchoolHealthConfig(directory: directory, vision: vision, spine: spine, fitness: fitness, risk: risk, profiles: try resolve(raw))
    }

    /// Profiles of one kind (e.g. "vision").
    public func profiles(kind: String) -> [ColumnProfile] { profiles.filter { $0.kind == kind } }

    struct RawProfile: Decodable {
        struct RawField: Decodable {
            var required: Bool?
            var aliases: [String]
        }
        var profile: String
        var kind: String?
        var extends: String?
        var fields: [String: RawField]
    }

    /// Applies `extends:`: a child adds aliases to (and may override `required` of) its parent's fields.
    static func resolve(_ raw: [(RawProfile, String)]) throws(IngestError) -> [ColumnProfile] {
        var resolved: [String: ColumnProfile] = [:]
        var order: [String] = []
        var pending = raw
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
                } else {
                    guard let kind = p.kind else { throw .badConfig(file: path, reason: "a profile needs 'kind' (e.g. vision) or 'extends'") }
                    base = ColumnProfile(name: p.profile, kind: kind, fields: [], source: path)
                }
                for key in p.fields.keys.sorted() {
                    let f = p.fields[key]!
                    if let i = base.fields.firstIndex(where: { $0.key == key }) {
                        base.fields[i].aliases += f.aliases.filter { !base.fields[i].aliases.contains($0) }
                        if let r = f.required { base.fields[i].required = r }
                    } else {
                        base.fields.append(.init(key: key, required: f.required ?? false, aliases: f.aliases))
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
