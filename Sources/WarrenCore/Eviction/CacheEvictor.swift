import Foundation
import GoModule
import Logging

/// Keeps what Warren cached from upstreams and git within `--cache-max-size` and
/// `--cache-max-age`: least recently used first (the index's last download, else when it
/// was stored), never a hosted module, never a pinned one, never anything younger than
/// the minimum age. Zips go first; a version's `.mod` and `.info` (small, and needed for
/// every build graph) go only once unused for four times the maximum age. One replica
/// evicts at a time (the fetch coordinator's lease); an evicted version is fetched again,
/// and verified again, when someone asks for it.
public struct CacheEvictor: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxBytes: Int64?
        public var maxAge: Double?
        public var minAge: Double

        public init(maxBytes: Int64?, maxAge: Double?, minAge: Double) {
            self.maxBytes = maxBytes
            self.maxAge = maxAge
            self.minAge = minAge
        }

        public var isEnabled: Bool { maxBytes != nil || maxAge != nil }
    }

    /// One thing to remove, and why (for `warren cache gc --dry-run` and the log).
    public struct Victim: Sendable, Equatable {
        public var module: String
        public var version: String
        public var kinds: [ArtifactKind]
        public var bytes: Int64
        public var reason: String
    }

    public struct Plan: Sendable {
        public var victims: [Victim]
        /// Bytes of evictable cached zips before and after.
        public var bytesBefore: Int64
        public var bytesAfter: Int64
    }

    let storage: any ArtifactStorage
    let index: any MetadataIndex
    let pins: (any PinStore)?
    let hosted: ModulePathPatterns
    let limits: Limits
    let coordinator: (any FetchCoordinator)?
    let logger: Logger

    public init(storage: any ArtifactStorage, index: any MetadataIndex, pins: (any PinStore)?, hosted: ModulePathPatterns, limits: Limits,
                coordinator: (any FetchCoordinator)?, logger: Logger) {
        self.storage = storage
        self.index = index
        self.pins = pins
        self.hosted = hosted
        self.limits = limits
        self.coordinator = coordinator
        self.logger = logger
    }

    /// What would go now, and why.
    public func plan(now: Double = Date().timeIntervalSince1970) async throws -> Plan {
        let pinned = ModulePathPatterns(try await pins?.pins().joined(separator: ",") ?? "")
        let cached = try await index.cachedZips().filter { !(hosted.matches($0.module) && !hosted.patterns.isEmpty) }
        let evictable = cached.filter { pinned.patterns.isEmpty || !pinned.matches($0.module) }
        var total = cached.reduce(Int64(0)) { $0 + ($1.zipSize ?? 0) }
        let before = total
        var victims: [Victim] = []
        for v in evictable {
            let lastUse = v.lastAccess ?? v.storedAt
            let idle = now - lastUse
            guard now - v.storedAt >= limits.minAge, idle >= limits.minAge else { continue }
            var reason: String?
            if let maxAge = limits.maxAge, idle > maxAge {
                reason = "unused for \(Int(idle)) s (cache-max-age \(Int(maxAge)) s)"
            } else if let maxBytes = limits.maxBytes, total > maxBytes {
                reason = "least recently used while the cache holds \(total) bytes (cache-max-size \(maxBytes))"
            }
            guard let reason else { continue }
            var kinds: [ArtifactKind] = [.zip]
            if let maxAge = limits.maxAge, idle > 4 * maxAge { kinds += [.mod, .info] }
            victims.append(Victim(module: v.module, version: v.version, kinds: kinds, bytes: v.zipSize ?? 0, reason: reason))
            total -= v.zipSize ?? 0
        }
        return Plan(victims: victims, bytesBefore: before, bytesAfter: total)
    }

    /// Plans and removes, unless another replica is evicting (then nothing: it will).
    /// Returns what was removed, or nil when another replica holds the turn.
    @discardableResult
    public func run(now: Double = Date().timeIntervalSince1970, forget: @Sendable (StorageKey) -> Void = { _ in }) async throws -> Plan? {
        var lease: (any FetchLease)?
        if let coordinator {
            guard let held = try await coordinator.tryAcquire(.maintenance("eviction")) else { return nil }
            lease = held
        }
        do {
            let plan = try await plan(now: now)
            MetricHandles.gauge("warren_cache_bytes", []).record(plan.bytesBefore)
            if let maxBytes = limits.maxBytes { MetricHandles.gauge("warren_cache_limit_bytes", []).record(maxBytes) }
            for victim in plan.victims {
                for kind in victim.kinds {
                    let key = StorageKey.artifact(module: victim.module, version: victim.version, kind: kind)
                    forget(key)
                    try await storage.remove(key)
                    MetricHandles.counter("warren_cache_evictions_total", [("kind", kind.rawValue)]).increment()
                }
                MetricHandles.counter("warren_cache_evicted_bytes_total", []).increment(by: victim.bytes)
            }
            if !plan.victims.isEmpty {
                logger.notice("evicted from the cache", metadata: ["versions": "\(plan.victims.count)", "bytes-before": "\(plan.bytesBefore)",
                                                                   "bytes-after": "\(plan.bytesAfter)"])
            }
            MetricHandles.gauge("warren_cache_bytes", []).record(plan.bytesAfter)
            await lease?.release()
            return plan
        } catch {
            await lease?.release()
            throw error
        }
    }
}
