import Crypto
import Foundation
import GoModule
import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// The proxy engine: answers GOPROXY requests from storage, or from the upstream chain
/// through single-flight fetches that verify everything before it is stored.
///
/// Immutable artifacts (`.info` of canonical versions, `.mod`, `.zip`) are fetched once
/// and kept forever. `list`, `@latest` and version queries are kept with a TTL: fresh
/// answers come from storage, stale ones are served while a background refresh runs, and
/// the last good answer survives every upstream failing.
public final class ModuleProxy: Sendable {
    /// What a reload may change (`reconfigure`): requests read it once and keep that copy,
    /// so one in flight finishes with the configuration it started with.
    private let live: Mutex<(configuration: ProxyConfiguration, chain: UpstreamChain)>
    public var configuration: ProxyConfiguration { live.withLock { $0.configuration } }
    var chain: UpstreamChain { live.withLock { $0.chain } }

    /// One setting of the configuration in force, read without copying the whole of it
    /// (the per-request checks: hosted patterns, the list TTL).
    func setting<T: Sendable>(_ read: (ProxyConfiguration) -> T) -> T {
        live.withLock { read($0.configuration) }
    }
    let storage: any ArtifactStorage
    let logger: Logger
    let threadPool: NIOThreadPool
    /// Verifies `.mod` and `.zip` of public modules before they are stored (nil: off).
    public let checksums: ChecksumDatabases?
    /// What is stored, by module: the versions a `list` can still give when every
    /// upstream fails and no list was ever stored (nil: no index).
    let index: (any MetadataIndex)?

    let memory: MemoryCache<StorageKey, SmallArtifact>
    let smallFlights = SingleFlight<StorageKey, SmallArtifact>()
    let downloads: DownloadRegistry
    let prefetcher = ZipPrefetcher()
    /// The supply-chain policy, decided before anything is fetched (nil: none).
    public let policy: ModulePolicy?
    /// Warren's own checksum database (nil: none): published versions are appended to it.
    public let checksumLog: ChecksumLog?
    /// Zips refused for a checksum mismatch, answered 403 at once for a while (a .mod is
    /// small enough to fetch again).
    let refusals = RecentRefusals()
    /// Publishes and deletes of one version, one at a time in this process.
    let publishLocks = KeyedLock<StorageKey>()
    /// Versions cached and published, checksum mismatches, upstreams going down and up:
    /// what webhooks deliver.
    public let events = ProxyEvents()

    /// Largest `.info`, `list` or `@latest` accepted from an upstream.
    static let smallLimit = 1 << 20

    /// - Parameter coordinator: how replicas that share storage take turns fetching a
    ///   cold zip (nil: a single node).
    public init(configuration: ProxyConfiguration, storage: any ArtifactStorage, chain: UpstreamChain,
                logger: Logger, checksums: ChecksumDatabases? = nil, coordinator: (any FetchCoordinator)? = nil,
                index: (any MetadataIndex)? = nil, checksumLog: ChecksumLog? = nil, policy: ModulePolicy? = nil,
                threadPool: NIOThreadPool = .singleton) {
        self.policy = policy
        self.checksumLog = checksumLog
        self.live = Mutex((configuration, chain))
        self.index = index
        self.checksums = checksums
        self.storage = storage
        self.logger = logger
        self.threadPool = threadPool
        self.memory = MemoryCache(capacity: configuration.memoryCacheBytes)
        let events = self.events
        checksums?.mismatches.listen { events.emit($0) }
        chain.health.events.listen { events.emit($0) }
        self.downloads = DownloadRegistry(coordinator: coordinator, onCommitFailure: { [logger] key, error in
            logger.error("a verified zip could not be stored; it will be fetched again", metadata: [
                "artifact": "\(key.relativePath)", "error": "\(error)"])
        }, onCoordinationFailure: { [logger] key, error in
            logger.warning("replicas could not coordinate a fetch; fetching without waiting for the others", metadata: [
                "artifact": "\(key.relativePath)", "error": "\(error)"])
        })
    }

    /// Puts a reloaded configuration and its upstream chain in force for requests that
    /// start from now on. What cannot change while running — the data directory and the
    /// memory cache's size — keeps its value.
    public func reconfigure(_ configuration: ProxyConfiguration, clients: HTTPClientFactory) {
        let old = live.withLock { $0 }
        var next = configuration
        next.dataDirectory = old.configuration.dataDirectory
        next.memoryCacheBytes = old.configuration.memoryCacheBytes
        let chain = UpstreamChain.make(next.upstreams, client: clients, configuration: next, logger: logger, reusing: old.chain)
        live.withLock { $0 = (next, chain) }
    }

