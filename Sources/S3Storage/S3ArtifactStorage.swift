import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore
import NIOPosix
import S3Client
import Synchronization
import WarrenCore

/// Artifacts in an S3-compatible bucket, shared by every replica, with a local tier on
/// disk in front of it (hot zips still go out with sendfile).
///
/// The bucket is the source of truth. An object appears whole or not at all: small
/// artifacts are one PUT, zips one PUT or a multipart upload completed only after every
/// part is in (aborted on failure). Each object carries its `ArtifactMetadata` as
/// `x-amz-meta-warren-*` headers, so one HEAD or GET tells all, and an object without
/// them (not written by Warren) is not served. Concurrent commits of one key by two
/// replicas write the same verified bytes, so the last one wins harmlessly.
///
/// Immutable artifacts read from the bucket are kept in the local tier; mutable ones
/// (lists, `@latest`, queries) are always read from the bucket, so every replica answers
/// the same, and from the tier's copy only while the bucket cannot be reached.
///
/// When the service fails, reads and writes throw `StorageUnavailable` naming it (the
/// engine answers 503 with that reason); what the local tier holds is still served.
public struct S3ArtifactStorage: RedirectingStorage, TieredStorage {
    public let s3: S3Client
    /// Prepended to every key: `""` or a path ending in `/`.
    public let prefix: String
    public let local: LocalDiskStorage
    /// Zips larger than this go up as a multipart upload in parts of this size.
    public let partSize: Int64
    let threadPool: NIOThreadPool
    let fills = SingleFlight<StorageKey, Bool>()
    let budget: LocalTierBudget
    /// Zips of at least this many bytes are answered with a redirect to a presigned URL
    /// (nil: never).
    public let redirectOver: Int64?
    /// Sizes of zips known to be stored, so a redirect costs one HEAD per zip, not per
    /// request (stored zips never change).
    let storedSizes = StoredSizes()

    /// - Parameter localTierBytes: how much disk the local tier may use (`--local-cache-size`);
    ///   what the tier holds already is counted at once.
    public init(s3: S3Client, prefix: String, localTier: LocalDiskStorage, localTierBytes: Int64 = 4 << 30,
                partSize: Int64 = 16 << 20, redirectOver: Int64? = nil, threadPool: NIOThreadPool = .singleton) {
        var p = prefix
        while p.hasPrefix("/") { p.removeFirst() }
        if !p.isEmpty && !p.hasSuffix("/") { p += "/" }
        self.s3 = s3
        self.prefix = p
        self.local = localTier
        self.partSize = max(5 << 20, partSize)
        self.redirectOver = redirectOver
        self.budget = LocalTierBudget(root: localTier.root, budget: localTierBytes)
        self.threadPool = threadPool
    }

    public func objectKey(_ key: StorageKey) -> String { prefix + key.relativePath }

    public func open(_ key: StorageKey) async throws -> StoredArtifact? {
        if let hit = try await local.open(key) {
            budget.used(key)
            return hit
        }
        // One fill of the local tier per key at a time; the others wait and open it.
        let found = try await fills.run(key) { [self] in try await remote { try await fillLocal(key) } }.value
        return found ? try await local.open(key) : nil
    }

    public func openLocal(_ key: StorageKey) async throws -> StoredArtifact? {
        guard let hit = try await local.open(key) else { return nil }
        budget.used(key)
        return hit
    }

    public func openRemote(_ key: StorageKey) async throws -> (metadata: ArtifactMetadata, body: UpstreamBody)? {
        let operation = "GET \(objectKey(key))"
        guard let object = try await remote({ try await s3.getObject(objectKey(key)) }),
              let metadata = ObjectMetadata.decode(object.info.metadata, size: object.info.size) else { return nil }
        let body = object.body
        let reason = "object storage \(s3.configuration.displayName) failed"
        return (metadata, UpstreamBody {
            var chunks = body.makeAsyncIterator()
            return UpstreamBody.Iterator {
                do {
                    return try await Self.next(&chunks, operation: operation)
                } catch {
                    throw StorageUnavailable(reason: "\(reason): \(error)")
                }
            }
        })
    }

