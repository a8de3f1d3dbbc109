import Foundation
import Synchronization

/// How the importer read a file's head: which lines were a title and which the header, the delimiter, and what
/// each column was mapped to. Part of every `FileReport`, and what `--inspect` prints.
public struct LayoutReport: Sendable, Codable, Equatable {
    public struct Column: Sendable, Codable, Equatable {
        /// 1-based, as a spreadsheet counts columns.
        public var number: Int
        /// The column's header as written: the labels of a merged head joined with "/" (`视力/左眼`).
        public var header: String
        /// The field it was mapped to, if any.
        public var field: String?
        /// Why it is not read, when it is not: not a field, a block that is not the screening, no header.
        public var note: String?
    }
    public var titleLines: [Int] = []
    public var headerLines: [Int] = []
    /// "," ";" or "tab".
    public var delimiter = ","
    public var profile = ""
    public var columns: [Column] = []

    /// The columns no field claimed (and not deliberately excluded), as written.
    public var unmapped: [Column] { columns.filter { $0.field == nil && $0.note == LayoutReport.notAField } }
    static let notAField = "not a field of the profile: ignored"
    static let unnamed = "no header: ignored"
}

/// A set of byte values (256 bits), e.g. the first bytes of a column's markers.
struct ByteSet {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ bytes: [UInt8] = []) { for b in bytes { insert(b) } }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    @inline(__always)
    func contains(_ b: UInt8?) -> Bool {
        guard let b else { return false }
        let word: UInt64
        switch b >> 6 {
        case 0: word = words.0
        case 1: word = words.1
        case 2: word = words.2
        default: word = words.3
        }
        return word & (UInt64(1) << UInt64(b & 63)) != 0
    }
}

/// A file's first rows, kept as text while the header is found.
struct PreludeRow {
    let line: Int
    /// Each cell trimmed, and cut to its first 200 characters (a longer cell is no header).
    let cells: [String]
    /// How many cells hold something.
    let filled: Int

    init(line: Int, cells: [String]) {
        self.line = line
        self.cells = cells.map { String($0.prefix(200)).trimmingCharacters(in: .whitespacesAndNewlines) }
        filled = self.cells.reduce(0) { $0 + (HeaderMatcher.normalize($1).isEmpty ? 0 : 1) }
    }
}

/// Which column of a file holds which field, decided from the header rows and the profiles. A class: every row
/// of a file is read against the same map, and passing it costs one reference, not a copy of its arrays.
final class HeaderMap {
    /// A column made from part of another: `裸眼视力（右/左）` split into its right and left values.
    struct VirtualColumn {
        let source: Int
        let part: Int
        let separator: [UInt8]
    }
    let profile: ColumnProfile
    /// Field key → column index (a virtual column's index follows the physical ones).
    let index: [String: Int]
    /// Header per column as written (physical, then virtual).
    let headers: [String]
    /// Physical columns of the header.
    let physicalCount: Int
    let virtual: [VirtualColumn]
    /// Per column: cell values meaning "not measured", and layout codes (value → what it stands for).
    let markers: [[[UInt8]]]
    /// Per column: the first bytes of its markers (bit per byte value), so most cells are cleared in one test.
    let markerStarts: [ByteSet]
    let codes: [[(code: [UInt8], value: [UInt8])]]
    /// The last line of the head: data starts after it.
    let lastHeaderLine: Int
    let layout: LayoutReport
    /// Per column: whether it has layout codes (checked before the codes are looked at).
    let hasCodes: [Bool]
    /// Per column: whether one of its markers has a digit in it (Shanghai's 9); if none has, a cell whose second
    /// byte is a digit or a point (-1.25) is a number, not a marker.
    let numericMarkers: [Bool]

    init(profile: ColumnProfile, index: [String: Int], headers: [String], physicalCount: Int, virtual: [VirtualColumn],
         markers: [[[UInt8]]], markerStarts: [ByteSet], codes: [[(code: [UInt8], value: [UInt8])]],
         lastHeaderLine: Int, layout: LayoutReport) {
        self.profile = profile; self.index = index; self.headers = headers; self.physicalCount = physicalCount
        self.virtual = virtual; self.markers = markers; self.markerStarts = markerStarts; self.codes = codes
        self.lastHeaderLine = lastHeaderLine; self.layout = layout
        hasCodes = codes.map { !$0.isEmpty }
        numericMarkers = markers.map { list in list.contains { m in m.contains { $0 >= 0x30 && $0 <= 0x39 } } }
    }

