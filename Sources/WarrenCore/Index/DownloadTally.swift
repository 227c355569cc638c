import Foundation
import Synchronization

/// Downloads of one module version since the last flush.
public struct DownloadCount: Sendable, Equatable {
    public var module: String
    public var version: String
    public var count: Int64
    /// The latest download (seconds since 1970).
    public var lastAccess: Double

    public init(module: String, version: String, count: Int64, lastAccess: Double) {
        self.module = module
        self.version = version
        self.count = count
        self.lastAccess = lastAccess
    }
}

/// Zip downloads counted in memory as they are served (the hot path included) and
/// written to the metadata index in batches, so popularity and last access cost a
/// request no database round trip.
///
/// Bounded: past `limit` distinct versions between two flushes, further new versions
/// are not counted until the next flush (`dropped` says how many downloads that lost).
public final class DownloadTally: Sendable {
    private struct Key: Hashable {
        let module: String
        let version: String
    }

    private struct State {
        var counts: [Key: (count: Int64, last: Double)] = [:]
        var dropped: Int64 = 0
    }

    private let state = Mutex(State())
    let limit: Int

    public init(limit: Int = 100_000) {
        self.limit = limit
    }

    /// One download of `module@version`, now.
    public func count(module: String, version: String) {
        count(module: module, version: version, at: Date().timeIntervalSince1970)
    }

    public func count(module: String, version: String, at time: Double) {
        let key = Key(module: module, version: version)
        state.withLock { s in
            if let existing = s.counts[key] {
                s.counts[key] = (existing.count + 1, max(existing.last, time))
            } else if s.counts.count < limit {
                s.counts[key] = (1, time)
            } else {
                s.dropped += 1
            }
        }
    }

    /// Downloads not counted because the tally was full.
    public var dropped: Int64 { state.withLock { $0.dropped } }

    /// Everything counted since the last call, handed over.
    public func drain() -> [DownloadCount] {
        state.withLock { s in
            defer { s.counts = [:] }
            return s.counts.map { DownloadCount(module: $0.key.module, version: $0.key.version, count: $0.value.count, lastAccess: $0.value.last) }
        }
    }

    /// Puts back counts that could not be written (the index was down).
    public func restore(_ counts: [DownloadCount]) {
        state.withLock { s in
            for c in counts {
                let key = Key(module: c.module, version: c.version)
                if let existing = s.counts[key] {
                    s.counts[key] = (existing.count + c.count, max(existing.last, c.lastAccess))
                } else if s.counts.count < limit {
                    s.counts[key] = (c.count, c.lastAccess)
                } else {
                    s.dropped += c.count
                }
            }
        }
    }
}
