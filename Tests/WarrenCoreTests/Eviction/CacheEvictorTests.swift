import Foundation
import GoModule
import Logging
import SQLiteIndex
import Testing
@testable import WarrenCore

/// What eviction chooses, on a real index: by age, by size, never the young, the
/// hosted or the pinned; `.mod` and `.info` only after four times the maximum age.
@Suite struct CacheEvictorTests {
    static let now = 1_800_000_000.0

    /// Versions stored long ago, last used `idle` seconds before `now` (nil: stored
    /// `idle` seconds ago and never downloaded), each zip `size` bytes.
    static func index(_ versions: [(module: String, idle: Double, size: Int64, downloaded: Bool)]) async throws -> SQLiteMetadataIndex {
        let index = try await SQLiteMetadataIndex.open(path: FileManager.default.temporaryDirectory.path + "/warren-evict-\(UUID().uuidString).sqlite",
                                                       logger: Logger(label: "test"))
        try await index.migrate()
        for v in versions {
            let stored = v.downloaded ? now - 100_000 : now - v.idle
            for kind in [ArtifactKind.mod, .zip] {
                try await index.recordStored(module: v.module, version: "v1.0.0", kind: kind,
                                             metadata: ArtifactMetadata(size: v.size, hash: "h1:\(kind)", storedAt: stored, origin: "up"))
            }
            if v.downloaded {
                try await index.recordDownloads([DownloadCount(module: v.module, version: "v1.0.0", count: 1, lastAccess: now - v.idle)])
            }
        }
        return index
    }

    struct NoStorage: ArtifactStorage {
        func open(_ key: StorageKey) async throws -> StoredArtifact? { nil }
        func readSmall(_ key: StorageKey, limit: Int) async throws -> (bytes: [UInt8], metadata: ArtifactMetadata)? { nil }
        func writeSmall(_ key: StorageKey, bytes: [UInt8], metadata: ArtifactMetadata) async throws {}
        func makeStaging(_ key: StorageKey) async throws -> StagingFile { throw StorageUnavailable(reason: "none") }
        func commit(_ staging: StagingFile, metadata: ArtifactMetadata) async throws {}
        func discard(_ staging: StagingFile) async {}
        func remove(_ key: StorageKey) async throws {}
        func checkWritable() async -> Bool { true }
        func forEachArtifact(_ body: @escaping @Sendable (StorageKey, ArtifactMetadata) async throws -> Void) async throws {}
    }

    static func plan(_ index: SQLiteMetadataIndex, _ limits: CacheEvictor.Limits, hosted: String = "") async throws -> [String] {
        let evictor = CacheEvictor(storage: NoStorage(), index: index, pins: index, hosted: ModulePathPatterns(hosted), limits: limits,
                                   coordinator: nil, logger: Logger(label: "test"))
        return try await evictor.plan(now: now).victims.map { "\($0.module) \($0.kinds.map(\.rawValue).joined(separator: "+"))" }
    }

    @Test func byAgeZipsFirstThenTheirSmallFilesAndNeverTheYoung() async throws {
        let index = try await Self.index([("example.com/ancient", 500, 10, true), ("example.com/old", 150, 10, true),
                                          ("example.com/recent", 50, 10, true), ("example.com/young", 5, 10, false)])
        #expect(try await Self.plan(index, .init(maxBytes: nil, maxAge: 100, minAge: 10)) == ["example.com/ancient zip+mod+info", "example.com/old zip"])
        // Over any size limit, the young version still stays.
        #expect(try await Self.plan(index, .init(maxBytes: 0, maxAge: nil, minAge: 10)) == ["example.com/ancient zip", "example.com/old zip", "example.com/recent zip"])
        await index.close()
    }

    @Test func bySizeLeastRecentlyUsedFirstSkippingHostedAndPinned() async throws {
        let index = try await Self.index([("corp.example.com/hosted", 900, 400, true), ("example.com/pinned", 800, 400, true),
                                          ("example.com/a", 700, 300, true), ("example.com/b", 600, 300, true), ("example.com/c", 500, 300, true)])
        try await index.pin("example.com/pin*")
        // 1,300 bytes of cached zips (hosted ones are not the cache's); a 900-byte quota
        // takes the two least recently used that may go.
        #expect(try await Self.plan(index, .init(maxBytes: 900, maxAge: nil, minAge: 0), hosted: "corp.example.com/*")
                == ["example.com/a zip", "example.com/b zip"])
        #expect(try await index.unpin("example.com/pin*"))
        #expect(try await Self.plan(index, .init(maxBytes: 900, maxAge: nil, minAge: 0), hosted: "corp.example.com/*")
                == ["example.com/pinned zip"])
        await index.close()
    }
}
