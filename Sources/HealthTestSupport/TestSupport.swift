public import Foundation

/// Paths and scratch space for the test targets.
public enum TestSupport {
    /// The repository root, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/<relative>`.
    public static func fixture(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
    }

    /// The repository's `Config/` folder.
    public static var configDirectory: String { repositoryRoot.appendingPathComponent("Config").path }

    /// A new empty folder under the system's temporary directory.
    public static func temporaryDirectory(_ name: String = "test") -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("schoolhealth-\(name)-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` to a new file in a temporary folder and returns its path.
    public static func writeTemporary(_ text: String, name: String = "input.csv") -> String {
        let path = temporaryDirectory("file") + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}
