/// Reads a CSV file as records after its head: decodes it (UTF-8, BOM, GB18030), finds the delimiter from the
/// first chunk, keeps the first rows until the head is found among them (`HeaderMatcher.detect`), then hands
/// every data row to `data`, in order, with its physical line. Shared by the streaming import and the small
/// tables (the school list) so that both read every layout the same way.
struct HeadedReader {
    /// Rows kept while the head is found: title rows, up to four head rows, and the first data rows.
    static let preludeRows = 12

    let path: String
    let encoding: TextEncoding
    private(set) var delimiter = UInt8(ascii: ",")
    /// File bytes consumed so far.
    private(set) var bytesRead = 0

    init(path: String, encoding: TextEncoding) {
        self.path = path
        self.encoding = encoding
    }

    /// Reads the file. `head` is called once with the first rows and returns the header found in them;
    /// `data` gets every row after it (blank rows too: `record.isBlank`). `chunk` is called after each chunk.
    mutating func read(head: ([PreludeRow]) throws -> HeaderMap, data: (CSVRecord, HeaderMap) throws -> Void,
                       chunk: (Int) -> Void = { _ in }) throws(any Error) -> HeaderMap {
        let source = try TextSource(path: path, encoding: encoding)
        var reader: CSVReader?
        var map: HeaderMap?
        var prelude: [OwnedCSVRecord] = []
        var sniffed = delimiter

        func decide() throws {
            let found = try head(prelude.map { PreludeRow(line: $0.line, cells: $0.cells) })
            map = found
            for kept in prelude where kept.line > found.lastHeaderLine { try kept.withRecord { try data($0, found) } }
            prelude.removeAll()
        }
        func handle(_ record: CSVRecord) throws {
            if let map { return try data(record, map) }
            prelude.append(OwnedCSVRecord(record))
            if prelude.count == Self.preludeRows { try decide() }
        }
        while try source.next({ bytes in
            if reader == nil {
                sniffed = Delimiter.sniff(bytes)
                reader = CSVReader(delimiter: sniffed)
            }
            try reader!.parse(bytes, handler: handle(_:))
        }) {
            chunk(source.bytesRead)
        }
        delimiter = sniffed
        bytesRead = source.bytesRead
        guard let reader else { throw IngestError.empty(file: path) }
        try reader.finish(handler: handle(_:))
        if map == nil {
            guard !prelude.isEmpty else { throw IngestError.empty(file: path) }
            try decide()
        }
        return map!
    }
}
