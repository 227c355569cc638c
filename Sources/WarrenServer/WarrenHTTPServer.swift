import Hummingbird
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

        public init(host: String, port: Int, pathPrefix: String) {
            self.host = host
            self.port = port
            self.pathPrefix = pathPrefix
        }
    }

    /// The Hummingbird application; run it as a service (graceful shutdown finishes
    /// requests in flight, including streamed zips). `onRunning` receives the bound port.
    public static func makeApplication(settings: Settings, proxy: ModuleProxy, storage: any ArtifactStorage,
                                       metrics: MetricsEndpoint?, logger: Logger,
                                       onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let responder = ProxyResponder(proxy: proxy, storage: storage, pathPrefix: settings.pathPrefix,
                                       metrics: metrics, logger: logger)
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .notice)  // Hummingbird's own chatter stays quiet
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(
                address: .hostname(settings.host, port: settings.port),
                serverName: "warren"
            ),
            onServerRunning: { channel in
                await onRunning(channel.localAddress?.port ?? settings.port)
            },
            logger: serverLogger
        )
    }
}
