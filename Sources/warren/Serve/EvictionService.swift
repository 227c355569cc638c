import Logging
import ServiceLifecycle
import WarrenCore

/// Evicts as the cache fills: a pass at start and then a minute after each, one
/// replica at a time.
struct EvictionService: Service {
    let evictor: CacheEvictor
    let proxy: ModuleProxy
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await evictor.run { [proxy] key in proxy.forget(key) }
                } catch {
                    logger.warning("eviction failed; it runs again in a minute", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }
}
