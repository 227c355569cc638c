import Foundation
import AsyncHTTPClient
import GoModule
import Logging
import Metrics

/// The upstreams in order, with the go command's GOPROXY fall-through rules:
/// after `,` only "not found" (404/410) moves on to the next entry; after `|` any
/// failure does; `off` and `direct` end the list.
public struct UpstreamChain: Sendable {
    public struct Entry: Sendable {
        public var upstream: any Upstream
        public var fallBackOnError: Bool
    }

    public let entries: [Entry]
    /// Modules matching these patterns skip `entries` and go to `privateUpstream` only
    /// (GOPRIVATE: never to a public proxy).
    let privatePatterns: ModulePathPatterns
    let privateUpstream: (any Upstream)?
    let logger: Logger
    /// Each upstream's recent record and circuit, and the hedging budget (kept across reloads).
    public let health: UpstreamHealthBook

    public init(entries: [Entry], privatePatterns: ModulePathPatterns = ModulePathPatterns(""), privateUpstream: (any Upstream)? = nil,
                health: UpstreamHealthBook = UpstreamHealthBook(), logger: Logger) {
        self.health = health
        self.entries = entries
        self.privatePatterns = privatePatterns
        self.privateUpstream = privateUpstream
        self.logger = logger
    }

    /// Builds the chain for a parsed GOPROXY list.
    /// - Parameter reusing: the direct upstream of the chain this one replaces (a reload),
    ///   kept when direct mode's configuration is unchanged so its git mirrors' state and
    ///   locks carry over.
    public static func make(_ list: ProxyList, client: HTTPClientFactory, configuration: ProxyConfiguration, logger: Logger,
                            health: UpstreamHealthBook = UpstreamHealthBook(), reusing previous: UpstreamChain? = nil) -> UpstreamChain {
        let httpUpstream = { @Sendable (url: String) -> any Upstream in
            HTTPProxyUpstream(baseURL: url, client: client.client(for: url), headerTimeout: configuration.headerTimeout,
                              totalTimeout: configuration.totalTimeout, retries: configuration.retries, logger: logger)
        }
        // One direct upstream (one set of mirrors) serves both `direct` and private modules.
        let privatePatterns = configuration.direct.privatePatterns
        let usesDirect = !privatePatterns.isEmpty || list.entries.contains { if case .direct = $0.source { return true } else { return false } }
        let freshness = Duration.milliseconds(Int64(max(0, configuration.listTTL) * 1000))
        let reusable = previous?.directUpstream.flatMap { $0.configuration == configuration.direct && $0.listFreshness == freshness ? $0 : nil }
        let direct: (any Upstream)? = !usesDirect ? nil : reusable ?? DirectUpstream(dataDirectory: configuration.dataDirectory, configuration: configuration.direct,
                             discovery: client.discovery, makeDelegate: httpUpstream,
                             // A mirror fetched within the list TTL is as fresh as a cached list.
                             listFreshness: freshness)
        let entries = list.entries.map { entry -> Entry in
            let upstream: any Upstream
            switch entry.source {
            case .url(let url) where url.hasPrefix("file:"):
                upstream = FileTreeUpstream(url: url)
            case .url(let url):
                upstream = httpUpstream(url)
            case .direct:
                upstream = direct ?? UnavailableUpstream(name: "direct", failure: .disabled)
            case .off:
                upstream = UnavailableUpstream(name: "off", failure: .disabled)
            }
            return Entry(upstream: upstream, fallBackOnError: entry.fallBackOnError)
        }
        return UpstreamChain(entries: entries, privatePatterns: privatePatterns,
                             privateUpstream: privatePatterns.isEmpty ? nil : direct, health: previous?.health ?? health, logger: logger)
    }

    /// Whether the chain can fetch nothing at all (`--upstream off`): an isolated Warren
    /// that answers only from what it holds (mirrored, imported, published).
    public var fetchesNothing: Bool {
        privateUpstream == nil && entries.allSatisfy { ($0.upstream as? UnavailableUpstream)?.failure == .disabled }
    }

    /// The direct upstream (for `direct` entries and private modules), if there is one.
    var directUpstream: DirectUpstream? {
        (privateUpstream as? DirectUpstream) ?? entries.lazy.compactMap { $0.upstream as? DirectUpstream }.first
    }

    /// The entries a request goes through: only the direct upstream for a private module.
    func entries(for request: ProxyRequest) -> [Entry] {
        guard let privateUpstream, privatePatterns.matches(request.module) else { return entries }
        return [Entry(upstream: privateUpstream, fallBackOnError: false)]
    }

