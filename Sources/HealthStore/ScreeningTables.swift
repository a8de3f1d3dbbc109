internal import HealthStorage

/// An index that a bulk load may drop and rebuild inside its transaction.
struct IndexSpec {
    let name: String
    let table: String
    let columns: [String]
    let unique: Bool
    var createSQL: String {
        "CREATE \(unique ? "UNIQUE " : "")INDEX \(name) ON \(table)(\(columns.joined(separator: ", ")))"
    }
}

extension YearKey {
    /// The year as SQL over the table's columns.
    var expression: String {
        switch self {
        case .calendarYearOfDate: return "CAST(substr(screening_date, 1, 4) AS INTEGER)"
        case .schoolYear: return "school_year"
        }
    }
}

extension ScreeningTable {
    /// The key index of the physical table `physical`: unique on the key, or the key and the report's columns.
    func keyIndex(on physical: String) -> IndexSpec {
        IndexSpec(name: "\(physical)_key", table: physical, columns: keyColumns.map(\.name) + (reportColumns ?? []),
                  unique: reportColumns == nil)
    }

    func createSQL(named physical: String) -> String {
        let cols = columns.map { "    \($0.name) \($0.type)\($0.notNull ? " NOT NULL" : "")" }
        let book = [
            "    batch_id INTEGER NOT NULL REFERENCES import_batch(id)",
            "    source_line INTEGER NOT NULL",
        ]
        return "CREATE TABLE \(physical) (\n    id INTEGER PRIMARY KEY,\n"
            + (cols + book).joined(separator: ",\n") + "\n)"
    }
}
