import Foundation
import Synchronization

/// Artifacts whose download was refused for what they contained (a checksum mismatch),
/// remembered for a while so that the go command's retry, and every client after it,
/// gets the same 403 at once instead of a second download that can only fail again.
///
/// Kept briefly and bounded: an upstream that was serving a bad copy may be fixed, and a
/// client must not be able to fill memory with refusals.
final class RecentRefusals: Sendable {
    private struct Entry {
        var error: ProxyError
        var until: Double
    }

    private let entries = Mutex<[StorageKey: Entry]>([:])
    let lifetime: Double
    static let capacity = 1024

    init(lifetime: Double = 60) {
        self.lifetime = lifetime
    }

    func get(_ key: StorageKey, now: Double = Date().timeIntervalSince1970) -> ProxyError? {
        entries.withLock { map in
            guard let entry = map[key] else { return nil }
            if entry.until <= now {
                map.removeValue(forKey: key)
                return nil
            }
            return entry.error
        }
    }

    func remember(_ key: StorageKey, _ error: ProxyError, now: Double = Date().timeIntervalSince1970) {
        entries.withLock { map in
            if map.count >= Self.capacity {
                map = map.filter { $0.value.until > now }
                if map.count >= Self.capacity, let oldest = map.min(by: { $0.value.until < $1.value.until })?.key {
                    map.removeValue(forKey: oldest)
                }
            }
            map[key] = Entry(error: error, until: now + lifetime)
        }
    }
}
