import Foundation

/// Runs blocking work (git, files) on a thread of its own: servers that tests start in
/// this process (FaultyUpstream, VanityServer) need the concurrency runtime's few
/// threads, and a test that blocks them makes another suite's server miss requests.
func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
