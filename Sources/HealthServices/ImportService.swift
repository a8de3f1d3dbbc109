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
    /// What the file holds: screenings of `kind`, a school's student list (学籍名单), or clinics' results for notices.
    public enum Target: Sendable { case screenings, roster, clinicResults }
    public var target = Target.screenings
    /// The file is a student list or results, not screenings (`kind` is then not used).
    public var isList: Bool { target != .screenings }
    public init(kind: ScreeningKind, options: ImportOptions = ImportOptions(), profile: String? = nil) {
        self.kind = kind; self.options = options; self.profile = profile
    }
    /// A student list for `options.schoolYear`.
    public static func roster(options: ImportOptions) -> ImportRequest {
        var request = ImportRequest(kind: .vision, options: options)
        request.target = .roster
        return request
    }
    /// Clinics' results for the notices (`kind`: "vision" or "spine" for files that do not say).
    public static func clinicResults(options: ImportOptions, kind: String? = nil) -> ImportRequest {
        var request = ImportRequest(kind: .vision, options: options)
        request.target = .clinicResults
        request.resultKind = kind
        return request
    }
    public var resultKind: String?
}

/// What an upload gave: the file's report, the first rejected values for the page, and the full list as a CSV.
public struct UploadOutcome: Sendable {
    public var report: FileReport
    public var firstRejections: [Rejection]
    /// The rejects CSV (UTF-8 with BOM; Excel opens it), when anything was rejected.
    public var rejectsPath: String?
    /// When the file was refused because required fields have no column but some columns were not read: how
    /// its head was read, for the mapping step (`ImportService.mapUpload`).
    public var mapping: LayoutInspection?
}

/// Imports: from a path (the CLI) or from an upload spooled to disk and inspected on the way (the web).
public struct ImportService: Sendable {
    let services: SchoolHealthServices

    /// The configuration with a profile given as a file loaded and the profiles `school` saved added, and the
    /// profile's name.
    public func configuration(profile: String?, school: String? = nil) async throws(ServiceError) -> (SchoolHealthConfig, String?) {
        var config = services.config
        var name = profile
        if let p = profile, p.hasSuffix(".yaml") || p.hasSuffix(".yml") {
            config = try SchoolHealthServices.loadConfig(services.configDirectory, extraProfiles: [p])
            name = config.profiles.last?.name
        }
        if let school {
            let store = try services.store
            let saved = try await offload { try store.schoolProfiles(school: school) }
            do { config = try config.adding(profiles: saved.map { ($0.yaml, "profile \($0.name) of school \(school)") }) } catch {
                throw ServiceError(.configuration, key: "error.config", message: error.description)
            }
        }
        return (config, name)
    }

    /// Imports one file. Rejected rows go to `rejects` (and disagreeing scores to `disagreements`, or to `rejects`).
    /// Throws when the whole file is refused; then nothing of it is stored.
    public func importFile(path: String, _ request: ImportRequest, rejects: any RejectionSink,
                           disagreements: (any RejectionSink)? = nil) async throws(ServiceError) -> FileReport {
        let (config, profileName) = try await configuration(profile: request.profile, school: request.options.school)
        var options = request.options
        options.profile = profileName
        let importer = FileImporter(store: try services.importStore(), config: config)
        let sinks = Handoff(value: (rejects, disagreements))
        let chosen = options
        return try await offload {
            try importer.importFile(path: path, kind: request.kind, options: chosen, rejects: sinks.value.0, disagreements: sinks.value.1)
        }
    }

    /// Imports a school's student list (学籍名单) for `options.schoolYear`; `actor`, when given, is logged.
    public func importRoster(path: String, options: ImportOptions, actor: Actor?, rejects: any RejectionSink) async throws(ServiceError) -> FileReport {
        let importer = RosterImporter(store: try services.store, config: services.config)
        let sink = Handoff(value: rejects)
        return try await offload { try importer.importFile(path: path, options: options, actor: actor, rejects: sink.value) }
    }

