import Foundation
import Synchronization

/// Values kept for a short time, for answers that change (a checksum database's latest
/// tree head, partial tiles, lookups): fresh enough for every client asking within the
/// window, and never stale for long. Bounded by entry count; when full, expired entries
/// go first, then everything (the cache is an optimisation, not a store).
public final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: (value: Value, expires: Double)]>([:])
    public let lifetime: Double
    public let capacity: Int

    public init(lifetime: Double, capacity: Int = 4096) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    public func get(_ key: Key) -> Value? {
        let now = Date().timeIntervalSince1970
        return entries.withLock { e in
            guard let hit = e[key] else { return nil }
            if hit.expires <= now {
                e.removeValue(forKey: key)
                return nil
            }
            return hit.value
        }
    }

    public func put(_ key: Key, _ value: Value) {
        guard lifetime > 0 else { return }
        let now = Date().timeIntervalSince1970
        entries.withLock { e in
            if e.count >= capacity {
                e = e.filter { $0.value.expires > now }
                if e.count >= capacity { e.removeAll(keepingCapacity: true) }
            }
            e[key] = (value, now + lifetime)
        }
    }

    public func remove(_ key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
