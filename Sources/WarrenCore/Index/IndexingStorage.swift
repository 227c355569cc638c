import Logging
import Synchronization

/// Storage that tells the metadata index about every artifact of a canonical version it
/// stores (`.info`, `.mod`, `.zip`), after the write has succeeded.
///
/// An index failure never fails the write: the artifact is stored and served; the miss
/// is logged and counted (`warren_index_errors_total`), and `warren index rebuild`
/// brings the index back in line with storage.
public struct IndexingStorage: RedirectingStorage, TieredStorage {
    public let base: any ArtifactStorage
    public let index: any MetadataIndex
    let logger: Logger

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
        do {
            try await index.recordStored(module: module, version: version, kind: kind, metadata: metadata)
        } catch {
            MetricHandles.counter("warren_index_errors_total", [("operation", "record")]).increment()
            logger.error("the metadata index missed a stored artifact (warren index rebuild repairs it)", metadata: [
                "artifact": "\(key.relativePath)", "error": "\(error)"])
        }
    }
}
