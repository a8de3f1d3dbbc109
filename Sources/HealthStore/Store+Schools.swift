internal import HealthStorage
public import HealthCore
internal import GRDB

/// What importing a school list did.
public struct SchoolListChange: Sendable, Equatable, Codable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public init() {}
}

extension Store {
    /// The county's schools, by code.
    public func schools() throws(StoreError) -> [School] {
        try run { db in try schoolRows(db) }
    }

    /// Adds or updates `schools` by code in one transaction; schools not in the list stay. Each school's other
    /// spellings become the ones given (`key` folds case, width and spaces, as matching does).
    public func saveSchools(_ schools: [School], key: (String) -> String) throws(StoreError) -> SchoolListChange {
        do {
            return try queue.write { db in
                var change = SchoolListChange()
                let before = Dictionary(uniqueKeysWithValues: try schoolRows(db).map { ($0.code, $0) })
                for school in schools {
                    if let old = before[school.code] {
                        if old == school { change.unchanged += 1; continue }
                        change.updated += 1
                    } else {
                        change.inserted += 1
                    }
                    try db.execute(sql: """
                        INSERT INTO school (code, name, stage) VALUES (?, ?, ?)
                        ON CONFLICT(code) DO UPDATE SET name = excluded.name, stage = excluded.stage
                        """, arguments: [school.code, school.name, school.stage?.rawValue])
                    try db.execute(sql: "DELETE FROM school_alias WHERE code = ?", arguments: [school.code])
                    for alias in school.aliases {
                        try db.execute(sql: "INSERT OR REPLACE INTO school_alias (alias, code, written) VALUES (?, ?, ?)",
                                       arguments: [key(alias), school.code, alias])
                    }
                }
                return change
            }
        } catch {
            throw StoreError(error, path: path)
        }
    }

    func schoolRows(_ db: Database) throws -> [School] {
        let aliases = Dictionary(grouping: try Row.fetchAll(db, sql: "SELECT code, written FROM school_alias ORDER BY written"), by: { $0["code"] as String })
        return try Row.fetchAll(db, sql: "SELECT code, name, stage FROM school ORDER BY code").map { row in
            let code: String = row["code"]
            return School(code: code, name: row["name"], stage: (row["stage"] as String?).flatMap(SchoolStage.init(rawValue:)),
                          aliases: (aliases[code] ?? []).map { $0["written"] })
        }
    }
}
