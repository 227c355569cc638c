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
    let logger: Logger

    public init(entries: [Entry], logger: Logger) {
        self.entries = entries
        self.logger = logger
    }

    /// Builds the chain for a parsed GOPROXY list.
    public static func make(_ list: ProxyList, client: HTTPClientFactory, configuration: ProxyConfiguration, logger: Logger) -> UpstreamChain {
        let entries = list.entries.map { entry -> Entry in
            let upstream: any Upstream
            switch entry.source {
            case .url(let url) where url.hasPrefix("file:"):
                upstream = FileTreeUpstream(url: url)
            case .url(let url):
                upstream = HTTPProxyUpstream(baseURL: url, client: client.client, headerTimeout: configuration.headerTimeout,
                                             totalTimeout: configuration.totalTimeout, retries: configuration.retries, logger: logger)
            case .direct:
                upstream = DirectUpstream(dataDirectory: configuration.dataDirectory)
            case .off:
                upstream = UnavailableUpstream(name: "off", failure: .disabled)
            }
            return Entry(upstream: upstream, fallBackOnError: entry.fallBackOnError)
        }
        return UpstreamChain(entries: entries, logger: logger)
    }

    /// Runs `operation` against each upstream in turn until one succeeds, following the
    /// fall-through rules. On failure, throws the most informative failure, ranked as the
    /// go command ranks them: a real error beats "not found".
    public func first<T: Sendable>(_ path: String, endpoint: String,
                                   _ operation: (any Upstream, UpstreamResponse) async throws -> T) async throws(UpstreamFailure) -> (T, String) {
        var best: UpstreamFailure?
        for entry in entries {
            let upstream = entry.upstream
            let start = ContinuousClock.now
            do throws(UpstreamFailure) {
                let value: T
                do {
                    let response = try await upstream.fetch(path)
                    value = try await operation(upstream, response)
                } catch {
                    throw UpstreamFailure.classify(error)
                }
                record(upstream.name, endpoint: endpoint, outcome: "ok", since: start)
                return (value, upstream.name)
            } catch {
                record(upstream.name, endpoint: endpoint, outcome: error.kind, since: start)
                if !error.isNotFound {
                    logger.warning("upstream failed", metadata: ["upstream": "\(upstream.name)", "path": "\(path)", "error": "\(error)"])
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
    func fetch(_ path: String) async throws(UpstreamFailure) -> UpstreamResponse { throw failure }
}

/// Owns the HTTP client shared by all HTTP upstreams, so it can be shut down once.
public final class HTTPClientFactory: Sendable {
    public let client: HTTPClient

    public init(configuration: ProxyConfiguration) {
        client = HTTPProxyUpstream.makeClient(connectTimeout: configuration.connectTimeout, readTimeout: configuration.headerTimeout)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }
}
