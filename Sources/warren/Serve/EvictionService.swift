import Logging
import ServiceLifecycle
import WarrenCore

/// Evicts as the cache fills: a pass at start and then a minute after each, one replica
/// at a time, with the limits and hosted patterns in force at that moment (a reload may
/// change them; with no limit set, a pass does nothing).
struct EvictionService: Service {
    let live: SharedMutex<ConfigurationReloader.Applied>
    let storage: any ArtifactStorage
    let index: any MetadataIndex
    let coordinator: (any FetchCoordinator)?
    let proxy: ModuleProxy
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let settings = live.withLock { $0.settings }
                if settings.evictionLimits.isEnabled {
                    let evictor = CacheEvictor(storage: storage, index: index, pins: index as? any PinStore, hosted: settings.hosted,
                                               limits: settings.evictionLimits, coordinator: coordinator, logger: logger)
                    do {
                        try await evictor.run { [proxy] key in proxy.forget(key) }
                    } catch {
                        logger.warning("eviction failed; it runs again in a minute", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }
}
