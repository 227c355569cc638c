import GoModule
import NIOPosix
import Synchronization

/// Copies every artifact of one storage into another (`warren storage copy`): from a
/// single node's disk into the bucket replicas will share, or back. Each zip's `h1:` is
/// checked against its metadata on the way, so a damaged file is reported, not spread;
/// the target commits each artifact atomically, as the engine's writes do.
public struct StorageCopy: Sendable {
    public let source: any ArtifactStorage
    public let target: any ArtifactStorage
    let threadPool: NIOThreadPool

    public init(source: any ArtifactStorage, target: any ArtifactStorage, threadPool: NIOThreadPool = .singleton) {
        self.source = source
        self.target = target
        self.threadPool = threadPool
    }

    public struct Report: Sendable, Equatable {
        public var copied = 0
        public var bytes: Int64 = 0
        /// Artifacts not copied, with the reason (a damaged zip, a read failure).
        public var skipped: [String] = []
    }

    public func run() async throws -> Report {
        let report = Mutex(Report())
        try await source.forEachArtifact { [self] key, metadata in
            do {
                try await copy(key, metadata)
                report.withLock { $0.copied += 1; $0.bytes += metadata.size }
            } catch let error as Damaged {
                report.withLock { $0.skipped.append("\(key.relativePath): \(error.reason)") }
            }
        }
        return report.withLock { $0 }
    }

    struct Damaged: Error { let reason: String }

    func copy(_ key: StorageKey, _ metadata: ArtifactMetadata) async throws {
        guard case .artifact(let module, let version, let kind) = key else { return }
        guard kind == .zip else {
            guard let small = try await source.readSmall(key, limit: 1 << 20) else { throw Damaged(reason: "vanished while copying") }
            try await target.writeSmall(key, bytes: small.bytes, metadata: small.metadata)
            return
        }
        guard let stored = try await source.open(key) else { throw Damaged(reason: "vanished while copying") }
        let staging = try await target.makeStaging(key)
        do {
            let file = stored.file, writer = staging.writer, size = metadata.size
            try await threadPool.runIfActive {
                guard file.size >= size else { throw Damaged(reason: "shorter than its recorded size") }
                try file.readChunks(count: size) { try writer.write($0) }
            }
            let path = staging.path
            let verified = try await threadPool.runIfActive { () throws -> String in
                do {
                    return try ModuleZipChecker.verify(module: module, version: version, zipPath: path).hash
                } catch {
                    throw Damaged(reason: "not a valid module zip: \(error)")
                }
            }
            guard verified == metadata.hash else { throw Damaged(reason: "its h1: is \(verified), not the recorded \(metadata.hash)") }
            try await target.commit(staging, metadata: metadata)
        } catch {
            await target.discard(staging)
            throw error
        }
    }
}
