import Foundation
import HealthCore

/// What the parser thread learned about the file as a whole.
struct ParseSummary: Sendable {
    var profile: String
    var ruleVersion: String
    var ignored: [String]
    var blank: Int
    var warnings: [ReasonText]
    var layout = LayoutReport()
}

/// A bounded hand-off of parsed rows from the parser thread to the writer thread.
///
/// The producer blocks when `capacity` batches wait; the consumer blocks when none do. Either side
/// can end it: the producer with a result, the consumer by cancelling (e.g. the disk is full).
final class RowPipe<Record: Sendable>: @unchecked Sendable {
    typealias Batch = [ParsedRow<Record>]
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var outcome: Result<ParseSummary, any Error>?
    private var cancelled = false
    private var producerDone = false
    /// Whether a side sleeps on the condition: the other one only signals then (a wake-up costs a context switch).
    private var producerWaiting = false
    private var consumerWaiting = false
    /// Nanoseconds each side spent waiting for the other (for SCHOOLHEALTH_TRACE: which side is the bottleneck).
    private(set) var producerWaitNanos: UInt64 = 0
    private(set) var consumerWaitNanos: UInt64 = 0
    let capacity: Int

    init(capacity: Int = 4) { self.capacity = capacity }

    /// Producer: hands over a batch; false when the consumer has gone away.
    func push(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled {
            producerWaiting = true
            let start = DispatchTime.now().uptimeNanoseconds
            condition.wait()
            producerWaitNanos += DispatchTime.now().uptimeNanoseconds - start
            producerWaiting = false
        }
        if cancelled { return false }
        queue.append(batch)
        if consumerWaiting { condition.broadcast() }
        return true
    }

    /// Producer: the end, with what it found or why it stopped.
    func finish(_ result: Result<ParseSummary, any Error>) {
        condition.lock()
        outcome = result
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Consumer: the next batch, or nil at the end.
    func pop() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !producerDone {
            consumerWaiting = true
            let start = DispatchTime.now().uptimeNanoseconds
            condition.wait()
            consumerWaitNanos += DispatchTime.now().uptimeNanoseconds - start
            consumerWaiting = false
        }
        if queue.isEmpty { return nil }
        let batch = queue.removeFirst()
        if producerWaiting { condition.broadcast() }
        return batch
    }

    /// Consumer: the producer's result once `pop` returned nil.
    func result() throws -> ParseSummary {
        condition.lock()
        defer { condition.unlock() }
        guard let outcome else { throw CancellationError() }
        return try outcome.get()
    }

    /// Consumer: stop the producer and wait until it has returned.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !producerDone { condition.wait() }
        condition.unlock()
    }
}

/// The parser thread's work: decode, read CSV, match the header, parse and classify every row.
final class ParseJob<R: RecordImporter>: @unchecked Sendable {
    let path: String
    let file: String
    let inspection: FileInspection
    let profiles: [ColumnProfile]
    let config: SchoolHealthConfig
    let options: ImportOptions
    let pipe: RowPipe<R.Record>
    static var batchSize: Int { 4096 }

    init(path: String, file: String, inspection: FileInspection, profiles: [ColumnProfile], config: SchoolHealthConfig,
         options: ImportOptions, pipe: RowPipe<R.Record>) {
        self.path = path; self.file = file; self.inspection = inspection; self.profiles = profiles
        self.config = config; self.options = options; self.pipe = pipe
    }

    private struct Stop: Error {}

    func run() {
        do {
            pipe.finish(.success(try parse()))
        } catch is Stop {
            pipe.finish(.failure(CancellationError()))
        } catch let error as CSVStructureError {
            pipe.finish(.failure(IngestError.malformedCSV(file: file, line: error.line, detail: error.detail)))
        } catch {
            pipe.finish(.failure(error))
        }
    }

    private func parse() throws -> ParseSummary {
        var stream = HeadedReader(path: path, encoding: inspection.encoding)
        var importer: R?
        var summary = ParseSummary(profile: "", ruleVersion: "", ignored: [], blank: 0, warnings: [])
        var rows = 0
        var lastProgress = 0
        var batch: [ParsedRow<R.Record>] = []
        batch.reserveCapacity(Self.batchSize)

        let map = try stream.read(head: { rows throws(IngestError) in
            let found = try HeaderMatcher.detect(rows: rows, profiles: profiles, file: file, preferred: options.profile,
                                                 fixedFields: R.fixedFields(options), identityFields: IdentityFields.keys)
            try R.check(found, options: options, file: file)
            importer = R(map: found, config: config, options: options)
            return found
        }, data: { record, map in
            if record.isBlank { summary.blank += 1; return }
            rows += 1
            if record.count != map.physicalCount {
                batch.append(.rejected(line: record.line, [RowProblem(
                    column: Rejection.wholeRow, value: "\(record.count) fields",
                    reason: "has \(record.count) fields but the header has \(map.physicalCount); a comma or quote is probably missing or extra, so the values cannot be matched to columns")]))
            } else {
                let parsed = importer!.parse(record)   // mutates in place, no copy
                let notes = importer!.takeNotes()
                if !notes.isEmpty { batch.append(.note(line: record.line, notes)) }
                batch.append(parsed)
            }
            if batch.count == Self.batchSize {
                guard pipe.push(batch) else { throw Stop() }
                batch.removeAll(keepingCapacity: true)
            }
        }, chunk: { bytesRead in
            if let progress = options.progress, bytesRead - lastProgress >= 1 << 20 {
                lastProgress = bytesRead
                progress(bytesRead, inspection.bytes, rows)
            }
        })
        if !batch.isEmpty, !pipe.push(batch) { throw Stop() }
        options.progress?(inspection.bytes, inspection.bytes, rows)
        summary.profile = map.profile.name
        summary.ignored = map.ignored
        summary.ruleVersion = R.ruleVersion(config)
        summary.layout = map.layout
        summary.layout.delimiter = Delimiter.name(stream.delimiter)
        summary.warnings = (map.profile.caution.map { c -> [ReasonText] in ["profile \(map.profile.name): \(c)"] } ?? []) + importer!.warnings
        if stream.delimiter != UInt8(ascii: ",") {
            let separated: ReasonText = stream.delimiter == 0x09 ? "fields are separated by tabs, not commas: read as such"
                : "fields are separated by semicolons (;), not commas: read as such"
            summary.warnings.insert(separated, at: 0)
        }
        return summary
    }
}
