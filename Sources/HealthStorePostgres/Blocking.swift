import Foundation
import Synchronization

/// Runs async PostgreSQL work for a synchronous caller and waits for it.
///
/// The storage seam is synchronous (SQLite's writer is, and the importer writes from its own thread); postgres-nio is
/// async. The work runs as a task on an executor of its own — a serial dispatch queue, not Swift's cooperative pool —
/// while the calling thread waits, so a caller that is itself a task of that pool (a test, a handler that forgot to
/// offload) cannot starve the pool of the thread the work needs. The I/O happens on NIO's event loops.
enum Blocking {
    /// Where the result comes back: written once by the task, read once after it signalled.
    private final class Slot<T: Sendable>: Sendable {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    /// Runs a task's jobs on one serial dispatch queue (dispatch gives a serial queue a thread of its own when the
    /// others are busy).
    final class QueueExecutor: TaskExecutor {
        let queue = DispatchQueue(label: "schoolhealth.postgres")
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    @discardableResult
    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let slot = Slot<T>()
        let executor = QueueExecutor()
        Task.detached(executorPreference: executor) {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            slot.result.withLock { $0 = outcome }
            slot.done.signal()
        }
        slot.done.wait()
        return try slot.result.withLock { $0! }.get()
    }
}
