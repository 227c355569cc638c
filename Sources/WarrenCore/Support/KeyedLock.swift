import Synchronization

/// Mutual exclusion per key among this process's tasks: publishing and deleting one
/// module version are serialized here (replicas, through the fetch coordinator).
/// Waiters are served in arrival order.
public final class KeyedLock<Key: Hashable & Sendable>: Sendable {
    private struct State {
        /// Keys held, each with the tasks waiting for it.
        var held: [Key: [CheckedContinuation<Void, Never>]] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public func withLock<T: Sendable, E: Error>(_ key: Key, _ body: () async throws(E) -> T) async throws(E) -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: Key) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let free = state.withLock { s -> Bool in
                if s.held[key] == nil {
                    s.held[key] = []
                    return true
                }
                s.held[key]?.append(c)
                return false
            }
            if free { c.resume() }
        }
    }

    private func release(_ key: Key) {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard var waiters = s.held[key], !waiters.isEmpty else {
                s.held[key] = nil
                return nil
            }
            let first = waiters.removeFirst()
            s.held[key] = waiters
            return first
        }
        next?.resume()
    }
}
