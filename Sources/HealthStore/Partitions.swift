internal import HealthStorage
internal import GRDB

/// Screening tables stored one table per year (`vision_screening_2025`, `fitness_test_2024`), each with its
/// own unique key index, behind a view with the table's name (`vision_screening`) that reads them all.
///
/// Why: a school year's screenings are a new set of rows. In one table every new row lands somewhere in a
/// key index that already holds every earlier year, so an import slowed as the database grew (to 46 % of
/// the empty-database rate at 9 M rows). With a table per year, a new year's file is bulk-loaded into an
/// empty table, and a correction touches only its own year.
///
/// Row ids are unique across a table's years: each year's ids start at `year × 10⁹ + 1` (the first row is
/// inserted with that id; SQLite numbers the next ones from the largest).
enum Partitions {
    /// The physical table of `table` for `year`.
    static func name(_ table: ScreeningTable, year: Int) -> String { "\(table.name)_\(year)" }

    /// The years that have a table, oldest first, with the table's name.
    static func all(_ db: Database, _ table: ScreeningTable) throws -> [(year: Int, name: String)] {
        try all(db, table: table.name)
    }

    /// The years of the table named `table` (as a migration step knows it).
    static func all(_ db: Database, table: String) throws -> [(year: Int, name: String)] {
        try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB ?",
                            arguments: ["\(table)_[0-9][0-9][0-9][0-9]"])
            .compactMap { name in Int(name.suffix(4)).map { (year: $0, name: name) } }
            .sorted { $0.year < $1.year }
    }

    /// The id of the first row of `year`'s table.
    static func firstID(year: Int) -> Int64 { Int64(year) * 1_000_000_000 + 1 }

    /// Creates the year's table and key index with today's columns (the view is not refreshed: see
    /// `refreshView`). Used at import time, after every migration step has run.
    @discardableResult
    static func create(_ db: Database, _ table: ScreeningTable, year: Int) throws -> String {
        let physical = name(table, year: year)
        try db.execute(sql: table.createSQL(named: physical))
        try db.execute(sql: table.keyIndex(on: physical).createSQL)
        return physical
    }

    /// Recreates the view named after the table over all its years, with today's columns.
    static func refreshView(_ db: Database, _ table: ScreeningTable) throws {
        try refreshView(db, table: table.name, columns: ["id"] + table.storedColumns)
    }

    /// Recreates the view `table` over all its years with `columns` (a migration step passes its own list).
    static func refreshView(_ db: Database, table: String, columns: [String]) throws {
        let parts = try all(db, table: table).map { "SELECT \(columns.joined(separator: ", ")) FROM \($0.name)" }
        let body = parts.isEmpty
            ? "SELECT " + columns.map { "NULL AS \($0)" }.joined(separator: ", ") + " WHERE 0"
            : parts.joined(separator: "\nUNION ALL ")
        try db.execute(sql: "DROP VIEW IF EXISTS \(table)")
        try db.execute(sql: "CREATE VIEW \(table) AS\n\(body)")
    }
}
