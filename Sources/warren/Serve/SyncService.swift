import Logging
import ServiceLifecycle
import WarrenCore

/// `--sync-top N`: every `--sync-interval`, the N most downloaded modules have their list
/// and `@latest` fetched again and their latest version cached, so a new release is
/// there before the first developer asks (the active sync of a mirror). One replica syncs
/// at a time (the coordinator's `maintenance("sync")` lease).
struct SyncService: Service {
    let proxy: ModuleProxy
    let index: any MetadataIndex
    let coordinator: (any FetchCoordinator)?
    let top: Int
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await pass()
            }
        }
    }

    func pass() async {
        await inMaintenanceTurn(coordinator, "sync") { await passInTurn() }
    }

    func passInTurn() async {
        guard let popular = try? await index.mostDownloaded(limit: top * 8) else { return }
        var modules: [String] = []
        for v in popular where !modules.contains(v.module) && modules.count < top { modules.append(v.module) }
        var items: [ModuleMirror.Item] = []
        var failures = 0
        for module in modules {
            do {
                if let latest = try await proxy.syncLatest(module) {
                    items.append(ModuleMirror.Item(module: module, version: latest, zip: true))
                }
            } catch {
                failures += 1
                logger.warning("sync: cannot refresh a module", metadata: ["module": "\(module)", "error": "\(error.message)"])
            }
        }
        let report = await ModuleMirror(proxy: proxy, concurrency: 2).fetch(items) { _, _, _, _ in }
        failures += report.failures.count
        MetricHandles.counter("warren_sync_modules_total", [("result", "ok")]).increment(by: Int64(max(0, modules.count - failures)))
        if failures > 0 { MetricHandles.counter("warren_sync_modules_total", [("result", "failed")]).increment(by: Int64(failures)) }
        logger.info("sync pass", metadata: ["modules": "\(modules.count)", "failed": "\(failures)"])
    }
}
