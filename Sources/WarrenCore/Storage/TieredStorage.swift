/// Storage with a local tier in front of a remote store (object storage). The engine
/// streams an artifact that only the remote store holds to its clients as it arrives,
/// through the same download machinery as an upstream fetch, instead of waiting until the
/// local tier has the whole file.
public protocol TieredStorage: ArtifactStorage {
    /// The artifact if the local tier holds it; never reads the remote store.
    func openLocal(_ key: StorageKey) async throws -> StoredArtifact?
    /// The remote object as it arrives, with its metadata; nil when it is not stored.
    func openRemote(_ key: StorageKey) async throws -> (metadata: ArtifactMetadata, body: UpstreamBody)?
}
