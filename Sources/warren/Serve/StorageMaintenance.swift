import Foundation
import Logging
import S3Storage
import ServiceLifecycle
import WarrenCore

/// What a running server does beside answering requests: it writes the zip downloads
/// counted in memory to the metadata index (every 10 s, so a request never waits on the
/// database for it), and repairs by itself what an outage or a killed replica left, with
/// no manual step: it records in the index what was stored while the index's database
/// was down (every 2 s while anything is missing), and aborts multipart uploads that
/// killed replicas left open in the bucket (at start, then every quarter of an hour).
struct StorageMaintenance: Service {
    let storage: IndexingStorage
    let downloads: DownloadTally
    let bucket: S3ArtifactStorage?
    let coordinator: (any FetchCoordinator)?
    let logger: Logger
    var replayInterval: Duration = .seconds(2)
    var sweepInterval: Duration = .seconds(15 * 60)
    var flushInterval: Duration = .seconds(10)
    /// The ten most downloaded versions, as gauges for dashboards, refreshed after flushes.
    let topModules = TopModulesGauge()

    func run() async throws {
        let startedAt = Date()
        await cancelWhenGracefulShutdown {
            var nextSweep = ContinuousClock.now
            var nextFlush = ContinuousClock.now + flushInterval
            while !Task.isCancelled {
                if ContinuousClock.now >= nextFlush {
                    await flushDownloads()
                    try? await topModules.refresh(from: storage.index)
                    nextFlush = ContinuousClock.now + flushInterval
                }
                if storage.missedCount > 0 {
                    await storage.replayMissed()
                }
                if let bucket, ContinuousClock.now >= nextSweep {
                    await sweep(bucket, startedAt: startedAt)
                    nextSweep = ContinuousClock.now + sweepInterval
                }
                try? await Task.sleep(for: replayInterval)
            }
        }
    }

    /// Writes what was counted; on failure keeps it for the next flush.
    func flushDownloads() async {
        let batch = downloads.drain()
        guard !batch.isEmpty else { return }
        do {
            try await storage.index.recordDownloads(batch)
        } catch {
            downloads.restore(batch)
            logger.warning("could not write download counts to the metadata index (tried again later)",
                           metadata: ["versions": "\(batch.count)", "error": "\(error)"])
        }
    }

    func sweep(_ bucket: S3ArtifactStorage, startedAt: Date) async {
        do {
            let aborted = try await bucket.abortAbandonedUploads(coordinator: coordinator, startedAt: startedAt)
            if aborted > 0 {
                logger.notice("aborted multipart uploads that stopped processes left open", metadata: ["uploads": "\(aborted)"])
            }
        } catch {
            logger.warning("could not sweep abandoned multipart uploads (tried again later)", metadata: ["error": "\(error)"])
        }
    }
}
