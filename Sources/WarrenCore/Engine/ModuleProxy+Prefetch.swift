import Foundation
import GoModule

extension ModuleProxy {
    /// The upstream name whose `.info` answers start a zip prefetch: direct mode, where
    /// a zip costs a build from git rather than a download.
    static let prefetchingOrigin = "direct"

    /// Queues a build of `module@version`'s zip after direct mode resolved the version
    /// (see `ZipPrefetcher`); the build goes through `zip(…)`, so it is single-flight
    /// with the client's own request, verified and stored like any other.
    func prefetchZip(module: String, version: String, origin: String) {
        guard configuration.prefetchDirectZips, origin == Self.prefetchingOrigin,
              ModuleVersion.canonical(version) == version else { return }
        let key = StorageKey.artifact(module: module, version: version, kind: .zip)
        let queued = prefetcher.submit { [self] in
            if downloads.get(key) != nil { return }
            if (try? await storage.open(key)) ?? nil != nil { return }
            do {
                _ = try await zip(module: module, version: version, allowFetch: true)
                if let running = downloads.get(key) { await running.waitUntilSettled() }
                MetricHandles.counter("warren_zip_prefetches_total", [("outcome", "built")]).increment()
            } catch {
                MetricHandles.counter("warren_zip_prefetches_total", [("outcome", "failed")]).increment()
                logger.debug("zip prefetch failed", metadata: ["module": "\(module)", "version": "\(version)", "error": "\(error)"])
            }
        }
        if !queued { MetricHandles.counter("warren_zip_prefetches_total", [("outcome", "dropped")]).increment() }
    }

    /// The `Version` of a `.info` answer (already validated when this is called).
    static func infoVersion(_ bytes: [UInt8]) -> String? {
        struct Info: Decodable { var Version: String }
        return try? JSONDecoder().decode(Info.self, from: Data(bytes)).Version
    }
}