    /// Runs `operation` against each upstream in turn until one succeeds, following the
    /// fall-through rules. On failure, throws the most informative failure, ranked as the
    /// go command ranks them: a real error beats "not found".
    ///
    /// Where `|` lets any failure move on anyway, two things spare clients a bad upstream:
    /// one whose circuit is open (`UpstreamHealth`) is skipped, and for small idempotent
    /// requests (`list`, `@latest`, `.info`, `.mod`, queries) the next upstream is asked
    /// too once the current one has taken longer than its recent 95th percentile (a
    /// hedge, within `HedgeBudget`), the first good answer winning. After `,` nothing is
    /// skipped or hedged: the go command's semantics stay exact.
    public func first<T: Sendable>(_ request: ProxyRequest, endpoint: String,
                                   _ operation: @escaping @Sendable (any Upstream, UpstreamResponse) async throws -> T)
        async throws(UpstreamFailure) -> (T, String) {
        var best: UpstreamFailure?
        let list = entries(for: request)
        let small = Self.hedgeable.contains(endpoint)
        if small { health.hedging.countRequest() }
        var i = 0
        while i < list.count {
            let entry = list[i]
            let record = health.health(entry.upstream.name)
            if entry.fallBackOnError, !record.admits() {
                MetricHandles.counter("warren_upstream_skipped_total", [("upstream", entry.upstream.name)]).increment()
                let wait = record.openFor().map { Int(($0.components.seconds)) } ?? 0
                let skipped = UpstreamFailure.failed(message: "\(entry.upstream.name): skipped after repeated failures (circuit open; probed again in \(wait) s)")
                if Self.explainsMore(skipped, than: best) { best = skipped }
                i += 1
                continue
            }
            if CachedOnlyFetch.isActive, entry.upstream is DirectUpstream {
                // Version control is never asked for what was not fetched before.
                let skipped = UpstreamFailure.notFound(status: 404, message: "direct: not asked (Disable-Module-Fetch)")
                if Self.explainsMore(skipped, than: best) { best = skipped }
                i += 1
                continue
            }
            let outcome: Outcome<T>
            if small, entry.fallBackOnError, i + 1 < list.count, health.hedging.isEnabled, !CachedOnlyFetch.isActive {
                outcome = await hedged(request, endpoint: endpoint, primary: entry, secondary: list[i + 1], after: record.hedgeDelay(), operation)
            } else {
                outcome = .single(await attempt(request, endpoint: endpoint, entry: entry, small: small, operation))
            }
            switch outcome {
            case .single(.success(let value)):
                return (value, entry.upstream.name)
            case .hedgeWon(let value, let name):
                return (value, name)
            case .single(.failure(let error)):
                if Self.explainsMore(error, than: best) { best = error }
                if !entry.fallBackOnError && !error.isNotFound { throw best ?? error }
                i += 1
            case .bothFailed(let first, let second):
                if Self.explainsMore(first, than: best) { best = first }
                if Self.explainsMore(second, than: best) { best = second }
                if !list[i + 1].fallBackOnError && !second.isNotFound { throw best ?? second }
                i += 2
            }
        }
        throw best ?? .failed(message: "no upstream configured")
    }

    /// Endpoints small and idempotent enough to hedge.
    static let hedgeable: Set<String> = ["list", "latest", "info", "mod", "query"]

    /// What a hedged race reports, as it happens.
    enum HedgeEvent<T: Sendable>: Sendable {
        case primary(Result<T, UpstreamFailure>)
        case secondary(Result<T, UpstreamFailure>)
        case hedgeNotSent
    }

    enum Outcome<T: Sendable>: Sendable {
        case single(Result<T, UpstreamFailure>)
        /// The hedge answered first (or the primary did, once the hedge was under way).
        case hedgeWon(T, String)
        /// Both were asked and both failed.
        case bothFailed(UpstreamFailure, UpstreamFailure)
    }

    /// One upstream, once: metrics, the log line of a failure, and its health record.
    func attempt<T: Sendable>(_ request: ProxyRequest, endpoint: String, entry: Entry, small: Bool,
                              _ operation: @Sendable (any Upstream, UpstreamResponse) async throws -> T) async -> Result<T, UpstreamFailure> {
        let upstream = entry.upstream
        let record = health.health(upstream.name)
        let start = ContinuousClock.now
        do {
            let response = try await upstream.fetch(request)
            let value = try await operation(upstream, response)
            self.record(upstream.name, endpoint: endpoint, outcome: "ok", since: start)
            record.succeeded(latency: small ? ContinuousClock.now - start : nil)
            return .success(value)
        } catch {
            let failure = UpstreamFailure.classify(error)
            if Task.isCancelled {
                // Lost a hedge race: neither a failure of the upstream nor an answer.
                record.abandoned()
                return .failure(failure)
            }
            self.record(upstream.name, endpoint: endpoint, outcome: failure.kind, since: start)
            switch failure {
            case .failed, .timedOut:
                if record.failed() {
                    logger.warning("upstream skipped after repeated failures (circuit open)", metadata: ["upstream": "\(upstream.name)"])
                }
            default:
                record.succeeded(latency: nil)
            }
            if !failure.isNotFound {
                logger.warning("upstream failed", metadata: ["upstream": "\(upstream.name)", "path": "\(request.proxyPath)", "error": "\(failure)"])
            }
            return .failure(failure)
        }
    }

