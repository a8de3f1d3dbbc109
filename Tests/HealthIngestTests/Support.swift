import HealthTestSupport

enum HealthTestSupportPaths {
    static var config: String { TestSupport.configDirectory }
}
