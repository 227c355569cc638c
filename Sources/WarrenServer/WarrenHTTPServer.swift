import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import WarrenCore

/// Builds the HTTP server around a `ModuleProxy`.
public enum WarrenHTTPServer {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var pathPrefix: String
        /// Bytes of ready answers for the hot path (`HotResponseTable`); 0 turns it off.
        /// The bodies are shared with the engine's memory cache, so this costs little more.
        public var hotResponseBytes: Int
        /// Timeouts, the connection cap and pipelining bounds for clients.
        public var limits: ClientLimits
        /// The per-request log (nil: request lines go through the logger).
        public var accessLog: AccessLog?
        /// Where zip downloads are counted for the metadata index (nil: not counted).
        public var downloads: DownloadTally?
        /// Serve HTTPS with this certificate (nil: plain HTTP).
        public var tls: TLSCertificateStore?
        /// Who may do what (nil: everyone everything, no credentials looked at).
        public var access: AccessControl?
        /// Sign-in at /login (nil: not configured).
        public var login: LoginFlow?
        /// The URL clients reach Warren at (`?go-get=1` answers name it); nil: from the
        /// request's Host header.
        public var publicURL: String?
        /// Serve the web console under /-/.
        public var console = true
        /// The cache's eviction limits in force, for the console's status page (nil: unbounded).
        public var cacheLimits: @Sendable () -> CacheEvictor.Limits?

        public init(host: String, port: Int, pathPrefix: String, hotResponseBytes: Int = 64 << 20, limits: ClientLimits = ClientLimits(),
                    accessLog: AccessLog? = nil, downloads: DownloadTally? = nil, tls: TLSCertificateStore? = nil,
                    access: AccessControl? = nil, login: LoginFlow? = nil, publicURL: String? = nil, console: Bool = true,
                    cacheLimits: @escaping @Sendable () -> CacheEvictor.Limits? = { nil }) {
            self.console = console
            self.cacheLimits = cacheLimits
            self.publicURL = publicURL
            self.accessLog = accessLog
            self.access = access
            self.login = login
            self.tls = tls
            self.downloads = downloads
            self.host = host
            self.port = port
            self.pathPrefix = pathPrefix
            self.hotResponseBytes = hotResponseBytes
            self.limits = limits
        }
    }

    /// The Hummingbird application; run it as a service (graceful shutdown finishes
    /// requests in flight, including streamed zips). `onRunning` receives the bound port.
    public static func makeApplication(settings: Settings, proxy: ModuleProxy, storage: any ArtifactStorage,
                                       index: (any MetadataIndex)? = nil, metrics: MetricsEndpoint?, logger: Logger,
                                       onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let serverName = "warren"
        let hot = HotResponseTable(capacity: settings.hotResponseBytes, serverName: serverName, policy: proxy.policy)
        let responder = ProxyResponder(proxy: proxy, storage: storage, index: index, pathPrefix: settings.pathPrefix,
                                       metrics: metrics, hot: hot, logger: logger, accessLog: settings.accessLog,
                                       downloads: settings.downloads, zeroCopy: settings.tls == nil,
                                       access: settings.access, login: settings.login, publicURL: settings.publicURL,
                                       secure: settings.tls != nil, console: settings.console, cacheLimits: settings.cacheLimits)
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .notice)  // Hummingbird's own chatter stays quiet
        let requestLogger = logger
        let limits = settings.limits
        let registry = ConnectionRegistry(limit: limits.maxConnections)
        // GOPROXY requests are a line and a few headers; a large header is an attack.
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 100)
        return Application(
            responder: responder,
            server: HTTPServerBuilder { respond in
                WarrenHTTP1Channel(inner: HTTP1Channel(responder: respond, configuration: .init(httpDecoderConfiguration: decoder)),
                                   table: hot, limits: limits, registry: registry, logger: requestLogger,
                                   accessLog: settings.accessLog, tls: settings.tls, access: settings.access)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port),
                serverName: serverName
            ),
            onServerRunning: { channel in
                await onRunning(channel.localAddress?.port ?? settings.port)
            },
            logger: serverLogger
        )
    }
}