    /// Imports an upload for the actor's school: only a nurse, only for her own school (rows of another school are
    /// rejected). The upload was inspected while it was spooled, so it is not read again for its identity.
    /// The rejects CSV is written in `language` (its heading, the whole-row column and the reasons).
    public func importUpload(_ upload: SpooledUpload, _ request: ImportRequest, actor: Actor, rejectsDirectory: String,
                             language: Language = .zh) async throws(ServiceError) -> UploadOutcome {
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
        let messages = services.messages
        let file = RejectsFile(path: rejectsPath, headings: messages.rejectsHeadings(language), words: { messages.rejection($0, in: language) })
        do { try file.begin() } catch { throw ServiceError(.unavailable, key: "error.database", message: "\(rejectsPath): \(error)") }
        defer { file.close() }
        let tee = TeeSink([preview, file])
        var report: FileReport
        do {
            switch request.target {
            case .roster: report = try await importRoster(path: upload.path, options: request.options, actor: actor, rejects: tee)
            case .clinicResults:
                report = try await services.followUp.importResults(path: upload.path, options: request.options, kind: request.resultKind, actor: actor, rejects: tee)
            case .screenings: report = try await importFile(path: upload.path, request, rejects: tee)
            }
        } catch {
            report = FileReport(file: upload.fileName, status: .refused)
            report.error = error.detail(messages, language)
        }
        if let batch = report.batch, report.status == .imported, !request.isList {
            let store = try services.store
            try await offload { try store.recordUpload(batch: batch, school: school, actor: actor) }
        }
        var mapping: LayoutInspection?
        if report.status == .refused, !request.isList, let found = try? await inspect(upload, request), !found.missing.isEmpty, !found.layout.unmapped.isEmpty {
            mapping = found
        }
        services.logger.info("upload", metadata: ["account": "\(actor.user)", "kind": "\(request.kind)", "status": "\(report.status.rawValue)",
                                                  "rows": "\(report.rowsRead)", "rejected": "\(report.rejected)"])
        return UploadOutcome(report: report, firstRejections: preview.rejections, rejectsPath: file.written > 0 ? rejectsPath : nil,
                             mapping: mapping)
    }

    /// How an upload's head reads with the school's profiles (nothing is stored).
    func inspect(_ upload: SpooledUpload, _ request: ImportRequest, config given: SchoolHealthConfig? = nil) async throws(ServiceError) -> LayoutInspection {
        let config: SchoolHealthConfig
        if let given { config = given } else { config = try await configuration(profile: nil, school: request.options.school).0 }
        let options = request.options
        var found = try await offload { try LayoutInspector.inspect(path: upload.path, kind: request.kind, config: config, options: options) }
        found.file = upload.fileName
        return found
    }

    /// The mapping step: `choices` (column number → field key) for an upload refused for want of columns become a
    /// profile of the nurse's school — it extends the closest profile and applies only to files with the chosen
    /// headers — and the upload is imported with it. The choices must give every required field; otherwise
    /// nothing is saved. Later uploads of the same layout from the school are read with the profile.
    public func mapUpload(_ upload: SpooledUpload, _ request: ImportRequest, choices: [Int: String], actor: Actor,
                          rejectsDirectory: String, language: Language = .zh) async throws(ServiceError) -> UploadOutcome {
        let school = actor.organisation
        guard Access.canImport(actor, school: school) else {
            throw ServiceError(.forbidden, key: "error.forbidden", message: "only a school's nurse saves its column profiles")
        }
        var request = request
        request.options.school = school
        let store = try services.store
        let saved = try await offload { try store.schoolProfiles(school: school) }
        let schoolConfig: SchoolHealthConfig
        do { schoolConfig = try services.config.adding(profiles: saved.map { ($0.yaml, $0.name) }) } catch {
            throw ServiceError(.configuration, key: "error.config", message: error.description)
        }
        let found = try await inspect(upload, request, config: schoolConfig)
        let name = "school-\(school)-\(request.kind.rawValue)-\(saved.filter { $0.kind == request.kind.rawValue }.count + 1)"
        let yaml: String
        let trial: SchoolHealthConfig
        do {
            yaml = try LayoutInspector.profile(for: found, choices: choices, name: name, savedBy: actor.user)
            trial = try schoolConfig.adding(profiles: [(yaml, name)])
        } catch {
            throw ServiceError(.invalid, key: "mapping.invalid", ["detail": error.description], message: error.description)
        }
        var options = request.options
        options.profile = name
        let chosen = options
        let check: LayoutInspection
        do { check = try LayoutInspector.inspect(path: upload.path, kind: request.kind, config: trial, options: chosen) } catch {
            throw ServiceError(error)
        }
        if !check.missing.isEmpty {
            let labels = check.missing.map { key in found.openFields.first { $0.key == key }?.label ?? key }
            throw ServiceError(.invalid, key: "mapping.stillMissing", ["fields": labels.joined(separator: "、")],
                               message: "required fields still without a column: \(check.missing.joined(separator: ", "))")
        }
        let kind = request.kind.rawValue
        try await offload { try store.saveSchoolProfile(school: school, name: name, kind: kind, yaml: yaml, actor: actor) }
        services.logger.info("profile saved", metadata: ["account": "\(actor.user)", "school": "\(school)", "profile": "\(name)"])
        return try await importUpload(upload, request, actor: actor, rejectsDirectory: rejectsDirectory, language: language)
    }

    /// The column profiles a school saved (its nurse only).
    public func schoolProfiles(actor: Actor) async throws(ServiceError) -> [SchoolProfile] {
        guard Access.canImport(actor, school: actor.organisation) else {
            throw ServiceError(.forbidden, key: "error.forbidden", message: "a school's column profiles are its nurse's")
        }
        let store = try services.store
        let school = actor.organisation
        return try await offload { try store.schoolProfiles(school: school) }
    }

    /// A school's import history (its nurse only).
    public func uploads(actor: Actor) async throws(ServiceError) -> [UploadRecord] {
        let store = try services.store
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
