import Foundation

/// Which column of a file holds which field, decided from the header line and the profiles.
struct HeaderMap {
    let profile: ColumnProfile
    /// Field key → column index.
    let index: [String: Int]
    /// Header text as written in the file, per column.
    let headers: [String]
    /// Headers no field claimed.
    let ignored: [String]

    func column(_ key: String) -> Int? { index[key] }
    func header(_ key: String) -> String { index[key].map { headers[$0] } ?? key }
}

enum HeaderMatcher {
    /// Trimmed, case-folded, NFKC (full-width → half-width), without spaces, underscores or a BOM.
    static func normalize(_ header: String) -> String {
        header.precomposedStringWithCompatibilityMapping
            .lowercased()
            .filter { !$0.isWhitespace && $0 != "_" && $0 != "\u{FEFF}" && $0 != "\"" }
    }

    /// Picks the profile that covers every required field and claims the most columns.
    /// `fixedFields` are supplied from outside the file (e.g. --school), so they need no column.
    static func match(headers: [String], profiles: [ColumnProfile], file: String, preferred: String?,
                      fixedFields: Set<String> = []) throws(IngestError) -> HeaderMap {
        let candidates = preferred.map { name in profiles.filter { $0.name == name } } ?? profiles
        if candidates.isEmpty { throw .noProfile(file: file, kind: preferred ?? "?") }
        let normalized = headers.map(normalize)
        var best: (map: HeaderMap, claimed: Int)?
        var bestMissing: (profile: ColumnProfile, missing: [ColumnProfile.Field])?
        for profile in candidates {
            var index: [String: Int] = [:]
            for field in profile.fields {
                let aliases = Set(field.aliases.map(normalize) + [normalize(field.key)])
                let columns = normalized.indices.filter { aliases.contains(normalized[$0]) }
                if columns.count > 1 { throw .ambiguousColumn(file: file, field: field.key, headers: columns.map { headers[$0] }) }
                if let c = columns.first { index[field.key] = c }
            }
            let missing = profile.fields.filter { $0.required && index[$0.key] == nil && !fixedFields.contains($0.key) }
            if missing.isEmpty {
                let claimed = Set(index.values)
                let map = HeaderMap(profile: profile, index: index, headers: headers,
                                    ignored: headers.indices.filter { !claimed.contains($0) && !normalized[$0].isEmpty }.map { headers[$0] })
                if best == nil || claimed.count > best!.claimed { best = (map, claimed.count) }
            } else if bestMissing == nil || missing.count < bestMissing!.missing.count {
                bestMissing = (profile, missing)
            }
        }
        if let best { return best.map }
        let (profile, missing) = bestMissing!
        throw .missingColumns(file: file, profile: profile.name, missing: missing.map { ($0.key, $0.aliases) })
    }
}
