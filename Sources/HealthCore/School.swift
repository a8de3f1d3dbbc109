/// A school of the county's list: its code (学校标识码 or the bureau's own), name, stage, and the other spellings
/// exports use for it.
public struct School: Sendable, Codable, Equatable, Hashable {
    public var code: String
    public var name: String
    public var stage: SchoolStage?
    public var aliases: [String]

    public init(code: String, name: String, stage: SchoolStage? = nil, aliases: [String] = []) {
        self.code = code; self.name = name; self.stage = stage; self.aliases = aliases
    }
}

/// What kind of school: the stages of the county's schools, kindergarten to senior high and vocational.
public enum SchoolStage: String, Sendable, Codable, CaseIterable {
    case kindergarten, primary, junior, senior, vocational
    /// 九年一贯制: primary and junior in one school.
    case nineYear = "nine-year"
    /// 完全中学: junior and senior.
    case completeSecondary = "complete-secondary"
    /// 十二年一贯制.
    case twelveYear = "twelve-year"

    /// The Chinese name, as school lists write it.
    public var label: String {
        switch self {
        case .kindergarten: return "幼儿园"
        case .primary: return "小学"
        case .junior: return "初中"
        case .senior: return "高中"
        case .vocational: return "中职"
        case .nineYear: return "九年一贯制"
        case .completeSecondary: return "完全中学"
        case .twelveYear: return "十二年一贯制"
        }
    }

    /// The stage a list names, in Chinese or English (幼儿园, 小学, 初中, 高中/普高, 中职/职高, …).
    public init?(name: String) {
        let extra: [String: SchoolStage] = [
            "普高": .senior, "普通高中": .senior, "职高": .vocational, "中等职业学校": .vocational, "职业高中": .vocational,
            "九年制": .nineYear, "一贯制": .nineYear, "完中": .completeSecondary, "幼": .kindergarten, "小": .primary,
            "初": .junior, "高": .senior, "primary school": .primary, "junior high": .junior, "senior high": .senior,
        ]
        if let s = SchoolStage(rawValue: name.lowercased()) ?? SchoolStage.allCases.first(where: { $0.label == name }) ?? extra[name] {
            self = s
        } else {
            return nil
        }
    }
}