    /// Deletes the object, then this replica's local copy. Other replicas' tiers may keep
    /// theirs until their budget evicts it; the engine checks hosted versions against
    /// the shared index before serving them.
    public func remove(_ key: StorageKey) async throws {
        try await remote { try await s3.deleteObject(objectKey(key)) }
        try await local.remove(key)
        budget.removed(key)
    }

    /// Streams the object into a local staging file and commits it to the local tier.
    func fillLocal(_ key: StorageKey) async throws -> Bool {
        if try await local.open(key) != nil { return true }
        guard let object = try await s3.getObject(objectKey(key)) else { return false }
        guard let metadata = ObjectMetadata.decode(object.info.metadata, size: object.info.size) else { return false }
        let staging = try await local.makeStaging(key)
        do {
            var written: Int64 = 0
            var chunks = object.body.makeAsyncIterator()
            while let chunk = try await Self.next(&chunks, operation: "GET \(objectKey(key))") {
                let writer = staging.writer
                try await threadPool.runIfActive { try chunk.withUnsafeReadableBytes { try writer.write($0) } }
                written += Int64(chunk.readableBytes)
            }
            guard written == metadata.size else {
                throw S3Error(kind: .malformed, message: "\(written) of \(metadata.size) bytes arrived", operation: "GET \(objectKey(key))")
            }
            try await local.commit(staging, metadata: metadata, durable: false)
            budget.added(key, size: metadata.size)
            return true
        } catch {
            await local.discard(staging)
            throw error
        }
    }