    /// Headers no field claimed.
    var ignored: [String] { layout.unmapped.map(\.header) }
    /// Columns deliberately not read (a block that is not the screening), with the reason.
    var excluded: [LayoutReport.Column] { layout.columns.filter { $0.field == nil && $0.note != LayoutReport.notAField && $0.note != LayoutReport.unnamed } }

    /// Whether `trimmed` (a cell of column `i`, trimmed) is one of the column's not-measured markers.
    func isMarker(_ trimmed: UnsafeBufferPointer<UInt8>, column i: Int) -> Bool {
        markerStarts[i].contains(trimmed.first) && markers[i].contains { $0.elementsEqual(trimmed) }
    }

    func column(_ key: String) -> Int? { index[key] }
    func header(_ key: String) -> String { index[key].map { headers[$0] } ?? key }

    /// The bytes of column `i` of `record`: a physical field, or the part of one that a virtual column reads.
    func cell(_ record: CSVRecord, _ i: Int) -> UnsafeBufferPointer<UInt8> {
        guard i >= physicalCount else { return record.field(i) }
        let v = virtual[i - physicalCount]
        let raw = FieldParsers.trimmed(record.field(v.source))
        var part = 0, start = 0, j = 0
        let sep = v.separator
        while j + sep.count <= raw.count {
            if (0..<sep.count).allSatisfy({ raw[j + $0] == sep[$0] }) {
                if part == v.part { return UnsafeBufferPointer(rebasing: raw[start..<j]) }
                part += 1
                j += sep.count
                start = j
            } else {
                j += 1
            }
        }
        return part == v.part ? UnsafeBufferPointer(rebasing: raw[start...]) : UnsafeBufferPointer(rebasing: raw[0..<0])
    }
}

enum HeaderMatcher {
    /// Trimmed, case-folded, NFKC (full-width → half-width), without spaces, underscores, a BOM, quotes or the
    /// `*` templates put after required columns.
    ///
    /// NFKC through Foundation costs some 20,000 instructions a string, so results are remembered (a profile
    /// set has a few hundred distinct aliases; a head a few dozen labels).
    static func normalize(_ header: String) -> String {
        if let known = normalized.withLock({ $0[header] }) { return known }
        let result = header.precomposedStringWithCompatibilityMapping
            .lowercased()
            .filter { !$0.isWhitespace && $0 != "_" && $0 != "\u{FEFF}" && $0 != "\"" && $0 != "*" }
        normalized.withLock { cache in
            if cache.count > 50_000 { cache.removeAll() }
            cache[header] = result
        }
        return result
    }
    private static let normalized = Mutex<[String: String]>([:])

    /// The forms an alias can match: the label itself, and, when it has "/", every path of labels it can name
    /// (a label may itself hold a "/": `视力低下情况/裸眼视力（右/左）` is the path 视力低下情况 › 裸眼视力（右/左）).
    static func forms(_ alias: String) -> [[String]] {
        let pieces = alias.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard pieces.count > 1, pieces.count <= 7 else { return [[normalize(alias)]] }
        var forms: [[String]] = []
        for cuts in 0..<(1 << (pieces.count - 1)) {
            var labels: [String] = [], current = pieces[0]
            for i in 1..<pieces.count {
                if cuts & (1 << (i - 1)) != 0 { labels.append(current); current = pieces[i] } else { current += "/" + pieces[i] }
            }
            labels.append(current)
            let normalized = labels.map(normalize)
            if !normalized.contains(where: \.isEmpty) { forms.append(normalized) }
        }
        return forms
    }

    /// Whether `form` names the column at `path`: its last label is the column's own, and its other labels
    /// are above it, in order. The result is the number of labels matched (more is more specific), or 0.
    static func specificity(_ form: [String], _ path: [String]) -> Int {
        guard let leaf = path.last, form.last == leaf else { return 0 }
        var j = 0
        for label in form.dropLast() {
            while j < path.count - 1 && path[j] != label { j += 1 }
            if j >= path.count - 1 { return 0 }
            j += 1
        }
        return form.count
    }

