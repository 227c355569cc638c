import Logging
import ServiceLifecycle
import WarrenCore

/// Evicts as the cache fills: a pass a minute (the first a minute after start), one
/// replica at a time.
struct EvictionService: Service {
    let evictor: CacheEvictor
    let proxy: ModuleProxy
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(60))
                guard !Task.isCancelled else { return }
                do {
                    try await evictor.run { [proxy] key in proxy.forget(key) }
                } catch {
                    logger.warning("eviction failed; it runs again in a minute", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