    public func readSmall(_ key: StorageKey, limit: Int) async throws -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
        if key.isImmutable, let hit = try await local.readSmall(key, limit: limit) {
            budget.used(key)
            return hit
        }
        let object: (bytes: [UInt8], info: S3ObjectInfo)?
        do {
            object = try await remote { try await s3.getSmallObject(objectKey(key), limit: limit) }
        } catch let down as StorageUnavailable {
            // The last answer this replica saw beats none while the bucket is away.
            if !key.isImmutable, let copy = try? await local.readSmall(key, limit: limit) { return copy }
            throw down
        }
        guard let object else { return nil }
        guard let metadata = ObjectMetadata.decode(object.info.metadata, size: Int64(object.bytes.count)) else { return nil }
        // Best effort: the tier is a cache; a failure here costs a later GET.
        await keepLocally(key, object.bytes, metadata)
        return (object.bytes, metadata)
    }

    public func writeSmall(_ key: StorageKey, bytes: [UInt8], metadata: ArtifactMetadata) async throws {
        try await remote {
            try await s3.putObject(objectKey(key), body: .bytes(bytes), contentType: Self.contentType(key),
                                   metadata: ObjectMetadata.encode(metadata))
        }
        await keepLocally(key, bytes, metadata)
    }

    func keepLocally(_ key: StorageKey, _ bytes: [UInt8], _ metadata: ArtifactMetadata) async {
        guard (try? await local.writeSmall(key, bytes: bytes, metadata: metadata)) != nil else { return }
        budget.added(key, size: Int64(bytes.count))
    }

    /// Bytes the local tier holds now, and how many it has given back to stay in budget.
    public var localTierUsage: (bytes: Int64, evicted: Int64) {
        (budget.total, budget.evictedBytes.load(ordering: .relaxed))
    }

    public func makeStaging(_ key: StorageKey) async throws -> StagingFile {
        try await local.makeStaging(key)
    }

    /// Uploads the staged file (streamed from disk, in parts when large), then moves it
    /// into the local tier. The object is in the bucket before any replica can see it
    /// as stored.
    public func commit(_ staging: StagingFile, metadata: ArtifactMetadata) async throws {
        // Another replica may have stored the same verified zip already (it fetched it
        // while this one waited its turn): one HEAD saves the upload.
        let existing = try? await s3.headObject(objectKey(staging.key))
        if let existing, let stored = ObjectMetadata.decode(existing.metadata, size: existing.size),
           stored.hash == metadata.hash, stored.size == metadata.size {
            try await local.commit(staging, metadata: stored, durable: false)
            budget.added(staging.key, size: metadata.size)
            return
        }
        try await remote {
            try await s3.putFile(objectKey(staging.key), path: staging.path, length: metadata.size,
                                 contentType: Self.contentType(staging.key), metadata: ObjectMetadata.encode(metadata),
                                 partSize: partSize)
        }
        try await local.commit(staging, metadata: metadata, durable: false)
        budget.added(staging.key, size: metadata.size)
    }

    public func discard(_ staging: StagingFile) async {
        await local.discard(staging)
    }

    public func checkWritable() async -> Bool {
        await readinessProblem() == nil
    }

    /// Ready when the local tier takes writes and the bucket answers a signed write; the
    /// reason names which failed (never a credential).
    public func readinessProblem() async -> String? {
        guard await local.checkWritable() else { return "the local cache tier is not writable" }
        do {
            try await s3.probing().putObject(prefix + ".warren/readyz", body: .bytes(Array("ok".utf8)))
            return nil
        } catch {
            return "object storage \(s3.configuration.displayName) is not writable: \(error)"
        }
    }

    /// Lists the bucket under the prefix and reads each artifact's metadata with a HEAD
    /// (listings do not carry user metadata), sixteen at a time.
    public func forEachArtifact(_ body: @escaping @Sendable (StorageKey, ArtifactMetadata) async throws -> Void) async throws {
        let objects = try await remote { try await s3.listAllObjects(prefix: prefix) }
        let keys = objects.compactMap { object -> (StorageKey, String)? in
            guard object.key.hasPrefix(prefix), let key = StorageKey.artifact(atPath: String(object.key.dropFirst(prefix.count))) else { return nil }
            return (key, object.key)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, (key, objectKey)) in keys.enumerated() {
                if index >= 16 { try await group.next() }
                group.addTask { [s3] in
                    guard let info = try await s3.headObject(objectKey),
                          let metadata = ObjectMetadata.decode(info.metadata, size: info.size) else { return }
                    try await body(key, metadata)
                }
            }
            try await group.waitForAll()
        }
    }

    /// How long a presigned URL stays valid; the redirect may be cached a minute less.
    static let presignedLifetime = 900

    public func redirect(for key: StorageKey) async -> (url: String, maxAge: Int)? {
        guard let redirectOver, case .artifact(_, _, .zip) = key else { return nil }
        var size = storedSizes.sizes.withLock { $0[key] }
        if size == nil {
            guard let info = try? await s3.headObject(objectKey(key)),
                  ObjectMetadata.decode(info.metadata, size: info.size) != nil else { return nil }
            size = info.size
            storedSizes.sizes.withLock { sizes in
                if sizes.count > 100_000 { sizes.removeAll() }
                sizes[key] = info.size
            }
        }
        guard let size, size >= redirectOver else { return nil }
        return (s3.presignedGetURL(objectKey(key), expires: Self.presignedLifetime), Self.presignedLifetime - 60)
    }

    /// The next chunk of an object's body; a body cut off by the network is the service's
    /// failure (an S3Error), not Warren's.
    static func next(_ chunks: inout HTTPClientResponse.Body.AsyncIterator, operation: String) async throws(S3Error) -> ByteBuffer? {
        do {
            return try await chunks.next()
        } catch {
            throw S3Error(kind: .unreachable, message: "the body was cut off: \(S3Client.transportMessage(error))", operation: operation)
        }
    }

    /// Runs an S3 operation; a failure of the service becomes `StorageUnavailable`
    /// naming the bucket and what S3 said (its code, never a credential).
    @discardableResult
    func remote<T>(_ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as S3Error {
            throw StorageUnavailable(reason: "object storage \(s3.configuration.displayName) failed: \(error)")
        }
    }

    static func contentType(_ key: StorageKey) -> String {
        if case .artifact(_, _, let kind) = key { return kind.contentType }
        if case .latest = key { return "application/json" }
        return "application/octet-stream"
    }
}

/// Sizes of zips known to be in the bucket (shared by the copies of the storage value).
final class StoredSizes: Sendable {
    let sizes = Mutex<[StorageKey: Int64]>([:])
}
