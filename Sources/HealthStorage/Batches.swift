public import HealthCore

/// What kind of screening a batch holds.
public enum ScreeningKind: String, Sendable, CaseIterable {
    case vision, spine, fitness, psych

    package var table: ScreeningTable {
        switch self {
        case .vision: return .vision
        case .spine: return .spine
        case .fitness: return .fitness
        case .psych: return .psych
        }
    }
}

/// The facts about one imported file that its batch records.
public struct BatchHeader: Sendable {
    public var kind: ScreeningKind
    public var fileName: String
    public var sha256: String
    public var fileBytes: Int
    public var encoding: String
    public var profile: String
    public var ruleVersion: String

    public init(kind: ScreeningKind, fileName: String, sha256: String, fileBytes: Int, encoding: String, profile: String, ruleVersion: String) {
        self.kind = kind; self.fileName = fileName; self.sha256 = sha256; self.fileBytes = fileBytes
        self.encoding = encoding; self.profile = profile; self.ruleVersion = ruleVersion
    }
}

/// What writing one record did.
public enum WriteOutcome: Equatable, Sendable {
    case inserted
    /// A corrected value: the previous values were kept as a revision.
    case updated
    case unchanged
    /// The same student and screening date already came earlier in this file (first occurrence wins).
    case duplicateInFile(firstLine: Int, identical: Bool)
}

/// A repeated student and date found only when the bulk load rebuilt its unique index.
public struct LateDuplicate: Equatable, Sendable {
    public var line: Int
    public var firstLine: Int
    public var identical: Bool
    package init(line: Int, firstLine: Int, identical: Bool) {
        self.line = line; self.firstLine = firstLine; self.identical = identical
    }
}

/// How a file's batch ended.
public enum BatchOutcome: Equatable, Sendable {
    /// A file with the same SHA-256 was imported before; nothing was written.
    case alreadyImported(batch: Int64, importedAt: String)
    case committed(batch: Int64)
    /// Dry run, or the importer decided to keep nothing (e.g. --strict with a rejected row).
    case rolledBack(batch: Int64)
}

/// Whether to keep what a batch wrote.
public enum ImportDecision: Sendable { case commit, rollback }

/// The counts a batch records in `import_batch`.
public struct BatchCounts: Sendable, Equatable {
    public var rowsRead = 0, inserted = 0, updated = 0, unchanged = 0, rejected = 0
    public init() {}
}

/// A value of one column of a row being written (the backends bind it, or write it into a COPY stream).
public enum StoreValue: Equatable, Sendable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
}

/// A fitness test as the national template carries it, ready to store.
public struct FitnessRecord: Sendable, Equatable {
    /// Scores or grades the file itself carries (computed elsewhere), kept and compared, never overwritten.
    public struct External: Sendable, Equatable {
        public var standardHundredths: Int?
        public var bonusHundredths: Int?
        public var totalHundredths: Int?
        public var band: FitnessBand?
        public init(standardHundredths: Int? = nil, bonusHundredths: Int? = nil, totalHundredths: Int? = nil, band: FitnessBand? = nil) {
            self.standardHundredths = standardHundredths; self.bonusHundredths = bonusHundredths
            self.totalHundredths = totalHundredths; self.band = band
        }
        public var isEmpty: Bool { standardHundredths == nil && bonusHundredths == nil && totalHundredths == nil && band == nil }
    }
    public var studentID: StudentID
    public var schoolYear: Int
    public var testDate: CivilDate?
    /// nil: take it from the student's known enrolment.
    public var schoolCode: String?
    /// The grade code as written in the file (the test's grade is the one used for scoring).
    public var grade: Int
    public var classCode: String?
    public var className: String?
    public var birthDate: CivilDate?
    public var test: FitnessTest
    public var external: External

    public init(studentID: StudentID, schoolYear: Int, testDate: CivilDate?, schoolCode: String?, grade: Int, classCode: String?,
                className: String?, birthDate: CivilDate?, test: FitnessTest, external: External) {
        self.studentID = studentID; self.schoolYear = schoolYear; self.testDate = testDate; self.schoolCode = schoolCode
        self.grade = grade; self.classCode = classCode; self.className = className; self.birthDate = birthDate
        self.test = test; self.external = external
    }
}

/// What writing a fitness test did.
public enum FitnessWriteOutcome: Equatable, Sendable {
    case written(WriteOutcome, school: String)
    /// No school given and none known for the student.
    case unplaced
}
