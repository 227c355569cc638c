import Foundation
import GoModule
import NIOPosix

/// The embedded default: artifacts as files under one directory, in GOPROXY layout, with
/// a JSON sidecar (`.meta`) holding each artifact's hash and time.
///
/// Writes go to a temporary file in the destination directory and are renamed into place
/// (sidecar first, artifact last), so a crash at any moment leaves either the complete
/// artifact or nothing; leftovers are swept at start-up. Blocking file calls run on NIO's
/// thread pool, never on the concurrency runtime's threads.
public struct LocalDiskStorage: ArtifactStorage {
    public let root: String
    let threadPool: NIOThreadPool

    public init(root: String, threadPool: NIOThreadPool = .singleton) throws {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
        self.threadPool = threadPool
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
    }

    func path(_ key: StorageKey) -> String { root + "/" + key.relativePath }

    public func open(_ key: StorageKey) async throws -> StoredArtifact? {
        let p = path(key)
        return try await threadPool.runIfActive {
            guard let metadata = try Self.readMetadata(p) else { return nil }
            let file: ReadableFile
            do {
                file = try ReadableFile(path: p)
            } catch let e as FileIOError where e.isNotFound {
                return nil
            }
            guard file.size == metadata.size else { return nil }
            return StoredArtifact(metadata: metadata, file: file)
        }
    }

    public func readSmall(_ key: StorageKey, limit: Int) async throws -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
        let p = path(key)
        return try await threadPool.runIfActive {
            guard let metadata = try Self.readMetadata(p) else { return nil }
            do {
                let bytes = try ReadableFile.readAll(path: p, limit: limit)
                return bytes.count == Int(metadata.size) ? (bytes, metadata) : nil
            } catch let e as FileIOError where e.isNotFound {
                return nil
            }
        }
    }

    public func writeSmall(_ key: StorageKey, bytes: [UInt8], metadata: ArtifactMetadata) async throws {
        let p = path(key)
        try await threadPool.runIfActive {
            try Self.makeParent(p)
            let meta = try AtomicFileWriter(destination: p + ".meta")
            try meta.file.write(Array(try JSONEncoder().encode(metadata)))
            let body = try AtomicFileWriter(destination: p)
            try body.file.write(bytes)
            // Mutable answers (lists) need no fsync: losing one to a crash only means a refetch.
            try meta.commit(durable: key.isImmutable)
            try body.commit(durable: key.isImmutable)
        }
    }

    public func makeStaging(_ key: StorageKey) async throws -> StagingFile {
        let p = path(key)
        return try await threadPool.runIfActive {
            try Self.makeParent(p)
            return try StagingFile(key: key, path: p + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        }
    }

    public func commit(_ staging: StagingFile, metadata: ArtifactMetadata) async throws {
        try await commit(staging, metadata: metadata, durable: true)
    }

    /// `durable: false` skips the fsyncs: for a cache of a durable store (the local tier
    /// in front of object storage), where a file lost to a crash is only fetched again.
    /// The rename still makes the file appear whole or not at all.
    public func commit(_ staging: StagingFile, metadata: ArtifactMetadata, durable: Bool) async throws {
        let p = path(staging.key)
        try await threadPool.runIfActive {
            if durable { try staging.writer.sync() }
            let meta = try AtomicFileWriter(destination: p + ".meta")
            try meta.file.write(Array(try JSONEncoder().encode(metadata)))
            try meta.commit(durable: durable)
            if rename(staging.path, p) != 0 { throw FileIOError("rename", p) }
        }
    }

    public func remove(_ key: StorageKey) async throws {
        let p = path(key)
        try await threadPool.runIfActive {
            // The sidecar first: an artifact without one is a miss at once.
            for file in [p + ".meta", p] where unlink(file) != 0 && errno != ENOENT {
                throw FileIOError("unlink", file)
            }
        }
    }

    public func discard(_ staging: StagingFile) async {
        unlink(staging.path)
    }

    public func checkWritable() async -> Bool {
        let probe = root + "/.readyz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return (try? await threadPool.runIfActive {
            let w = try WritableFile(creating: probe)
            try w.write(Array("ok".utf8))
            unlink(probe)
            return true
        }) ?? false
    }

    public func forEachArtifact(_ body: @escaping @Sendable (StorageKey, ArtifactMetadata) async throws -> Void) async throws {
        let root = self.root
        let found = try await threadPool.runIfActive { () -> [(StorageKey, ArtifactMetadata)] in
            var out: [(StorageKey, ArtifactMetadata)] = []
            guard let walker = FileManager.default.enumerator(atPath: root) else { return out }
            while let relative = walker.nextObject() as? String {
                guard !relative.hasSuffix(".meta"), !relative.contains(".tmp-"),
                      let key = StorageKey.artifact(atPath: relative),
                      let metadata = try Self.readMetadata(root + "/" + relative) else { continue }
                out.append((key, metadata))
            }
            return out
        }
        for (key, metadata) in found { try await body(key, metadata) }
    }

    /// Removes staging and temporary files a crash may have left behind: those whose
    /// writer (the pid in the name, `.tmp-<pid>-<random>`) is gone, or is this process
    /// (which has written nothing yet when it sweeps, so they are an earlier life's).
    /// Another live process's files are left alone: two processes may share a data
    /// directory for a moment (a restart's overlap, `warren index rebuild`), and removing
    /// a live staging file would fail that process's commit.
    public func sweepLeftovers() throws -> Int {
        var removed = 0
        guard let e = FileManager.default.enumerator(atPath: root) else { return 0 }
        while let rel = e.nextObject() as? String {
            guard let marker = rel.range(of: ".tmp-", options: .backwards) else { continue }
            let writer = rel[marker.upperBound...].prefix { $0 != "-" }
            if let pid = pid_t(writer), pid != getpid(), kill(pid, 0) == 0 || errno == EPERM { continue }
            if unlink(root + "/" + rel) == 0 { removed += 1 }
        }
        return removed
    }

    static func readMetadata(_ artifactPath: String) throws -> ArtifactMetadata? {
        do {
            let bytes = try ReadableFile.readAll(path: artifactPath + ".meta", limit: 64 * 1024)
            return try JSONDecoder().decode(ArtifactMetadata.self, from: Data(bytes))
        } catch let e as FileIOError where e.isNotFound {
            return nil
        } catch is DecodingError {
            return nil
        }
    }

    static func makeParent(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
}
