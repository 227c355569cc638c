import Foundation
import GoModule
import Synchronization
import Testing
@testable import WarrenCore

/// What every `ArtifactStorage` backend must do, written once against the protocol: each
/// backend's suite (local disk now; object storage next) runs every check with a factory
/// for fresh, empty storage of its kind. A backend passes only if all of them hold.
///
/// - `make`: a new storage over a fresh, empty location.
/// - `reopen`: a new storage instance over the same location as `storage` (a restart).
struct ArtifactStorageCompliance: Sendable {
    let make: @Sendable () async throws -> any ArtifactStorage
    let reopen: @Sendable (any ArtifactStorage) async throws -> any ArtifactStorage
    /// What a restart does to leftovers (LocalDiskStorage sweeps staging files); returns
    /// how many it removed.
    let recover: @Sendable (any ArtifactStorage) async throws -> Int

    /// Every check, so a backend's suite runs them all as one parameterized test.
    enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case missingKeysAreAbsent, smallArtifactsRoundTripWithMetadata, stagedArtifactsAreInvisibleUntilCommitted,
             discardedStagingLeavesNothing, concurrentCommitsOfOneKeyAreHarmless, anOpenArtifactStaysReadableWhenReplaced,
             aCrashBetweenStagingAndCommitLeavesNothingServed, everyCommittedArtifactIsListed, removedArtifactsAreGoneForEveryone
        var testDescription: String { rawValue }
    }

    func run(_ check: Check) async throws {
        switch check {
        case .missingKeysAreAbsent: try await missingKeysAreAbsent()
        case .smallArtifactsRoundTripWithMetadata: try await smallArtifactsRoundTripWithMetadata()
        case .stagedArtifactsAreInvisibleUntilCommitted: try await stagedArtifactsAreInvisibleUntilCommitted()
        case .discardedStagingLeavesNothing: try await discardedStagingLeavesNothing()
        case .concurrentCommitsOfOneKeyAreHarmless: try await concurrentCommitsOfOneKeyAreHarmless()
        case .anOpenArtifactStaysReadableWhenReplaced: try await anOpenArtifactStaysReadableWhenReplaced()
        case .aCrashBetweenStagingAndCommitLeavesNothingServed: try await aCrashBetweenStagingAndCommitLeavesNothingServed()
        case .everyCommittedArtifactIsListed: try await everyCommittedArtifactIsListed()
        case .removedArtifactsAreGoneForEveryone: try await removedArtifactsAreGoneForEveryone()
        }
    }

    static let zip = StorageKey.artifact(module: "example.com/m", version: "v1.0.0", kind: .zip)
    static let mod = StorageKey.artifact(module: "example.com/m", version: "v1.0.0", kind: .mod)
    static let list = StorageKey.list(module: "example.com/m")

    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed }
    }

    static func metadata(_ bytes: [UInt8], origin: String? = "https://proxy.example") -> ArtifactMetadata {
        ArtifactMetadata(size: Int64(bytes.count), hash: "h1:test\(bytes.count)", storedAt: 1_700_000_000.5, origin: origin)
    }

    static func contents(_ stored: StoredArtifact) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(stored.metadata.size))
        var done = 0
        while done < out.count {
            let n = try out.withUnsafeMutableBytes { ptr in
                try stored.file.read(into: UnsafeMutableRawBufferPointer(rebasing: ptr[done...]), at: Int64(done))
            }
            if n == 0 { break }
            done += n
        }
        return Array(out[..<done])
    }

    func missingKeysAreAbsent() async throws {
        let storage = try await make()
        #expect(try await storage.open(Self.zip) == nil)
        #expect(try await storage.readSmall(Self.mod, limit: 1 << 20) == nil)
        #expect(try await storage.readSmall(Self.list, limit: 1 << 20) == nil)
        #expect(await storage.checkWritable())
    }

    func smallArtifactsRoundTripWithMetadata() async throws {
        let storage = try await make()
        let goMod = Array("module example.com/m\n".utf8)
        try await storage.writeSmall(Self.mod, bytes: goMod, metadata: Self.metadata(goMod))
        let read = try #require(try await storage.readSmall(Self.mod, limit: 1 << 20))
        #expect(read.bytes == goMod)
        #expect(read.metadata == Self.metadata(goMod))
        // A mutable answer is replaced whole.
        let first = Array("v1.0.0\n".utf8), second = Array("v1.0.0\nv1.1.0\n".utf8)
        try await storage.writeSmall(Self.list, bytes: first, metadata: Self.metadata(first, origin: nil))
        try await storage.writeSmall(Self.list, bytes: second, metadata: Self.metadata(second, origin: nil))
        let list = try #require(try await storage.readSmall(Self.list, limit: 1 << 20))
        #expect(list.bytes == second && list.metadata.size == Int64(second.count) && list.metadata.origin == nil)
        // Beyond the caller's limit is not an answer.
        await #expect(throws: (any Error).self) { _ = try await storage.readSmall(Self.list, limit: 4) }
    }

    func stagedArtifactsAreInvisibleUntilCommitted() async throws {
        let storage = try await make()
        let zip = Self.bytes(300_000)
        let staging = try await storage.makeStaging(Self.zip)
        try staging.writer.write(Array(zip[..<100_000]))
        #expect(try await storage.open(Self.zip) == nil, "a partial artifact is visible")
        try staging.writer.write(Array(zip[100_000...]))
        #expect(try await storage.open(Self.zip) == nil, "an uncommitted artifact is visible")
        try await storage.commit(staging, metadata: Self.metadata(zip))
        let stored = try #require(try await storage.open(Self.zip))
        #expect(stored.metadata == Self.metadata(zip))
        #expect(try Self.contents(stored) == zip)
        // Still there for the next process.
        let again = try #require(try await reopen(storage).open(Self.zip))
        #expect(try Self.contents(again) == zip)
    }

    func discardedStagingLeavesNothing() async throws {
        let storage = try await make()
        let staging = try await storage.makeStaging(Self.zip)
        try staging.writer.write(Self.bytes(50_000))
        await storage.discard(staging)
        #expect(try await storage.open(Self.zip) == nil)
        #expect(try await recover(reopen(storage)) == 0, "a discarded staging file was left behind")
    }

    func concurrentCommitsOfOneKeyAreHarmless() async throws {
        let storage = try await make()
        let zip = Self.bytes(200_000, seed: 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let staging = try await storage.makeStaging(Self.zip)
                    for chunk in stride(from: 0, to: zip.count, by: 16_384) {
                        try staging.writer.write(Array(zip[chunk..<min(zip.count, chunk + 16_384)]))
                    }
                    try await storage.commit(staging, metadata: Self.metadata(zip))
                }
            }
            try await group.waitForAll()
        }
        let stored = try #require(try await storage.open(Self.zip))
        #expect(try Self.contents(stored) == zip)
        #expect(try await recover(reopen(storage)) == 0, "a concurrent commit left a staging file")
    }

    func anOpenArtifactStaysReadableWhenReplaced() async throws {
        let storage = try await make()
        let old = Self.bytes(100_000, seed: 1), new = Self.bytes(100_000, seed: 2)
        let first = try await storage.makeStaging(Self.zip)
        try first.writer.write(old)
        try await storage.commit(first, metadata: Self.metadata(old))
        let reading = try #require(try await storage.open(Self.zip))
        let second = try await storage.makeStaging(Self.zip)
        try second.writer.write(new)
        try await storage.commit(second, metadata: Self.metadata(new))
        #expect(try Self.contents(reading) == old, "a reader saw another artifact's bytes")
        #expect(try Self.contents(try #require(try await storage.open(Self.zip))) == new)
    }

    func aCrashBetweenStagingAndCommitLeavesNothingServed() async throws {
        let storage = try await make()
        let staging = try await storage.makeStaging(Self.zip)
        try staging.writer.write(Self.bytes(80_000))
        // The process dies here: no commit, no discard.
        let restarted = try await reopen(storage)
        #expect(try await restarted.open(Self.zip) == nil)
        #expect(try await recover(restarted) == 1, "the crashed download's staging file was not cleaned up")
        #expect(try await restarted.open(Self.zip) == nil)
        _ = staging
    }

    func everyCommittedArtifactIsListed() async throws {
        let storage = try await make()
        let goMod = Array("module example.com/m\n".utf8), zip = Self.bytes(120_000)
        let capital = StorageKey.artifact(module: "github.com/BurntSushi/toml", version: "v1.2.1+incompatible", kind: .mod)
        try await storage.writeSmall(Self.mod, bytes: goMod, metadata: Self.metadata(goMod))
        try await storage.writeSmall(capital, bytes: goMod, metadata: Self.metadata(goMod))
        try await storage.writeSmall(Self.list, bytes: [1], metadata: Self.metadata([1]))
        let staging = try await storage.makeStaging(Self.zip)
        try staging.writer.write(zip)
        try await storage.commit(staging, metadata: Self.metadata(zip))
        let abandoned = try await storage.makeStaging(StorageKey.artifact(module: "example.com/m", version: "v2.0.0", kind: .zip))
        try abandoned.writer.write([1, 2, 3])
        let seen = Mutex<[String: ArtifactMetadata]>([:])
        try await storage.forEachArtifact { key, metadata in seen.withLock { $0[key.relativePath] = metadata } }
        #expect(seen.withLock { $0 } == [Self.mod.relativePath: Self.metadata(goMod), capital.relativePath: Self.metadata(goMod),
                                         Self.zip.relativePath: Self.metadata(zip)])
        await storage.discard(abandoned)
    }

    /// A removed artifact is absent here and after a restart (object storage: on another
    /// replica too), not listed, and removing what is absent is no error; a reader that
    /// had it open keeps its bytes.
    func removedArtifactsAreGoneForEveryone() async throws {
        let storage = try await make()
        let goMod = Array("module example.com/m\n".utf8), zip = Self.bytes(70_000)
        try await storage.writeSmall(Self.mod, bytes: goMod, metadata: Self.metadata(goMod))
        let staging = try await storage.makeStaging(Self.zip)
        try staging.writer.write(zip)
        try await storage.commit(staging, metadata: Self.metadata(zip))
        let open = try #require(try await storage.open(Self.zip))
        try await storage.remove(Self.zip)
        try await storage.remove(Self.mod)
        try await storage.remove(Self.zip)
        #expect(try await storage.open(Self.zip) == nil)
        #expect(try await storage.readSmall(Self.mod, limit: 1 << 20) == nil)
        let other = try await reopen(storage)
        #expect(try await other.open(Self.zip) == nil)
        #expect(try await other.readSmall(Self.mod, limit: 1 << 20) == nil)
        let seen = Mutex<[String]>([])
        try await other.forEachArtifact { key, _ in seen.withLock { $0.append(key.relativePath) } }
        #expect(seen.withLock { $0 }.isEmpty)
        #expect(try Self.contents(open) == zip)
    }
}
