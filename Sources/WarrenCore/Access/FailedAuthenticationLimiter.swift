import Foundation
import Synchronization

/// Slows down token guessing: after `limit` failed authentications within `window`
/// seconds from one client address, or naming one user, further attempts from there are
/// refused with 429 until the window has passed. In memory, per replica.
public final class FailedAuthenticationLimiter: Sendable {
    let limit: Int
    let window: Double
    private let failures = Mutex<[String: [Double]]>([:])

    public init(limit: Int = 10, window: Double = 60) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until `keys` may try again, or nil when none of them is blocked.
    public func retryAfter(_ keys: [String], now: Double = Date().timeIntervalSince1970) -> Int? {
        failures.withLock { map in
            var wait: Double?
            for key in keys {
                guard var times = map[key] else { continue }
                times.removeAll { $0 <= now - window }
                map[key] = times.isEmpty ? nil : times
                if times.count >= limit, let oldest = times.first {
                    wait = max(wait ?? 0, oldest + window - now)
                }
            }
            return wait.map { max(1, Int($0.rounded(.up))) }
        }
    }

    /// Counts a failure against each key.
    public func failed(_ keys: [String], now: Double = Date().timeIntervalSince1970) {
        failures.withLock { map in
            // Bounded: an attacker with many addresses cannot grow it without end.
            if map.count > 100_000 { map.removeAll() }
            for key in keys { map[key, default: []].append(now) }
        }
    }
}