    /// Forgets what this process keeps in memory of an artifact that was removed from
    /// storage (evicted), so it is fetched again when asked for.
    public func forget(_ key: StorageKey) {
        memory.remove(key)
    }

    /// The upstreams' display names in chain order, then the private (direct) one: what the
    /// console's status page reports on.
    public var upstreamNames: [String] {
        var names = chain.entries.map(\.upstream.name)
        if let direct = chain.privateUpstream, !names.contains(direct.name) { names.append(direct.name) }
        return names
    }

    /// Each upstream's circuit, recent failures and p95, in chain order (the status page,
    /// `/readyz`).
    public func upstreamHealth() -> [UpstreamHealth.Snapshot] {
        chain.health.snapshots(upstreamNames)
    }

    /// Waits for zip downloads in progress (graceful shutdown).
    public func drain() async {
        await prefetcher.drain()
        await downloads.drain()
    }

    /// Lists, `@latest` and queries are right for the list TTL.
    var mutablePolicy: CachePolicy { .fresh(seconds: max(0, Int(setting(\.listTTL)))) }

    /// Answers one request. With `allowFetch` false (the `Disable-Module-Fetch` header),
    /// only what is already stored is served — or, with `disableFetchAsksUpstreams`, what
    /// proxy upstreams already hold, asked with the header passed on (`CachedOnlyFetch`).
    /// A request that meets such a fetch of the same artifact in flight shares its outcome.
    public func serve(_ request: ProxyRequest, allowFetch: Bool = true) async throws(ProxyError) -> ServedArtifact {
        if !allowFetch, !CachedOnlyFetch.isActive, setting(\.disableFetchAsksUpstreams) {
            do {
                return try await CachedOnlyFetch.$isActive.withValue(true) { try await serve(request, allowFetch: true) }
            } catch let error as ProxyError {
                throw error
            } catch {
                throw ProxyError.internalError("cache-only fetch failed", detail: "\(error)")
            }
        }
        let advisories = try checkPolicy(request)
        var served = try await serveAllowed(request, allowFetch: allowFetch)
        served.advisories = advisories
        return served
    }

    /// What the policy says of a request, before anything is looked up: a refusal is
    /// thrown, a warning returned as the vulnerabilities' IDs.
    func checkPolicy(_ request: ProxyRequest) throws(ProxyError) -> [String] {
        guard let policy, !policy.isEmpty else { return [] }
        var version: String?
        if case .artifact(_, let v, _) = request, ModuleVersion.canonical(v) == v { version = v }
        switch policy.decide(request.module, version: version) {
        case .allowed: return []
        case .warned(let ids):
            MetricHandles.counter("warren_vulnerable_answers_total", [("mode", "warn")]).increment()
            return ids
        case .denied(let reason):
            MetricHandles.counter("warren_policy_denials_total", []).increment()
            throw .policyDenied(reason)
        }
    }

    func serveAllowed(_ request: ProxyRequest, allowFetch: Bool) async throws(ProxyError) -> ServedArtifact {
        if isHosted(request.module) { return try await serveHosted(request) }
        switch request {
        case .list(let module):
            return try await mutable(.list(module: module), endpoint: "list", allowFetch: allowFetch,
                                     contentType: "text/plain; charset=utf-8") { bytes in
                Self.filterList(bytes)
            }
        case .latest(let module):
            return try await mutable(.latest(module: module), endpoint: "latest", allowFetch: allowFetch,
                                     contentType: "application/json") { bytes in
                try Self.validateInfo(bytes, expected: nil, module: module)
                return bytes
            }
        case .artifact(let module, let version, .info) where ModuleVersion.canonical(version) != version:
            return try await query(module: module, query: version, allowFetch: allowFetch)
        case .artifact(let module, let version, let kind) where kind != .zip:
            let small = try await immutableSmall(module: module, version: version, kind: kind, allowFetch: allowFetch)
            return small.served(contentType: kind.contentType, cachePolicy: .immutable)
        case .artifact(let module, let version, _):
            return try await zip(module: module, version: version, allowFetch: allowFetch)
        }
    }
}
