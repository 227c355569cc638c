import AsyncHTTPClient
import Foundation
import Logging
import S3Client
import S3Storage
import WarrenCore

/// The storage `warren serve` runs on, opened from the settings, with what must be shut
/// down with it (object storage's HTTP client).
struct OpenedStorage {
    let storage: any ArtifactStorage
    /// What the start-up line shows: `dir …` or the bucket (never a credential).
    let displayName: String
    let http: HTTPClient?

    static func open(settings: ServeSettings, environment: [String: String], logger: Logger) throws -> OpenedStorage {
        switch settings.storage {
        case .directory:
            let disk = try openDirectory(settings.dataDirectory + "/modules", logger: logger)
            return OpenedStorage(storage: disk, displayName: "dir \(disk.root)", http: nil)
        case .s3(let bucket, let prefix):
            let configuration = try settings.s3.configuration(bucket: bucket, environment: environment)
            let tier = try openDirectory(settings.dataDirectory + "/s3-tier", logger: logger)
            let http = S3Client.makeHTTPClient()
            let storage = S3ArtifactStorage(s3: S3Client(configuration: configuration, http: http), prefix: prefix, localTier: tier,
                                            localTierBytes: settings.s3.localCacheBytes)
            return OpenedStorage(storage: storage, displayName: "\(configuration.displayName)/\(storage.prefix)", http: http)
        }
    }

    /// A directory of artifacts, with what an earlier run left unfinished removed.
    static func openDirectory(_ root: String, logger: Logger) throws -> LocalDiskStorage {
        do {
            let disk = try LocalDiskStorage(root: root)
            let swept = try disk.sweepLeftovers()
            if swept > 0 { logger.notice("removed unfinished downloads left by an earlier run", metadata: ["files": "\(swept)"]) }
            return disk
        } catch {
            throw ServeSettings.Problem(description: "cannot use data directory \(root): \(error)")
        }
    }

    func shutdown() async {
        try? await http?.shutdown()
    }
}
