import Logging
public import HealthCore
public import HealthIngest
public import HealthRisk
import Foundation
public import HealthStore

/// What an import is asked to do, beyond the file itself.
public struct ImportRequest: Sendable {
    public var kind: ScreeningKind
    public var options: ImportOptions
    /// A profile name from `Config/profiles`, or a `.yaml` file defining one.
    public var profile: String?
    public init(kind: ScreeningKind, options: ImportOptions = ImportOptions(), profile: String? = nil) {
        self.kind = kind; self.options = options; self.profile = profile
    }
}

/// What an upload gave: the file's report, the first rejected values for the page, and the full list as a CSV.
public struct UploadOutcome: Sendable {
    public var report: FileReport
    public var firstRejections: [Rejection]
    /// The rejects CSV (UTF-8 with BOM; Excel opens it), when anything was rejected.
    public var rejectsPath: String?
}

/// Imports: from a path (the CLI) or from an upload spooled to disk and inspected on the way (the web).
public struct ImportService: Sendable {
    let services: SchoolHealthServices

    /// The configuration with a profile given as a file loaded, and the profile's name.
    public func configuration(profile: String?) throws(ServiceError) -> (SchoolHealthConfig, String?) {
        guard let p = profile, p.hasSuffix(".yaml") || p.hasSuffix(".yml") else { return (services.config, profile) }
        let config = try SchoolHealthServices.loadConfig(services.configDirectory, extraProfiles: [p])
        return (config, config.profiles.last?.name)
    }

    /// Imports one file. Rejected rows go to `rejects` (and disagreeing scores to `disagreements`, or to `rejects`).
    /// Throws when the whole file is refused; then nothing of it is stored.
    public func importFile(path: String, _ request: ImportRequest, rejects: any RejectionSink,
                           disagreements: (any RejectionSink)? = nil) async throws(ServiceError) -> FileReport {
        let (config, profileName) = try configuration(profile: request.profile)
        var options = request.options
        options.profile = profileName
        let importer = FileImporter(store: services.store, config: config)
        let sinks = Handoff(value: (rejects, disagreements))
        let chosen = options
        return try await offload {
            try importer.importFile(path: path, kind: request.kind, options: chosen, rejects: sinks.value.0, disagreements: sinks.value.1)
        }
    }

    /// Imports an upload for the actor's school: only a nurse, only for her own school (rows of another school are
    /// rejected). The upload was inspected while it was spooled, so it is not read again for its identity.
    public func importUpload(_ upload: SpooledUpload, _ request: ImportRequest, actor: Actor, rejectsDirectory: String) async throws(ServiceError) -> UploadOutcome {
        let school = actor.organisation
        guard Access.canImport(actor, school: school) else {
            throw ServiceError(.forbidden, key: "error.forbidden", message: "only a school's nurse uploads its screenings")
        }
        var request = request
        request.options.school = school
        request.options.onlyGivenSchool = true
        request.options.inspection = upload.inspection
        request.options.displayName = upload.fileName
        let preview = RejectionList(limit: 200)
        let rejectsPath = rejectsDirectory + "/" + upload.id + ".rejects.csv"
        let file = RejectsFile(path: rejectsPath)
        do { try file.begin() } catch { throw ServiceError(.unavailable, key: "error.database", message: "\(rejectsPath): \(error)") }
        defer { file.close() }
        let tee = TeeSink([preview, file])
        var report: FileReport
        do {
            report = try await importFile(path: upload.path, request, rejects: tee)
        } catch {
            report = FileReport(file: upload.fileName, status: .refused)
            report.error = error.description
        }
        if let batch = report.batch, report.status == .imported {
            let store = services.store
            try await offload { try store.recordUpload(batch: batch, school: school, actor: actor) }
        }
        services.logger.info("upload", metadata: ["account": "\(actor.user)", "kind": "\(request.kind)", "status": "\(report.status.rawValue)",
                                                  "rows": "\(report.rowsRead)", "rejected": "\(report.rejected)"])
        return UploadOutcome(report: report, firstRejections: preview.rejections, rejectsPath: file.written > 0 ? rejectsPath : nil)
    }

    /// A school's import history (its nurse only).
    public func uploads(actor: Actor) async throws(ServiceError) -> [UploadRecord] {
        let store = services.store
        return try await offload { try store.uploads(school: actor.organisation, actor: actor) }
    }
}

/// Hands every rejection to several sinks (the page's first rows and the full CSV).
final class TeeSink: RejectionSink {
    let sinks: [any RejectionSink]
    init(_ sinks: [any RejectionSink]) { self.sinks = sinks }
    func add(_ rejection: Rejection) throws { for s in sinks { try s.add(rejection) } }
    func seal() throws { for s in sinks { try s.seal() } }
    func settle(kept: Bool) { for s in sinks { s.settle(kept: kept) } }
}
