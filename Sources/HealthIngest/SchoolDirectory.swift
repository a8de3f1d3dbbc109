public import HealthCore
import Foundation

/// The county's schools: code, name, stage and the other spellings exports use for them (`school_alias`).
/// Exports that name a school (学校, 学校名称) are placed through it; reports show names beside codes.
///
///     let schools = SchoolDirectory([School(code: "SH-P01", name: "城关第一小学", stage: .primary, aliases: ["城关一小"])])
///     schools.code(for: "城关一小")   // "SH-P01"
public struct SchoolDirectory: Sendable, Equatable {
    public private(set) var schools: [School]
    private var byKey: [String: String] = [:]

    public init(_ schools: [School] = []) {
        self.schools = schools.sorted { $0.code < $1.code }
        for s in self.schools {
            for spelling in [s.code, s.name] + s.aliases { byKey[Self.key(spelling)] = s.code }
        }
    }

    public var isEmpty: Bool { schools.isEmpty }

    /// The code of the school `name` names (its code, name or another spelling; case, width and spaces folded).
    public func code(for name: String) -> String? { byKey[Self.key(name)] }

    /// The school's name, if the list has it.
    public func name(of code: String) -> String? { schools.first { $0.code == code }?.name }

    /// How spellings are compared: NFKC, case-folded, without spaces or brackets' width differences.
    public static func key(_ s: String) -> String {
        s.precomposedStringWithCompatibilityMapping.lowercased().filter { !$0.isWhitespace }
    }
}
