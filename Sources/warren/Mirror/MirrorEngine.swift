import Foundation
import Logging
import WarrenCore

/// The proxy engine `warren serve` would run on these settings — storage, index, upstream
/// chain, checksum verification, policy — for a command that fetches through it.
struct MirrorEngine {
    let opened: OpenedStorage
    let clients: HTTPClientFactory
    let proxy: ModuleProxy

    static func open(settings: ServeSettings, logger: Logger) async throws -> MirrorEngine {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try WarrenServe.proxyConfiguration(settings, environment: environment)
        let opened = try await OpenedStorage.open(settings: settings, environment: environment, logger: logger, sweep: false)
        let clients: HTTPClientFactory
        do {
            clients = try HTTPClientFactory(configuration: configuration)
        } catch {
            await opened.shutdown()
            throw error
        }
        let chain = UpstreamChain.make(configuration.upstreams, client: clients, configuration: configuration, logger: logger,
                                       health: settings.upstreamHealth)
        let checksums = WarrenServe.checksumDatabases(settings: settings, storage: opened.storage, client: clients, logger: logger)
        let policy = ModulePolicy(rules: settings.policy, vulnerabilities: settings.vulnerabilities, store: opened.index as? any VulnerabilityStore)
        try? await policy.refresh()
        let proxy = ModuleProxy(configuration: configuration, storage: opened.storage, chain: chain, logger: logger, checksums: checksums,
                                coordinator: opened.coordinator, index: opened.index, policy: policy)
        return MirrorEngine(opened: opened, clients: clients, proxy: proxy)
    }

    func shutdown() async {
        await proxy.drain()
        await clients.shutdown()
        await opened.shutdown()
    }
}
