import HealthCore
import HealthIngest
public import HealthAnalytics
public import HealthRisk
public import Foundation
import Synchronization
import HealthStore

/// What a trend report covers.
public struct TrendRequest: Sendable {
    public var from: Int?
    public var to: Int?
    /// Only these schools (the county total always covers all); empty: every school.
    public var schools: [String] = []
    public var breakdown: Breakdown = .none
    /// Off only for a health-office account, and then logged.
    public var suppress = true
    /// Who asks (needed to turn suppression off; the web passes the logged-in account).
    public var actor: Actor?
    /// What the audit log says was asked (the command line, or the page's query).
    public var purpose = ""
    public var language: Language = .en

    public init(from: Int? = nil, to: Int? = nil, schools: [String] = [], breakdown: Breakdown = .none, suppress: Bool = true,
                actor: Actor? = nil, purpose: String = "", language: Language = .en) {
        self.from = from; self.to = to; self.schools = schools; self.breakdown = breakdown; self.suppress = suppress
        self.actor = actor; self.purpose = purpose; self.language = language
    }
}

/// Trend reports: years defaulted from the data, rule versions filled in, suppression on unless the health office
/// turns it off (logged).
public struct ReportService: Sendable {
    let services: SchoolHealthServices

    public func trends(_ request: TrendRequest) async throws(ServiceError) -> TrendReport {
        try await built(request).report
    }

    /// The report as `encode` writes it (e.g. the API's JSON), kept with the built report: the same question is
    /// not encoded again while the database and the schools' names are unchanged.
    public func encoded(_ request: TrendRequest, format: String, _ encode: @escaping @Sendable (TrendReport) throws -> Data) async throws(ServiceError) -> Data {
        let (key, report) = try await built(request)
        let rendered = RenderedReportKey(built: key, format: format, names: report.schoolNames.sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value })
        if let data = services.renderedReports.withLock({ $0[rendered] }) { return data }
        let services = self.services
        return try await offload {
            let data = try encode(report)
            services.renderedReports.withLock { kept in
                kept = kept.filter { $0.key.built.stamp == key.stamp }
                if kept.count >= SchoolHealthServices.builtReportLimit { kept.removeAll() }
                kept[rendered] = data
            }
            return data
        }
    }

    func built(_ request: TrendRequest) async throws(ServiceError) -> (key: BuiltReportKey, report: TrendReport) {
        let services = self.services
        return try await offload {
            let screenings = services.screenings
            if !request.suppress {
                // Unsuppressed figures identify children: only the health office, and never unrecorded.
                guard let actor = request.actor else {
                    throw ServiceError(.unauthenticated, key: "error.auth", message: "unsuppressed figures need a health-office account", remedy: .login)
                }
                let store = try services.store
                guard actor.role == .healthOffice else {
                    try store.recordEvent(actor: actor, action: "refused unsuppressed report", detail: request.purpose)
                    throw ServiceError(.forbidden, key: "error.forbidden", message: "only a health-office account may produce unsuppressed figures")
                }
                try store.recordEvent(actor: actor, action: "report without suppression", detail: request.purpose)
            }
            let state = try services.reportState()
            let available = try state.years ?? screenings.reportYears()
            guard let first = request.from ?? available.first, let last = request.to ?? available.last else {
                throw ServiceError(.notFound, key: "dashboard.noData", message: "\(screenings.location): no screenings to report on")
            }
            guard first <= last else { throw ServiceError(.invalid, key: "error.badRequest", message: "the first year \(first) is after the last \(last)") }
            let settings = services.reportSettings
            let counts = try services.reportCounts(first: first, last: last, latest: settings.countScreening == "latest", stamp: state.stamp)
            let names = Dictionary(uniqueKeysWithValues: state.schools.map { ($0.code, $0.name) })
            let key = BuiltReportKey(stamp: counts.stamp, first: first, last: last, schools: request.schools, breakdown: request.breakdown.rawValue,
                                     suppress: request.suppress, language: request.language.rawValue)
            if var built = services.builtReports.withLock({ $0[key] }) {
                built.schoolNames = names
                return (key, built)
            }
            var builder = TrendReportBuilder(settings: settings, years: Array(first...last), schools: request.schools.isEmpty ? nil : request.schools,
                                             breakdown: request.breakdown, suppress: request.suppress)
            builder.title = services.messages.text("report.title", ["from": String(first), "to": String(last)], in: request.language)
            let config = services.config
            var report = builder.build(strata: counts.strata, followUps: counts.followUps, followUpDays: counts.days, generated: ISO8601DateFormatter().string(from: services.now()),
                                       ruleVersions: ["vision": config.vision.versionTag, "spine": config.spine.versionTag,
                                                      "fitness": config.fitness.versionTag, "report": settings.version,
                                                      "follow-up": config.followUp.versionTag])
            report.schoolNames = names
            services.builtReports.withLock { built in
                built = built.filter { $0.key.stamp == key.stamp }
                if built.count >= SchoolHealthServices.builtReportLimit { built.removeAll() }
                built[key] = report
            }
            return (key, report)
        }
    }

    /// How a report says its words in `language` (the HTML report's headings, notes and chart labels).
    public func words(_ language: Language) -> ReportWords {
        let messages = services.messages
        return ReportWords(language: language == .zh ? "zh-CN" : "en") { messages.reason($0, in: language) }
    }

    /// The report as a file: its text (CSV with a BOM, so Excel opens UTF-8) and its media type; the HTML report in
    /// `language`.
    public func render(_ report: TrendReport, _ format: ReportFormat, language: Language = .en) throws(ServiceError) -> (text: String, mediaType: String) {
        do {
            let text = try report.render(format, words: words(language))
            switch format {
            case .csv: return ("\u{FEFF}" + text, "text/csv; charset=utf-8")
            case .json: return (text, "application/json; charset=utf-8")
            case .html: return (text, "text/html; charset=utf-8")
            case .md: return (text, "text/markdown; charset=utf-8")
            }
        } catch { throw ServiceError(error) }
    }
}

