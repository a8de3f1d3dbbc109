import Dispatch

/// Runs blocking work (SQLite, scrypt, a CSV parse) off Swift's cooperative pool, which has one thread per core:
/// a handler that waits on an import must not stop every other request. Errors become `ServiceError`s.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws(ServiceError) -> T {
    let result: Result<T, ServiceError> = await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            do { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(ServiceError(error))) }
        }
    }
    return try result.get()
}
