import Synchronization

/// A small least-recently-used cache of immutable artifacts (`.info`, `.mod`) bounded by
/// total bytes, so the hottest answers never touch the disk.
public final class MemoryCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var cost: Int
        var tick: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var total = 0
        var tick: UInt64 = 0
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public func get(_ key: Key) -> Value? {
        state.withLock { s in
            guard var e = s.entries[key] else { return nil }
            s.tick += 1
            e.tick = s.tick
            s.entries[key] = e
            return e.value
        }
    }

    public func put(_ key: Key, _ value: Value, cost: Int) {
        guard cost <= capacity / 8 else { return }  // never let one entry crowd out the rest
        state.withLock { s in
            s.tick += 1
            if let old = s.entries[key] { s.total -= old.cost }
            s.entries[key] = Entry(value: value, cost: cost, tick: s.tick)
            s.total += cost
            if s.total > capacity {
                // Evict the least recently used quarter: amortises the sort.
                let victims = s.entries.sorted { $0.value.tick < $1.value.tick }
                for (k, e) in victims where s.total > capacity * 3 / 4 {
                    s.entries.removeValue(forKey: k)
                    s.total -= e.cost
                }
            }
        }
    }

    /// Forgets `key` (a deleted artifact).
    public func remove(_ key: Key) {
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: key) { s.total -= old.cost }
        }
    }

    public var totalCost: Int { state.withLock { $0.total } }
}
