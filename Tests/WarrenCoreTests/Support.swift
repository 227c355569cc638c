import Foundation
import Synchronization

/// A tiny lock for test counters.
final class NSLockLike: Sendable {
    private let m = Mutex(())
    func withLock<T>(_ body: () -> T) -> T { m.withLock { _ in body() } }
}

/// Runs blocking work (processes, pipes) on a thread of its own: every test target runs
/// in one process, and servers other suites start there need the concurrency runtime's
/// few threads.
func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
