import Foundation
import GoModule

/// Thrown by a storage backend whose service cannot be reached now (object storage down
/// or overloaded): the engine answers 503 with `reason` instead of a 500. The reason is one
/// line that names the service and never a credential.
public struct StorageUnavailable: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What is recorded with every stored artifact.
public struct ArtifactMetadata: Codable, Sendable, Equatable {
    public var size: Int64
    /// The go.sum hash for `.zip` and `.mod` (`h1:…`), a SHA-256 based tag otherwise.
    public var hash: String
    /// When Warren stored it (seconds since 1970); the Last-Modified of responses.
    public var storedAt: Double
    /// Which upstream it came from (redacted), for operators.
    public var origin: String?

    public init(size: Int64, hash: String, storedAt: Double, origin: String? = nil) {
        self.size = size
        self.hash = hash
        self.storedAt = storedAt
        self.origin = origin
    }

    /// A strong ETag derived from the content hash.
    public var etag: String { "\"" + hash + "\"" }
}

/// A stored artifact ready to be served.
public struct StoredArtifact: Sendable {
    public var metadata: ArtifactMetadata
    /// Open for reading; stays valid even if the artifact is replaced meanwhile.
    public var file: ReadableFile
}

/// A file being written before it becomes an artifact. Committing renames it into place
/// atomically; anything not committed is removed, so no partial file is ever served.
public final class StagingFile: Sendable {
    public let key: StorageKey
    public let path: String
    public let writer: WritableFile

    init(key: StorageKey, path: String) throws {
        self.key = key
        self.path = path
        self.writer = try WritableFile(creating: path)
    }
}

/// Where artifacts live: the seam between the engine and local disk (the embedded
/// default) or object storage (the S3Storage target).
public protocol ArtifactStorage: Sendable {
    /// The stored artifact for `key`, or nil.
    func open(_ key: StorageKey) async throws -> StoredArtifact?
    /// The bytes and metadata of a small artifact (info, mod, list, latest), or nil.
    func readSmall(_ key: StorageKey, limit: Int) async throws -> (bytes: [UInt8], metadata: ArtifactMetadata)?
    /// Stores small contents atomically (replacing any previous value).
    func writeSmall(_ key: StorageKey, bytes: [UInt8], metadata: ArtifactMetadata) async throws
    /// A staging file for streaming a large artifact into place.
    func makeStaging(_ key: StorageKey) async throws -> StagingFile
    /// Makes a staging file the artifact, durably and atomically.
    func commit(_ staging: StagingFile, metadata: ArtifactMetadata) async throws
    /// Removes a staging file that will not be committed.
    func discard(_ staging: StagingFile) async
    /// Removes an artifact (a deleted hosted version); nothing happens when it is absent.
    /// Readers that opened it already keep their bytes.
    func remove(_ key: StorageKey) async throws
    /// Whether the storage accepts writes (readiness).
    func checkWritable() async -> Bool
    /// Why the storage is not ready, in one line naming the part that failed (never a
    /// credential), or nil when it is.
    func readinessProblem() async -> String?
    /// Calls `body` with every stored artifact of a canonical version (`.info`, `.mod`,
    /// `.zip`) and its metadata, in no particular order: what rebuilding the metadata
    /// index and copying between backends read.
    func forEachArtifact(_ body: @escaping @Sendable (StorageKey, ArtifactMetadata) async throws -> Void) async throws
}

extension ArtifactStorage {
    public func readinessProblem() async -> String? {
        await checkWritable() ? nil : "storage is not writable"
    }
}
