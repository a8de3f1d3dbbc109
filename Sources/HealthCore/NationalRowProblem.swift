/// Why a student's row is not written (the template cannot hold what is stored), or what the platform will say.
public enum NationalRowProblem: Sendable, Equatable {
    case noFitnessTest
    case noVisionScreening
    case refractionMissing(eyes: String)
    case acuityMissing(eyes: String)
    case acuityOutOfRange(String)
    /// Written, but the platform requires these items for the grade.
    case incomplete(String)

    /// Whether the row is left out of the file.
    public var leavesRowOut: Bool { if case .incomplete = self { return false } else { return true } }

    public var reason: ReasonText {
        switch self {
        case .noFitnessTest: return "no fitness test this school year: the template needs one"
        case .noVisionScreening: return "no vision screening this school year: the template needs one"
        case .refractionMissing(let eyes): return "no sphere, cylinder and axis for the \(ReasonText(value: eyes)) eye: the template requires them"
        case .acuityMissing(let eyes): return "no uncorrected acuity for the \(ReasonText(value: eyes)) eye: the template requires it"
        case .acuityOutOfRange(let value): return "uncorrected acuity \(value) is outside the template's 3.0–5.3"
        case .incomplete(let items):
            let parts = items.split(separator: ",").map { ReasonText(value: String($0.drop { $0 == " " })) }
            return "written with empty cells: the platform requires \(ReasonText.joined(parts, separator: ", ")) for this grade"
        }
    }
}
