import Synchronization

/// A tiny lock for test counters.
final class NSLockLike: Sendable {
    private let m = Mutex(())
    func withLock<T>(_ body: () -> T) -> T { m.withLock { _ in body() } }
}
