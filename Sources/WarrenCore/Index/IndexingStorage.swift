import Logging
import Synchronization

/// Storage that tells the metadata index about every artifact of a canonical version it
/// stores (`.info`, `.mod`, `.zip`), after the write has succeeded.
///
/// An index failure never fails the write: the artifact is stored and served; the miss
/// is logged, counted (`warren_index_errors_total`) and kept, and `replayMissed` records
/// it once the index can be written again (the server calls it every few seconds), so an
/// outage of the database needs no manual step. `warren index rebuild` brings the index
/// back in line with storage after anything worse (a replica killed with misses kept).
public struct IndexingStorage: RedirectingStorage, TieredStorage {
    public let base: any ArtifactStorage
    public let index: any MetadataIndex
    let logger: Logger
    let missed = MissedIndexRecords()

    public init(base: any ArtifactStorage, index: any MetadataIndex, logger: Logger) {
        self.base = base
        self.index = index
        self.logger = logger
    }

    public func open(_ key: StorageKey) async throws -> StoredArtifact? { try await base.open(key) }

    public func readSmall(_ key: StorageKey, limit: Int) async throws -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
        try await base.readSmall(key, limit: limit)
    }

    public func writeSmall(_ key: StorageKey, bytes: [UInt8], metadata: ArtifactMetadata) async throws {
        try await base.writeSmall(key, bytes: bytes, metadata: metadata)
        await record(key, metadata)
    }

    public func makeStaging(_ key: StorageKey) async throws -> StagingFile { try await base.makeStaging(key) }

    public func commit(_ staging: StagingFile, metadata: ArtifactMetadata) async throws {
        try await base.commit(staging, metadata: metadata)
        await record(staging.key, metadata)
    }

    public func discard(_ staging: StagingFile) async { await base.discard(staging) }

    /// Removes the artifact, and tells the index (a version is listed only while its zip
    /// is stored).
    public func remove(_ key: StorageKey) async throws {
        try await base.remove(key)
        if case .artifact(let module, let version, let kind) = key, kind != .info {
            try await index.recordRemoved(module: module, version: version, kind: kind)
        }
    }

    public func checkWritable() async -> Bool { await readinessProblem() == nil }

    public func openLocal(_ key: StorageKey) async throws -> StoredArtifact? {
        guard let tiered = base as? any TieredStorage else { return try await base.open(key) }
        return try await tiered.openLocal(key)
    }

    public func openRemote(_ key: StorageKey) async throws -> (metadata: ArtifactMetadata, body: UpstreamBody)? {
        try await (base as? any TieredStorage)?.openRemote(key)
    }

    public func redirect(for key: StorageKey) async -> (url: String, maxAge: Int)? {
        await (base as? any RedirectingStorage)?.redirect(for: key)
    }

    public func forEachArtifact(_ body: @escaping @Sendable (StorageKey, ArtifactMetadata) async throws -> Void) async throws {
        try await base.forEachArtifact(body)
    }

    /// Records every artifact storage holds (the index is rebuilt from the source of
    /// truth); returns how many artifacts were read.
    public func rebuildIndex() async throws -> Int {
        let count = Atomic<Int>(0)
        try await base.forEachArtifact { [index] key, metadata in
            guard case .artifact(let module, let version, let kind) = key else { return }
            try await index.recordStored(module: module, version: version, kind: kind, metadata: metadata)
            count.add(1, ordering: .relaxed)
        }
        return count.load(ordering: .relaxed)
    }

    public func readinessProblem() async -> String? {
        if let problem = await base.readinessProblem() { return problem }
        return await index.readinessProblem()
    }

    func record(_ key: StorageKey, _ metadata: ArtifactMetadata) async {
        guard case .artifact(let module, let version, let kind) = key else { return }
        // While earlier misses wait, the index is down: queue behind them at once rather
        // than make every request wait out the database's deadline.
        if missed.count > 0 {
            missed.add(key, .init(module: module, version: version, kind: kind, metadata: metadata))
            return
        }
        do {
            try await index.recordStored(module: module, version: version, kind: kind, metadata: metadata)
        } catch {
            MetricHandles.counter("warren_index_errors_total", [("operation", "record")]).increment()
            missed.add(key, .init(module: module, version: version, kind: kind, metadata: metadata))
            logger.error("the metadata index missed a stored artifact (recorded again once it is back)", metadata: [
                "artifact": "\(key.relativePath)", "error": "\(error)"])
        }
    }

    /// Artifacts stored while the index could not be written, waiting to be recorded.
    public var missedCount: Int { missed.count }

    /// Records what the index missed; stops at the first failure (it is still down) and
    /// keeps the rest. Returns how many were recorded.
    @discardableResult
    public func replayMissed() async -> Int {
        let pending = missed.takeAll()
        var recorded = 0
        for (offset, (_, entry)) in pending.enumerated() {
            do {
                try await index.recordStored(module: entry.module, version: entry.version, kind: entry.kind, metadata: entry.metadata)
                recorded += 1
            } catch {
                for (key, entry) in pending[offset...] { missed.add(key, entry) }
                break
            }
        }
        if recorded > 0 {
            logger.notice("the metadata index is back: recorded what it missed", metadata: [
                "artifacts": "\(recorded)", "still-missing": "\(missed.count)"])
        }
        if missed.count == 0, missed.takeOverflow() {
            logger.error("the metadata index missed more artifacts than were kept: run warren index rebuild")
        }
        return recorded
    }
}
