import Foundation
import S3Client
import WarrenCore

/// Multipart uploads that a dead process left open: a replica killed while a large zip
/// went up never completes or aborts its upload, and the bucket keeps (and bills) the
/// parts forever. No object ever appears from them, so serving is unaffected; this sweep
/// frees them.
extension S3ArtifactStorage {
    /// Aborts every open upload under the prefix that no live process is working on and
    /// returns how many it aborted.
    ///
    /// With a coordinator, an upload is abandoned when its key's fetch lease is free: a
    /// replica uploads a zip only while it holds that lease, and a dead replica's lease
    /// ended with its database connection. Without one (a single node), it is abandoned
    /// when it began before this process started (`startedAt`), less a margin for the
    /// service's clock.
    public func abortAbandonedUploads(coordinator: (any FetchCoordinator)?, startedAt: Date) async throws -> Int {
        let uploads: [S3Client.OpenUpload]
        do {
            uploads = try await s3.listOpenUploads(prefix: prefix)
        } catch {
            throw StorageUnavailable(reason: "object storage \(s3.configuration.displayName): cannot list open uploads: \(error)")
        }
        var aborted = 0
        for upload in uploads {
            let relative = String(upload.key.dropFirst(prefix.count))
            if let coordinator {
                // Keys Warren would never write are not Warren's to judge.
                guard let key = StorageKey.artifact(atPath: relative),
                      let lease = try await coordinator.tryAcquire(key) else { continue }
                do {
                    try await abort(upload)
                } catch {
                    await lease.release()
                    throw error
                }
                await lease.release()
            } else {
                guard let initiated = Self.uploadTime(upload.initiated), initiated < startedAt.addingTimeInterval(-5) else { continue }
                try await abort(upload)
            }
            aborted += 1
        }
        return aborted
    }

    private func abort(_ upload: S3Client.OpenUpload) async throws {
        do {
            try await s3.abortMultipartUpload(upload.key, uploadID: upload.uploadID)
        } catch {
            throw StorageUnavailable(reason: "object storage \(s3.configuration.displayName): cannot abort an upload: \(error)")
        }
    }

    /// `Initiated` of a listing: ISO 8601, with or without fractional seconds.
    static func uploadTime(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return withFraction.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
