import Foundation
import Logging
import S3Storage
import ServiceLifecycle
import WarrenCore

/// What a running server repairs by itself, so an outage or a killed replica needs no
/// manual step: it records in the metadata index what was stored while the index's
/// database was down (every few seconds while anything is missing), and aborts
/// multipart uploads that killed replicas left open in the bucket (at start, then every
/// quarter of an hour).
struct StorageMaintenance: Service {
    let storage: IndexingStorage
    let bucket: S3ArtifactStorage?
    let coordinator: (any FetchCoordinator)?
    let logger: Logger
    var replayInterval: Duration = .seconds(2)
    var sweepInterval: Duration = .seconds(15 * 60)

    func run() async throws {
        let startedAt = Date()
        await cancelWhenGracefulShutdown {
            var nextSweep = ContinuousClock.now
            while !Task.isCancelled {
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