    /// The primary alone, unless it is still silent after `delay`: then the secondary too,
    /// and the first success wins (the loser is cancelled). A primary that fails before
    /// the delay ends the race without a hedge (the loop moves on as usual).
    func hedged<T: Sendable>(_ request: ProxyRequest, endpoint: String, primary: Entry, secondary: Entry, after delay: Duration,
                             _ operation: @escaping @Sendable (any Upstream, UpstreamResponse) async throws -> T) async -> Outcome<T> {
        typealias Event = HedgeEvent<T>
        let hedging = health.hedging
        return await withTaskGroup(of: Event.self) { group -> Outcome<T> in
            group.addTask { .primary(await attempt(request, endpoint: endpoint, entry: primary, small: true, operation)) }
            group.addTask {
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return .hedgeNotSent
                }
                guard hedging.take() else { return .hedgeNotSent }
                MetricHandles.counter("warren_upstream_hedges_total", [("upstream", secondary.upstream.name)]).increment()
                return .secondary(await attempt(request, endpoint: endpoint, entry: secondary, small: true, operation))
            }
            var primaryFailure: UpstreamFailure?
            var secondaryFailure: UpstreamFailure?
            var hedgeSent = true
            while let event = await group.next() {
                switch event {
                case .primary(.success(let value)):
                    group.cancelAll()
                    return .hedgeWon(value, primary.upstream.name)
                case .secondary(.success(let value)):
                    group.cancelAll()
                    MetricHandles.counter("warren_upstream_hedges_won_total", [("upstream", secondary.upstream.name)]).increment()
                    return .hedgeWon(value, secondary.upstream.name)
                case .primary(.failure(let error)):
                    primaryFailure = error
                    // No hedge yet: stop waiting for one; the loop asks the next as usual.
                    if secondaryFailure == nil { group.cancelAll() }
                case .secondary(.failure(let error)):
                    secondaryFailure = error
                case .hedgeNotSent:
                    hedgeSent = false
                }
            }
            if let primaryFailure, let secondaryFailure, hedgeSent { return .bothFailed(primaryFailure, secondaryFailure) }
            return .single(.failure(primaryFailure ?? .failed(message: "\(primary.upstream.name): no answer")))
        }
    }

    /// Which failure to report when every upstream failed, after the go command's ranking:
    /// a later "not found" replaces an earlier one, and a real error replaces "not found".
    /// `off` only speaks when nothing else did.
    static func explainsMore(_ new: UpstreamFailure, than old: UpstreamFailure?) -> Bool {
        guard let old else { return true }
        switch new {
        case .disabled:
            return false
        case .notFound:
            return old.isNotFound || old == .disabled
        default:
            return true
        }
    }

    private func record(_ upstream: String, endpoint: String, outcome: String, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        MetricHandles.counter("warren_upstream_requests_total", [("upstream", upstream), ("endpoint", endpoint), ("outcome", outcome)]).increment()
        MetricHandles.timer("warren_upstream_request_duration_seconds", [("upstream", upstream), ("endpoint", endpoint)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}

/// `off`: an entry that always refuses.
struct UnavailableUpstream: Upstream {
    let name: String
    let failure: UpstreamFailure
    func fetch(_ request: ProxyRequest) async throws(UpstreamFailure) -> UpstreamResponse { throw failure }
}

/// Owns the HTTP clients of every outgoing request, so they can be shut down once: one
/// that connects directly, one per proxy of the environment (`client(for:)` picks by
/// `NO_PROXY`), all with the configured CAs and client certificate.
public final class HTTPClientFactory: Sendable {
    /// The direct client.
    public let client: HTTPClient
    let proxied: [ProxyEnvironment.Proxy: HTTPClient]
    let proxies: ProxyEnvironment
    /// For direct mode's `?go-get=1` lookups (proxy-aware, redirects followed by hand).
    public let discovery: DiscoveryHTTP

    /// - Throws: `OutgoingHTTP.Problem` when a CA file or client certificate does not load.
    public init(configuration: ProxyConfiguration) throws {
        let outgoing = configuration.outgoing
        let tls = try outgoing.tlsConfiguration()
        let make = { (proxy: ProxyEnvironment.Proxy?) in
            HTTPProxyUpstream.makeClient(connectTimeout: configuration.connectTimeout, readTimeout: configuration.headerTimeout,
                                         tls: tls, proxy: proxy)
        }
        client = make(nil)
        var proxied: [ProxyEnvironment.Proxy: HTTPClient] = [:]
        for proxy in Set([outgoing.proxies.http, outgoing.proxies.https].compactMap { $0 }) { proxied[proxy] = make(proxy) }
        self.proxied = proxied
        proxies = outgoing.proxies
        discovery = DiscoveryHTTP(connectTimeout: configuration.connectTimeout, readTimeout: configuration.headerTimeout,
                                  tls: try outgoing.tlsConfiguration(forUpstreams: false))
    }

    /// The client for requests to `url`: through the environment's proxy for its
    /// scheme, unless `NO_PROXY` (or loopback) says to connect directly.
    public func client(for url: String) -> HTTPClient {
        guard let parsed = URL(string: url), let proxy = proxies.proxy(for: parsed) else { return client }
        return proxied[proxy] ?? client
    }

    public func shutdown() async {
        try? await client.shutdown()
        for c in proxied.values { try? await c.shutdown() }
        await discovery.shutdown()
    }
}
