import GoModule
import Metrics
import NIOCore
import NIOPosix

/// The zip pipeline: stored zips, downloads joined by every client that asks meanwhile,
/// streamed into staging while hashed, verified (rules, `h1:`, checksum database, go.mod)
/// before they are stored.
extension ModuleProxy {
    func zip(module: String, version: String, allowFetch: Bool) async throws(ProxyError) -> ServedArtifact {
        let key = StorageKey.artifact(module: module, version: version, kind: .zip)
        if var hot = memory.get(key) {
            hot.status = .hit
            countCache("zip", hit: true)
            return hot.served(contentType: ArtifactKind.zip.contentType, cachePolicy: .immutable)
        }
        if let stored = try await openNearest(key) { return await servedStored(key, stored) }
        if let running = downloads.get(key) {
            // Verified but still being committed: a moment's wait, then a plain stored hit.
            if case .success? = running.snapshot.outcome {
                await running.waitUntilSettled()
                if let stored = try await openNearest(key) { return await servedStored(key, stored) }
            } else {
                countCache("zip", hit: false)
                return Self.streaming(running)
            }
        } else if let stored = try await openNearest(key) {
            // Committed between the first look and now (its download just ended).
            return await servedStored(key, stored)
        }
        // Stored remotely only (object storage): streamed to the client as it arrives,
        // and into the local tier, like any download.
        if let tiered = storage as? any TieredStorage, let remote = try await openRemote(tiered, key) {
            countCache("zip", hit: true)
            let download = try await downloads.start(key, storage: storage, coordinated: false) { [self] download, staging, _ throws(ProxyError) in
                try await copyRemote(remote, into: staging, download: download)
            }
            return Self.streaming(download)
        }
        countCache("zip", hit: false)
        if let refused = refusals.get(key) { throw refused }
        guard allowFetch else { throw Self.notCached(module, version) }
        // The .mod first: the zip must match it, and a client asking only for .mod never
        // triggers a zip download, but the reverse is cheap.
        let goMod = try await immutableSmall(module: module, version: version, kind: .mod, allowFetch: true)
        // Verified or not, the zip streams to every client as it arrives; only its last
        // bytes wait for the verdict (ZipDownload.holdBack), so a bad zip never reaches a
        // client complete and a good one costs no wait for the whole download.
        let download = try await downloads.start(key, storage: storage) { [self] download, staging, leased throws(ProxyError) in
            // Another replica may have fetched it before this one's turn came: its copy.
            if leased, let stored = try await openStored(key) {
                return try await copyStored(stored, into: staging, download: download)
            }
            return try await fetchZip(module: module, version: version, into: staging, download: download, goMod: goMod.bytes)
        }
        return Self.streaming(download)
    }

    /// A stored zip as served: small ones from memory from then on.
    func servedStored(_ key: StorageKey, _ stored: StoredArtifact) async -> ServedArtifact {
        countCache("zip", hit: true)
        if stored.metadata.size <= Self.memoryZipLimit, let small = await readWhole(stored) {
            memory.put(key, small, cost: small.buffer.readableBytes + 64)
            return small.served(contentType: ArtifactKind.zip.contentType, cachePolicy: .immutable)
        }
        return ServedArtifact(body: .file(stored.file, size: stored.metadata.size), contentType: ArtifactKind.zip.contentType, etag: stored.metadata.etag,
                              lastModified: stored.metadata.storedAt, cachePolicy: .immutable,
                              cacheStatus: .hit, origin: stored.metadata.origin)
    }

    /// Runs a checksum check; a mismatch (a refusal) is remembered for `key` for a while.
    func refusingForAWhile(_ key: StorageKey, _ check: () throws(ProxyError) -> Void) throws(ProxyError) {
        do {
            try check()
        } catch {
            if error.kind == .forbidden { refusals.remember(key, error) }
            throw error
        }
    }

    /// The database's hashes for a module version, as a Result so it can run alongside
    /// the upstream fetch; nil when verification is off for it or not `needed`.
    func expectedSums(module: String, version: String, needed: Bool) async -> Result<ChecksumDatabases.ExpectedSums?, ProxyError> {
        guard needed, let checksums else { return .success(nil) }
        do {
            return .success(try await checksums.expectedSums(module: module, version: version))
        } catch {
            return .failure(error)
        }
    }