    /// The columns' paths for a head of `rows` (top to bottom; cells trimmed). A merged cell's label is in its top-left cell
    /// only: a blank cell continues the label to its left when every cell above it is blank too (a horizontal
    /// span), except in the last row; a blank below a label continues it downwards. Repeated labels in one column
    /// (a converter that filled merged cells) count once.
    static func paths(_ rows: [[String]], width: Int) -> [[String]] {
        let d = rows.count
        var filled = Array(repeating: Array(repeating: String?.none, count: width), count: d)
        let cell = { (r: Int, c: Int) -> String in c < rows[r].count ? rows[r][c] : "" }
        for r in 0..<d {
            for c in 0..<width {
                let v = cell(r, c)
                if !v.isEmpty {
                    filled[r][c] = v
                } else if d > 1, r < d - 1, c > 0, filled[r][c - 1] != nil, (0..<r).allSatisfy({ cell($0, c).isEmpty }) {
                    filled[r][c] = filled[r][c - 1]
                }
            }
        }
        return (0..<width).map { c in
            var path: [String] = []
            for r in 0..<d { if let v = filled[r][c], path.last != v { path.append(v) } }
            return path
        }
    }

    /// One way of reading the head with one profile.
    struct Attempt {
        var profile: ColumnProfile
        var index: [String: Int] = [:]
        var virtual: [HeaderMap.VirtualColumn] = []
        var virtualHeaders: [String] = []
        var missing: [ColumnProfile.Field] = []
        var ambiguous: (field: String, columns: [Int])?
        /// Every field left unmapped because two columns claim it.
        var ambiguousFields = Set<String>()
        var claimed = Set<Int>()
        /// Required fields missing for want of a column (not for an ambiguity).
        var unfound: Int { missing.filter { !ambiguousFields.contains($0.key) }.count }
    }

    /// Maps `paths` to `profile`'s fields. `excluded` columns are never mapped.
    /// A profile's aliases as normalised forms, computed once per file rather than once per way of reading it.
    struct ProfileForms {
        let profile: ColumnProfile
        let fields: [[[String]]]
        let pairs: [[[String]]]
        let signature: [[[String]]]
        let blocks: [String]
        init(_ profile: ColumnProfile) {
            self.profile = profile
            fields = profile.fields.map { f in (f.aliases + [f.key]).flatMap(HeaderMatcher.forms) }
            pairs = profile.pairs.map { $0.aliases.flatMap(HeaderMatcher.forms) }
            signature = profile.signature.map(HeaderMatcher.forms)
            blocks = profile.ignoreBlocks.map { HeaderMatcher.normalize($0.match) }
        }
    }

    static func attempt(_ profile: ColumnProfile, paths: [[String]], labels: [String], excluded: Set<Int>,
                        fixedFields: Set<String>) -> Attempt? {
        attempt(ProfileForms(profile), paths: paths, normalizedPaths: paths.map { $0.map(normalize) }, labels: labels,
                excluded: excluded, fixedFields: fixedFields)
    }

    static func attempt(_ forms: ProfileForms, paths: [[String]], normalizedPaths: [[String]], labels: [String], excluded: Set<Int>,
                        fixedFields: Set<String>) -> Attempt? {
        let profile = forms.profile
        // Columns by their own (last) label: an alias form can only match a column whose label is its last.
        var byLeaf: [String: [Int]] = [:]
        for (c, path) in normalizedPaths.enumerated() where !excluded.contains(c) {
            if let leaf = path.last { byLeaf[leaf, default: []].append(c) }
        }
        /// Column → how specifically the alias forms name it (only columns they name at all).
        func specs(_ aliasForms: [[String]]) -> [Int: Int] {
            var result: [Int: Int] = [:]
            for form in aliasForms {
                for c in byLeaf[form.last!] ?? [] {
                    let s = specificity(form, normalizedPaths[c])
                    if s > result[c] ?? 0 { result[c] = s }
                }
            }
            return result
        }
        func best(_ aliasForms: [[String]]) -> [Int] {
            let s = specs(aliasForms)
            guard let top = s.values.max() else { return [] }
            return s.filter { $0.value == top }.map(\.key).sorted()
        }
        // A signature is a label (or path) anywhere in the head: a column's own label or one above it.
        func inHead(_ signatureForms: [[String]]) -> Bool {
            signatureForms.contains { form in
                normalizedPaths.contains { path in
                    var j = 0
                    for label in form {
                        while j < path.count && path[j] != label { j += 1 }
                        if j == path.count { return false }
                        j += 1
                    }
                    return true
                }
            }
        }
        for signature in forms.signature where !inHead(signature) { return nil }
        var result = Attempt(profile: profile)
        // Every column goes to the field that names it most specifically (视力/右眼 beats 右眼); a field then
        // takes the columns it names most specifically among those it won. Two left over is an ambiguity.
        let fieldSpecs = forms.fields.map(specs)
        var columnBest: [Int: Int] = [:]
        for s in fieldSpecs { for (c, v) in s where v > columnBest[c] ?? 0 { columnBest[c] = v } }
        var claims: [Int: (field: String, spec: Int)] = [:]
        for (f, field) in profile.fields.enumerated() {
            let won = fieldSpecs[f].filter { $0.value == columnBest[$0.key] }
            guard let top = won.values.max() else { continue }
            let columns = won.filter { $0.value == top }.map(\.key).sorted()
            if columns.count > 1 {
                if result.ambiguous == nil { result.ambiguous = (field.key, columns) }
                result.ambiguousFields.insert(field.key)
                continue
            }
            let c = columns[0]
            if let other = claims[c] {
                if result.ambiguous == nil { result.ambiguous = (field.key + " / " + other.field, [c]) }
                result.ambiguousFields.insert(field.key)
                continue
            }
            claims[c] = (field.key, top)
            result.index[field.key] = c
        }
        for (pair, pairForms) in zip(profile.pairs, forms.pairs) {
            let columns = best(pairForms)
            guard columns.count == 1, claims[columns[0]] == nil else { continue }
            let c = columns[0]
            for (part, key) in pair.fields.enumerated() where result.index[key] == nil {
                result.index[key] = paths.count + result.virtual.count
                result.virtual.append(.init(source: c, part: part, separator: Array(pair.separator.utf8)))
                result.virtualHeaders.append("\(labels[c]) [\(part + 1)]")
                claims[c] = (key, 1)
            }
        }
        result.claimed = Set(claims.keys)
        result.missing = profile.fields.filter { f in
            f.required && result.index[f.key] == nil && !fixedFields.contains(f.key) && !f.or.contains { result.index[$0] != nil }
        }
        return result
    }

