import Synchronization

/// Collapses concurrent work for the same key into one execution: the first caller
/// starts it, later callers await the same result. The work runs in its own task, so a
/// client that disconnects does not cancel it for the others (or for the cache).
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Flight {
        var task: Task<Value, any Error>
        /// Every caller waiting for this run, the one that started it included.
        var callers: Int
    }

    private let inFlight = Mutex<[Key: Flight]>([:])

    public init() {}

    /// Runs `work` for `key` unless a run is already in flight, then returns its result.
    /// `started` tells whether this call started the work.
    public func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> (value: Value, started: Bool) {
        let (task, started) = inFlight.withLock { map -> (Task<Value, any Error>, Bool) in
            if var existing = map[key] {
                existing.callers += 1
                map[key] = existing
                return (existing.task, false)
            }
            let task = Task { [weak self] in
                defer { self?.finish(key) }
                return try await work()
            }
            map[key] = Flight(task: task, callers: 1)
            return (task, true)
        }
        return (try await task.value, started)
    }

    /// Number of keys in flight (for tests and metrics).
    public var count: Int { inFlight.withLock { $0.count } }

    /// How many callers share the run in flight for `key` (0 when none runs).
    public func callers(of key: Key) -> Int { inFlight.withLock { $0[key]?.callers ?? 0 } }

    private func finish(_ key: Key) {
        _ = inFlight.withLock { $0.removeValue(forKey: key) }
    }
}