    /// Zips up to this size are kept in the memory cache once read: most module zips are
    /// small, and a hit then costs no file read at all.
    static let memoryZipLimit: Int64 = 512 * 1024

    func readWhole(_ stored: StoredArtifact) async -> SmallArtifact? {
        let size = Int(stored.metadata.size)
        let file = stored.file
        guard let buffer = try? await threadPool.runIfActive({ () throws -> ByteBuffer in
            var buf = ByteBufferAllocator().buffer(capacity: size)
            var done = 0
            while done < size {
                let n = try buf.writeWithUnsafeMutableBytes(minimumWritableBytes: size - done) { ptr in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: ptr[..<(size - done)]), at: Int64(done))
                }
                if n == 0 { throw FileIOError("read", file.path) }
                done += n
            }
            return buf
        }) else { return nil }
        return SmallArtifact(buffer: buffer, metadata: stored.metadata, status: .hit)
    }

    static func streaming(_ download: ZipDownload) -> ServedArtifact {
        ServedArtifact(body: .download(download), contentType: ArtifactKind.zip.contentType, etag: nil, lastModified: nil,
                       cachePolicy: .immutable, cacheStatus: .miss, origin: nil)
    }

    /// The stored zip from the nearest place: the local tier of tiered storage (the remote
    /// copy is streamed separately), or the storage itself.
    func openNearest(_ key: StorageKey) async throws(ProxyError) -> StoredArtifact? {
        guard let tiered = storage as? any TieredStorage else { return try await openStored(key) }
        do {
            return try await tiered.openLocal(key)
        } catch {
            throw storageError(error, key: key, doing: "read")
        }
    }

    func openRemote(_ tiered: any TieredStorage, _ key: StorageKey) async throws(ProxyError) -> (metadata: ArtifactMetadata, body: UpstreamBody)? {
        do {
            return try await tiered.openRemote(key)
        } catch {
            throw storageError(error, key: key, doing: "read")
        }
    }

    /// A zip from the remote store, into this download's staging file as it arrives (it
    /// was verified before it was stored; its size is checked).
    func copyRemote(_ remote: (metadata: ArtifactMetadata, body: UpstreamBody), into staging: StagingFile,
                    download: ZipDownload) async throws(ProxyError) -> ArtifactMetadata {
        download.setExpectedLength(remote.metadata.size)
        var written: Int64 = 0
        do {
            for try await chunk in remote.body {
                written += Int64(chunk.readableBytes)
                guard written <= remote.metadata.size else { throw ProxyError.unavailable("object storage sent more than the stored size") }
                let writer = staging.writer
                try await threadPool.runIfActive { try chunk.withUnsafeReadableBytes { try writer.write($0) } }
                download.published(written)
            }
        } catch let e as ProxyError {
            throw e
        } catch let down as StorageUnavailable {
            throw ProxyError.unavailable(down.reason)
        } catch {
            throw ProxyError.internalError("storage read failed", detail: "\(error)")
        }
        guard written == remote.metadata.size else {
            throw ProxyError.unavailable("object storage sent \(written) of \(remote.metadata.size) bytes")
        }
        return remote.metadata
    }

    /// A zip another replica stored, copied into this download's staging file so the
    /// clients already following the download get it (it was verified before it was
    /// stored).
    func copyStored(_ stored: StoredArtifact, into staging: StagingFile, download: ZipDownload) async throws(ProxyError) -> ArtifactMetadata {
        let size = stored.metadata.size
        download.setExpectedLength(size)
        let file = stored.file, writer = staging.writer
        var copied: Int64 = 0
        do {
            while copied < size {
                let at = copied
                let n = try await threadPool.runIfActive { () throws -> Int in
                    var buffer = [UInt8](repeating: 0, count: Int(min(256 * 1024, size - at)))
                    let n = try buffer.withUnsafeMutableBytes { try file.read(into: $0, at: at) }
                    guard n > 0 else { throw FileIOError("read", file.path) }
                    try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                    return n
                }
                copied += Int64(n)
                download.published(copied)
            }
        } catch {
            throw ProxyError.internalError("storage read failed", detail: "\(error)")
        }
        MetricHandles.counter("warren_zip_fetched_by_other_replica_total", []).increment()
        return stored.metadata
    }

    /// Streams the zip from the first upstream that answers into `staging`, then verifies
    /// it (zip rules, sizes, CRCs, `h1:`, go.mod equal to the served `.mod`).
    func fetchZip(module: String, version: String, into staging: StagingFile, download: ZipDownload,
                  goMod: [UInt8]) async throws(ProxyError) -> ArtifactMetadata {
        let request = ProxyRequest.artifact(module: module, version: version, kind: .zip)
        // The database's hash is looked up (or found cached) while the zip arrives, so
        // the verdict is ready with its last byte.
        async let expectedSums = expectedSums(module: module, version: version, needed: checksums?.verifies(module) == true)
        let response: UpstreamResponse
        let origin: String
        do {
            (response, origin) = try await chain.first(request, endpoint: "zip") { _, r in r }
        } catch {
            throw Self.proxyError(error, module: module, version: version)
        }
        if let length = response.contentLength, length > ModuleZipRules.maxZipFile {
            throw ProxyError.upstreamFailed("upstream zip for \(module)@\(version) is too large (\(length) bytes; limit is \(ModuleZipRules.maxZipFile))")
        }
        download.setExpectedLength(response.contentLength)
        // Entries are hashed as the bytes land, so the verdict is ready with the last byte
        // (not needed for a zip built in this process: its hash is already known).
        let builtHash = response.builtZipHash
        let hasher = builtHash == nil ? StreamingZipHasher(module: module, version: version) : nil
        var written: Int64 = 0
        do {
            for try await chunk in response.body {
                written += Int64(chunk.readableBytes)
                if written > ModuleZipRules.maxZipFile {
                    throw ProxyError.upstreamFailed("upstream zip for \(module)@\(version) exceeds \(ModuleZipRules.maxZipFile) bytes")
                }
                let writer = staging.writer
                try await threadPool.runIfActive {
                    try chunk.withUnsafeReadableBytes { bytes in
                        try writer.write(bytes)
                        hasher?.consume(bytes)
                    }
                }
                download.published(written)
            }
        } catch let e as ProxyError {
            throw e
        } catch {
            let failure = UpstreamFailure.classify(error)
            if case .timedOut = failure { throw ProxyError.upstreamTimedOut("upstream \(origin) timed out sending \(module)@\(version).zip") }
            throw ProxyError.upstreamFailed("upstream \(origin) failed while sending \(module)@\(version).zip", detail: "\(error)")
        }
        if let expected = response.contentLength, expected != written {
            throw ProxyError.upstreamFailed("upstream \(origin) sent \(written) of \(expected) bytes of \(module)@\(version).zip")
        }
        let stagingPath = staging.path
        let streamed = hasher?.result
        let verified: ModuleZipChecker.Verified
        do {
            verified = try await threadPool.runIfActive {
                if let builtHash {
                    return try ModuleZipChecker.verifyBuilt(module: module, version: version, zipPath: stagingPath, hash: builtHash)
                }
                return try ModuleZipChecker.verify(module: module, version: version, zipPath: stagingPath, streamed: streamed)
            }
        } catch {
            MetricHandles.counter("warren_zip_rejected_total", [("reason", "invalid")]).increment()
            throw ProxyError.upstreamFailed("upstream \(origin) sent an invalid zip for \(module)@\(version): \(error)")
        }
        // How often the streamed hashes were usable, rather than a second read of the file.
        MetricHandles.counter("warren_zip_verifications_total", [("mode", verified.streamed ? "streamed" : "reread")]).increment()
        if let checksums {
            let key = StorageKey.artifact(module: module, version: version, kind: .zip)
            let sums = try await expectedSums.get()
            try refusingForAWhile(key) { () throws(ProxyError) in
                try checksums.check(module: module, version: version, what: "zip", actual: verified.hash, expected: sums)
            }
        }
        let expectedGoMod = verified.goMod ?? Array(GoModFile.synthesized(modulePath: module).utf8)
        if expectedGoMod != goMod {
            MetricHandles.counter("warren_zip_rejected_total", [("reason", "gomod_mismatch")]).increment()
            throw ProxyError.upstreamFailed("upstream zip for \(module)@\(version) does not match its .mod (go.mod differs)")
        }
        try await logFetched(module: module, version: version, zipHash: verified.hash, modHash: Hash1.hashGoMod(goMod))
        events.emit(.cached(module: module, version: version, origin: origin))
        return ArtifactMetadata(size: written, hash: verified.hash, storedAt: Self.now(), origin: origin)
    }
}
