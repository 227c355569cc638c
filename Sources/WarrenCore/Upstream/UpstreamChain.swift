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

    public init(entries: [Entry], privatePatterns: ModulePathPatterns = ModulePathPatterns(""), privateUpstream: (any Upstream)? = nil,
                logger: Logger) {
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
                            reusing previous: UpstreamChain? = nil) -> UpstreamChain {
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
                             privateUpstream: privatePatterns.isEmpty ? nil : direct, logger: logger)
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
    public func first<T: Sendable>(_ request: ProxyRequest, endpoint: String,
                                   _ operation: (any Upstream, UpstreamResponse) async throws -> T) async throws(UpstreamFailure) -> (T, String) {
        var best: UpstreamFailure?
        for entry in entries(for: request) {
            let upstream = entry.upstream
            let start = ContinuousClock.now
            do throws(UpstreamFailure) {
                let value: T
                do {
                    let response = try await upstream.fetch(request)
                    value = try await operation(upstream, response)
                } catch {
                    throw UpstreamFailure.classify(error)
                }
                record(upstream.name, endpoint: endpoint, outcome: "ok", since: start)
                return (value, upstream.name)
            } catch {
                record(upstream.name, endpoint: endpoint, outcome: error.kind, since: start)
                if !error.isNotFound {
                    logger.warning("upstream failed", metadata: ["upstream": "\(upstream.name)", "path": "\(request.proxyPath)", "error": "\(error)"])
                }
                if Self.explainsMore(error, than: best) { best = error }
                if !entry.fallBackOnError && !error.isNotFound { break }
            }
        }
        throw best ?? .failed(message: "no upstream configured")
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