    /// One way of reading a file's head with one profile: where the title and head are, and the mapping.
    struct Reading {
        var attempt: Attempt
        /// Indexes into the rows: the first filled row, the first head row, the last head row (blank rows after
        /// the head included).
        var first: Int
        var title: Int
        var last: Int
        var paths: [[String]]
        var labels: [String]
        var excluded: [Int: String]
    }

    /// Every way of reading the head: the best one that covers its profile's required fields, and the one that
    /// misses the fewest (what an error or `--inspect` shows when none covers them).
    ///
    /// Up to three leading rows with at most two filled cells are a title; the head is one to four rows after
    /// them. Every way of reading it is tried with every profile; the one that covers the profile's required
    /// fields and claims the most columns wins (then: a profile with a signature, a more specific profile, fewer
    /// head rows, fewer title rows). Blank rows right after the head belong to it.
    static func readings(rows: [PreludeRow], profiles candidates: [ColumnProfile], fixedFields: Set<String>) -> (best: Reading?, fewestMissing: Reading?) {
        guard let firstFilled = rows.firstIndex(where: { $0.filled > 0 }) else { return (nil, nil) }
        var titleLimit = firstFilled
        while titleLimit < rows.count - 1, titleLimit - firstFilled < 3, rows[titleLimit].filled <= 2 { titleLimit += 1 }
        var best: (Reading, (Int, Int, Int, Int, Int))?
        var fewestMissing: Reading?
        let profileForms = candidates.map(ProfileForms.init)
        for title in firstFilled...titleLimit {
            for depth in 1...4 where title + depth <= rows.count {
                let head = Array(rows[title..<(title + depth)])
                if depth > 1, head.last!.filled == 0 { continue }
                let width = head.map(\.cells.count).max() ?? 0
                let paths = Self.paths(head.map(\.cells), width: width)
                let labels = paths.map { $0.joined(separator: "/") }
                let normalizedPaths = paths.map { $0.map(normalize) }
                var last = title + depth - 1
                while last + 1 < rows.count, rows[last + 1].filled == 0 { last += 1 }
                for forms in profileForms {
                    let profile = forms.profile
                    var excluded: [Int: String] = [:]
                    for (c, path) in normalizedPaths.enumerated() {
                        let parents = path.dropLast()
                        if let k = forms.blocks.firstIndex(where: { b in parents.contains { $0.contains(b) } }) {
                            excluded[c] = profile.ignoreBlocks[k].reason
                        }
                    }
                    guard let attempt = attempt(forms, paths: paths, normalizedPaths: normalizedPaths, labels: labels,
                                                excluded: Set(excluded.keys), fixedFields: fixedFields) else { continue }
                    let reading = Reading(attempt: attempt, first: firstFilled, title: title, last: last, paths: paths, labels: labels, excluded: excluded)
                    if !attempt.missing.isEmpty {
                        let worst = fewestMissing?.attempt
                        // Ties go as for `best`: fewer head rows (a title row is not read as a merged head's top).
                        if worst == nil || attempt.unfound < worst!.unfound
                            || (attempt.unfound == worst!.unfound && attempt.claimed.count > worst!.claimed.count)
                            || (attempt.unfound == worst!.unfound && attempt.claimed.count == worst!.claimed.count
                                && last - title < fewestMissing!.last - fewestMissing!.title) {
                            fewestMissing = reading
                        }
                        continue
                    }
                    let score = (attempt.claimed.count, profile.signature.isEmpty ? 0 : 1, profile.depth, -depth, -title)
                    if best == nil || score > best!.1 { best = (reading, score) }
                }
            }
        }
        return (best?.0, fewestMissing)
    }