extension SchoolHealthServices {
    /// What a report reads first: the change stamp, the years when they are known without counting, the schools.
    func reportState() throws -> (stamp: [Int64], years: [Int]?, schools: [School]) {
        if let sqlite { return try sqlite.reportState() }
        return (try screenings.changeStamp(), nil, try screenings.schools())
    }

    /// The report's counts for the years: the cached ones while the database is unchanged, else read again. The
    /// stamp is read before the counts, so a change while they are read only makes the next call read again.
    func reportCounts(first: Int, last: Int, latest: Bool, stamp given: [Int64]? = nil) throws -> ReportCounts {
        let stamp = try given ?? screenings.changeStamp()
        let key = CountsKey(first: first, last: last, latest: latest)
        func kept() -> ReportCounts? {
            reportCounts.withLock { $0[key] }.flatMap { $0.stamp == stamp ? $0 : nil }
        }
        if let kept = kept() { return kept }
        // While another request counts (after an upload), the counts it replaces are served rather than waited
        // for: the report shows the database as it was a moment before (its stamp is the older one). A request
        // that finds no count under way counts itself, so someone who uploads and then looks sees the upload.
        if countingNow.load(ordering: .acquiring), let previous = reportCounts.withLock({ $0[key] }) {
            return previous
        }
        // One count at a time: sixteen dashboards after an upload would otherwise count sixteen times.
        return try countingLock.withLock { _ in
            if let kept = kept() { return kept }
            countingNow.store(true, ordering: .releasing)
            defer { countingNow.store(false, ordering: .releasing) }
            return try countAgain(stamp: stamp, first: first, last: last, latest: latest)
        }
    }

    private func countAgain(stamp: [Int64], first: Int, last: Int, latest: Bool) throws -> ReportCounts {
        let all = try everyYear(stamp: stamp, latest: latest)
        let span = first...last
        let counts = ReportCounts(stamp: stamp, first: first, last: last, latest: latest, strata: all.strata.filter { span.contains($0.year) },
                                  followUps: all.followUps.filter { $0.fromYear >= first && $0.fromYear < last },
                                  days: all.days.filter { span.contains($0.year) })
        // Kept per span (the dashboard and the API ask for different ones); spans of older stamps go when there are many.
        reportCounts.withLock { kept in
            if kept.count >= 8 { kept = kept.filter { $0.value.stamp == stamp } }
            kept[CountsKey(first: first, last: last, latest: latest)] = counts
        }
        return counts
    }

    /// Every year's counts at `stamp` (the screenings' and the screening loop's), read once for all spans: the
    /// dashboard and the API ask for different spans, and the loop's coverage is not kept in the database.
    private func everyYear(stamp: [Int64], latest: Bool) throws -> ReportCounts {
        if let all = everyYearCounts.withLock({ $0[latest] }), all.stamp == stamp { return all }
        let data = try screenings.reportData(fromYear: 0, toYear: 9999, latest: latest)
        // The screening loop (notices, clinic results) is kept by the SQLite store only.
        let loop = sqlite == nil ? (strata: [], days: []) : try followUp.reportInputs(years: 0...9999)
        let all = ReportCounts(stamp: stamp, first: 0, last: 9999, latest: latest, strata: data.strata + loop.strata,
                               followUps: data.followUps, days: loop.days)
        everyYearCounts.withLock { $0[latest] = all }
        return all
    }
}
