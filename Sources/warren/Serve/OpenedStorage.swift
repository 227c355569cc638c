import AsyncHTTPClient
import Foundation
import Logging
import S3Client
import PostgresIndex
import S3Storage
import SQLiteIndex
import WarrenCore

/// The storage `warren serve` runs on, opened from the settings: the artifact backend,
/// wrapped so that the metadata index hears of every stored version, and what must be
/// shut down with it (object storage's HTTP client, the index's connections).
struct OpenedStorage {
    let storage: IndexingStorage
    /// The bucket, when storage is object storage (for the sweep of abandoned uploads).
    let bucket: S3ArtifactStorage?
    let index: any MetadataIndex
    /// With a PostgreSQL database: replicas take turns fetching cold zips through it.
    let coordinator: (any FetchCoordinator)?
    /// What the start-up line shows: `dir …` or the bucket (never a credential).
    let displayName: String
    let http: HTTPClient?

    /// - Parameter sweep: remove what an earlier run left unfinished (not for a storage
    ///   that a running server may be writing to, such as the source of a copy).
    static func open(settings: ServeSettings, environment: [String: String], logger: Logger,
                     sweep: Bool = true) async throws -> OpenedStorage {
        let base: any ArtifactStorage
        let displayName: String
        var http: HTTPClient?
        var objectStorage: S3ArtifactStorage?
        switch settings.storage {
        case .directory:
            let disk = try openDirectory(settings.dataDirectory + "/modules", logger: logger, sweep: sweep)
            (base, displayName) = (disk, "dir \(disk.root)")
        case .s3(let bucket, let prefix):
            let configuration = try settings.s3.configuration(bucket: bucket, environment: environment)
            let tier = try openDirectory(settings.dataDirectory + "/s3-tier", logger: logger, sweep: sweep)
            let client = S3Client.makeHTTPClient()
            http = client
            let s3 = S3ArtifactStorage(s3: S3Client(configuration: configuration, http: client), prefix: prefix, localTier: tier,
                                       localTierBytes: settings.s3.localCacheBytes, redirectOver: settings.s3.redirectOver)
            (base, displayName) = (s3, "\(configuration.displayName)/\(s3.prefix)")
            objectStorage = s3
        }
        let index: any MetadataIndex
        do {
            index = try await openIndex(settings, logger: logger)
        } catch {
            try? await http?.shutdown()
            throw ServeSettings.Problem(description: "cannot open the metadata index \(settings.database): \(error)")
        }
        var coordinator: (any FetchCoordinator)?
        if case .postgres(let url) = settings.database {
            coordinator = try PostgresFetchCoordinator(url: url, logger: logger)
        }
        return OpenedStorage(storage: IndexingStorage(base: base, index: index, logger: logger), bucket: objectStorage, index: index,
                             coordinator: coordinator, displayName: displayName, http: http)
    }

    /// The index, its schema brought up to date.
    static func openIndex(_ settings: ServeSettings, logger: Logger) async throws -> any MetadataIndex {
        let index: any MetadataIndex
        switch settings.database {
        case .sqlite(let path):
            try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
            index = try await SQLiteMetadataIndex.open(path: path ?? settings.dataDirectory + "/index.sqlite", logger: logger)
        case .postgres(let url):
            let postgres = try PostgresMetadataIndex(url: url, logger: logger)
            // Unreachable: say so now, not after the migration's longer deadline.
            if let problem = await postgres.readinessProblem() {
                await postgres.close()
                throw ServeSettings.Problem(description: problem)
            }
            index = postgres
        }
        do {
            try await index.migrate()
        } catch {
            await index.close()
            throw error
        }
        return index
    }

    /// A directory of artifacts, with what an earlier run left unfinished removed.
    static func openDirectory(_ root: String, logger: Logger, sweep: Bool = true) throws -> LocalDiskStorage {
        do {
            let disk = try LocalDiskStorage(root: root)
            let swept = sweep ? try disk.sweepLeftovers() : 0
            if swept > 0 { logger.notice("removed unfinished downloads left by an earlier run", metadata: ["files": "\(swept)"]) }
            return disk
        } catch {
            throw ServeSettings.Problem(description: "cannot use data directory \(root): \(error)")
        }
    }

    func shutdown() async {
        try? await http?.shutdown()
        await index.close()
    }
}
