import GoModule

/// How the proxy engine behaves. Built by the CLI from flags, environment and a config
/// file; the engine itself never reads any of those.
public struct ProxyConfiguration: Sendable {
    /// The upstream chain, in GOPROXY syntax.
    public var upstreams: ProxyList
    /// Root of the embedded storage.
    public var dataDirectory: String
    /// How long a `list` or `@latest` answer is fresh; after that it is served while a
    /// refresh runs in the background.
    public var listTTL: Double
    /// Upstream timeouts, in seconds: establishing a connection, receiving the response
    /// head, and the whole exchange including the body.
    public var connectTimeout: Double
    public var headerTimeout: Double
    public var totalTimeout: Double
    /// Extra attempts after a transient upstream fault (connection failure, 502/503/504).
    public var retries: Int
    /// Bytes of `.info`/`.mod` kept in memory for fast answers.
    public var memoryCacheBytes: Int
    /// Build a version's zip as soon as direct mode has answered its `.info`, before the
    /// client asks for it (see `ZipPrefetcher`).
    public var prefetchDirectZips = true
    /// Direct mode: private modules, insecure hosts, GOVCS rules, credentials.
    public var direct = DirectConfiguration()
    /// Extra CAs, an upstream client certificate, and the environment's proxies, for
    /// every outgoing request.
    public var outgoing = OutgoingHTTP()
    /// Hosted namespaces (`--hosted`): modules under these patterns come only from what was
    /// published to Warren, never from an upstream or version control, so a public module
    /// of the same name cannot stand in for them.
    public var hosted = ModulePathPatterns("")
    /// What `Disable-Module-Fetch: true` allows on a miss: nothing (answer from this
    /// Warren's own store only), or asking proxy upstreams with the header passed on (a
    /// tiered edge in front of a central Warren that holds more), never `direct`.
    public var disableFetchAsksUpstreams = false
    /// What Warren's own checksum database records besides published versions.
    public var checksumLogScope = ChecksumLogScope.hosted

    public init(upstreams: ProxyList, dataDirectory: String, listTTL: Double = 60, connectTimeout: Double = 5,
                headerTimeout: Double = 30, totalTimeout: Double = 600, retries: Int = 2, memoryCacheBytes: Int = 64 << 20) {
        self.upstreams = upstreams
        self.dataDirectory = dataDirectory
        self.listTTL = listTTL
        self.connectTimeout = connectTimeout
        self.headerTimeout = headerTimeout
        self.totalTimeout = totalTimeout
        self.retries = retries
        self.memoryCacheBytes = memoryCacheBytes
    }
}