    /// What a reading says about each column.
    static func layout(_ r: Reading, rows: [PreludeRow]) -> LayoutReport {
        let a = r.attempt
        let fieldOf = Dictionary(a.index.map { ($0.value, $0.key) }, uniquingKeysWith: { x, _ in x })
        var layout = LayoutReport(titleLines: rows[r.first..<r.title].map(\.line), headerLines: rows[r.title...r.last].map(\.line),
                                  profile: a.profile.name)
        for c in r.paths.indices {
            var column = LayoutReport.Column(number: c + 1, header: r.labels[c], field: fieldOf[c])
            if column.field == nil {
                if a.claimed.contains(c) {
                    column.field = a.virtual.enumerated().filter { $0.element.source == c }
                        .compactMap { v in fieldOf[r.paths.count + v.offset] }.joined(separator: " + ")
                } else {
                    column.note = r.excluded[c] ?? (r.paths[c].isEmpty ? LayoutReport.unnamed : LayoutReport.notAField)
                }
            }
            layout.columns.append(column)
        }
        return layout
    }

    /// Finds the head among a file's first rows and matches it to the profile that fits best (see `readings`).
    static func detect(rows: [PreludeRow], profiles: [ColumnProfile], file: String, preferred: String?,
                       fixedFields: Set<String> = [], identityFields: Set<String> = []) throws(IngestError) -> HeaderMap {
        let candidates = preferred.map { name in profiles.filter { $0.name == name } } ?? profiles
        if candidates.isEmpty { throw .noProfile(file: file, kind: preferred ?? "?") }
        if !rows.contains(where: { $0.filled > 0 }) { throw .empty(file: file) }
        let (best, fewestMissing) = readings(rows: rows, profiles: candidates, fixedFields: fixedFields)
        guard let choice = best else {
            let lines = fewestMissing.map { r in rows[r.title...r.last].map(\.line) } ?? [rows[0].line]
            // A required field missing because two columns claim it is an ambiguity, and says so.
            if let r = fewestMissing, let (field, columns) = r.attempt.ambiguous, r.attempt.unfound == 0 {
                throw .ambiguousColumn(file: file, line: rows[r.last].line, field: field, headers: columns.map { r.labels[$0] })
            }
            let missing = fewestMissing?.attempt.missing ?? candidates[0].fields.filter(\.required)
            throw .missingColumns(file: file, lines: lines, profile: (fewestMissing?.attempt.profile ?? candidates[0]).name,
                                  missing: missing.map { ($0.key, $0.aliases) })
        }
        let a = choice.attempt
        if let (field, columns) = a.ambiguous {
            throw .ambiguousColumn(file: file, line: rows[choice.last].line, field: field, headers: columns.map { choice.labels[$0] })
        }
        let headers = choice.labels + a.virtualHeaders
        var markers = Array(repeating: [[UInt8]](), count: headers.count)
        var codes = Array(repeating: [(code: [UInt8], value: [UInt8])](), count: headers.count)
        for (key, c) in a.index {
            let field = a.profile.field(key)
            if !identityFields.contains(key) {
                markers[c] = (a.profile.notMeasured + (field?.notMeasured ?? [])).map { Array($0.utf8) }
            }
            codes[c] = (field?.codes ?? [:]).sorted { $0.key < $1.key }.map { (Array($0.key.utf8), Array($0.value.utf8)) }
                + (field?.belowChart ?? []).map { (Array($0.utf8), Array("<3.0".utf8)) }
        }
        let starts = markers.map { ByteSet($0.compactMap(\.first)) }
        return HeaderMap(profile: a.profile, index: a.index, headers: headers, physicalCount: choice.paths.count,
                         virtual: a.virtual, markers: markers, markerStarts: starts, codes: codes, lastHeaderLine: rows[choice.last].line,
                         layout: layout(choice, rows: rows))
    }
}
