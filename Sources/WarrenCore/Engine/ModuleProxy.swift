import Crypto
import Foundation
import GoModule
import Logging
import Metrics
import NIOCore
import NIOPosix

/// The proxy engine: answers GOPROXY requests from storage, or from the upstream chain
/// through single-flight fetches that verify everything before it is stored.
///
/// Immutable artifacts (`.info` of canonical versions, `.mod`, `.zip`) are fetched once
/// and kept forever. `list`, `@latest` and version queries are kept with a TTL: fresh
/// answers come from storage, stale ones are served while a background refresh runs, and
/// the last good answer survives every upstream failing.
public final class ModuleProxy: Sendable {
    public let configuration: ProxyConfiguration
    let storage: any ArtifactStorage
    let chain: UpstreamChain
    let logger: Logger
    let threadPool: NIOThreadPool
    /// Verifies `.mod` and `.zip` of public modules before they are stored (nil: off).
    public let checksums: ChecksumDatabases?

    let memory: MemoryCache<StorageKey, SmallArtifact>
    let smallFlights = SingleFlight<StorageKey, SmallArtifact>()
    let zipFlights = SingleFlight<StorageKey, ArtifactMetadata>()
    let downloads = DownloadRegistry()
    let prefetcher = ZipPrefetcher()
    /// Zips refused for a checksum mismatch, answered 403 at once for a while (a .mod is
    /// small enough to fetch again).
    let refusals = RecentRefusals()

    /// Largest `.info`, `list` or `@latest` accepted from an upstream.
    static let smallLimit = 1 << 20

    public init(configuration: ProxyConfiguration, storage: any ArtifactStorage, chain: UpstreamChain,
                logger: Logger, checksums: ChecksumDatabases? = nil, threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.checksums = checksums
        self.storage = storage
        self.chain = chain
        self.logger = logger
        self.threadPool = threadPool
        self.memory = MemoryCache(capacity: configuration.memoryCacheBytes)
    }

    /// Waits for zip downloads in progress (graceful shutdown).
    public func drain() async {
        await prefetcher.drain()
        await downloads.drain()
    }

    /// Lists, `@latest` and queries are right for the list TTL.
    var mutablePolicy: CachePolicy { .fresh(seconds: max(0, Int(configuration.listTTL))) }

    /// Answers one request. With `allowFetch` false (the `Disable-Module-Fetch` header),
    /// only what is already stored is served.
    public func serve(_ request: ProxyRequest, allowFetch: Bool = true) async throws(ProxyError) -> ServedArtifact {
        switch request {
        case .list(let module):
            return try await mutable(.list(module: module), endpoint: "list", allowFetch: allowFetch,
                                     contentType: "text/plain; charset=utf-8") { bytes in
                Self.filterList(bytes)
            }
        case .latest(let module):
            return try await mutable(.latest(module: module), endpoint: "latest", allowFetch: allowFetch,
                                     contentType: "application/json") { bytes in
                try Self.validateInfo(bytes, expected: nil, module: module)
                return bytes
            }
        case .artifact(let module, let version, .info) where ModuleVersion.canonical(version) != version:
            return try await query(module: module, query: version, allowFetch: allowFetch)
        case .artifact(let module, let version, let kind) where kind != .zip:
            let small = try await immutableSmall(module: module, version: version, kind: kind, allowFetch: allowFetch)
            return small.served(contentType: kind.contentType, cachePolicy: .immutable)
        case .artifact(let module, let version, _):
            return try await zip(module: module, version: version, allowFetch: allowFetch)
        }
    }

    // MARK: - Immutable small artifacts (.info, .mod)

    func immutableSmall(module: String, version: String, kind: ArtifactKind, allowFetch: Bool) async throws(ProxyError) -> SmallArtifact {
        let key = StorageKey.artifact(module: module, version: version, kind: kind)
        if var hit = memory.get(key) {
            hit.status = .hit
            countCache(kind.rawValue, hit: true)
            return hit
        }
        if let stored = try await readStored(key) {
            let artifact = SmallArtifact(bytes: stored.bytes, metadata: stored.metadata, status: .hit)
            memory.put(key, artifact, cost: stored.bytes.count + 64)
            countCache(kind.rawValue, hit: true)
            return artifact
        }
        countCache(kind.rawValue, hit: false)
        guard allowFetch else { throw Self.notCached(module, version) }
        try checksums?.refuseUnverifiable(module)
        return try await flight(smallFlights, key) { [self] () throws(ProxyError) -> SmallArtifact in
            // The checksum database is asked while the upstream is, not after it.
            async let expected = expectedSums(module: module, version: version, needed: kind == .mod)
            let request = ProxyRequest.artifact(module: module, version: version, kind: kind)
            let (bytes, origin) = try await fetchSmall(request, endpoint: kind.rawValue, module: module, version: version) { bytes in
                switch kind {
                case .info: try Self.validateInfo(bytes, expected: version, module: module)
                case .mod: try Self.validateGoMod(bytes, module: module, version: version)
                case .zip: break
                }
                return bytes
            }
            let hash = kind == .mod ? Hash1.hashGoMod(bytes) : Self.contentTag(bytes)
            if kind == .mod, let checksums {
                try checksums.check(module: module, version: version, what: "mod", actual: hash, expected: try await expected.get())
            }
            let metadata = ArtifactMetadata(size: Int64(bytes.count), hash: hash, storedAt: Self.now(), origin: origin)
            try await writeStored(key, bytes, metadata)
            let artifact = SmallArtifact(bytes: bytes, metadata: metadata, status: .miss)
            memory.put(key, artifact, cost: bytes.count + 64)
            if kind == .info { prefetchZip(module: module, version: version, origin: origin) }
            return artifact
        }
    }

    // MARK: - Mutable answers (list, @latest, version queries)

    func mutable(_ key: StorageKey, endpoint: String, allowFetch: Bool, contentType: String,
                 transform: @escaping @Sendable ([UInt8]) throws -> [UInt8]) async throws(ProxyError) -> ServedArtifact {
        let stored = try? await storage.readSmall(key, limit: Self.smallLimit)
        if let stored {
            let age = Self.now() - stored.metadata.storedAt
            let fresh = age >= 0 && age < configuration.listTTL
            countCache(endpoint, hit: fresh)
            if fresh || !allowFetch {
                return SmallArtifact(bytes: stored.bytes, metadata: stored.metadata, status: fresh ? .hit : .stale)
                    .served(contentType: contentType, cachePolicy: mutablePolicy)
            }
            // Stale: answer now, refresh in the background.
            refreshInBackground(key, endpoint: endpoint, transform: transform)
            return SmallArtifact(bytes: stored.bytes, metadata: stored.metadata, status: .stale)
                .served(contentType: contentType, cachePolicy: mutablePolicy)
        }
        countCache(endpoint, hit: false)
        guard allowFetch else { throw Self.notCached(key.moduleName, nil) }
        let fetched = try await flight(smallFlights, key) { [self] () throws(ProxyError) in
            try await refresh(key, endpoint: endpoint, transform: transform)
        }
        return fetched.served(contentType: contentType, cachePolicy: mutablePolicy)
    }

    func refresh(_ key: StorageKey, endpoint: String, transform: @Sendable ([UInt8]) throws -> [UInt8]) async throws(ProxyError) -> SmallArtifact {
        guard let request = key.upstreamRequest else { throw ProxyError.internalError("no upstream request for \(key)") }
        let (bytes, origin) = try await fetchSmall(request, endpoint: endpoint, module: key.moduleName, version: nil, transform)
        let metadata = ArtifactMetadata(size: Int64(bytes.count), hash: Self.contentTag(bytes), storedAt: Self.now(), origin: origin)
        try await writeStored(key, bytes, metadata)
        switch key {
        case .latest(let module), .query(let module, _):
            if let version = Self.infoVersion(bytes) { prefetchZip(module: module, version: version, origin: origin) }
        default:
            break
        }
        return SmallArtifact(bytes: bytes, metadata: metadata, status: .miss)
    }

    func refreshInBackground(_ key: StorageKey, endpoint: String, transform: @escaping @Sendable ([UInt8]) throws -> [UInt8]) {
        let flights = smallFlights
        Task { [self] in
            do {
                _ = try await flights.run(key) { [self] in try await refresh(key, endpoint: endpoint, transform: transform) }
            } catch {
                logger.info("background refresh failed; keeping the last good answer", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
    }

    /// `.info` for a query that is not a canonical version (a branch, `v1.2`, a commit).
    func query(module: String, query: String, allowFetch: Bool) async throws(ProxyError) -> ServedArtifact {
        try await mutable(.query(module: module, query: query), endpoint: "info", allowFetch: allowFetch,
                          contentType: "application/json") { bytes in
            try Self.validateInfo(bytes, expected: nil, module: module)
            return bytes
        }
    }

    // MARK: - Zips

    func zip(module: String, version: String, allowFetch: Bool) async throws(ProxyError) -> ServedArtifact {
        let key = StorageKey.artifact(module: module, version: version, kind: .zip)
        if var hot = memory.get(key) {
            hot.status = .hit
            countCache("zip", hit: true)
            return hot.served(contentType: ArtifactKind.zip.contentType, cachePolicy: .immutable)
        }
        if let stored = try await openStored(key) {
            countCache("zip", hit: true)
            if stored.metadata.size <= Self.memoryZipLimit, let small = await readWhole(stored) {
                memory.put(key, small, cost: small.buffer.readableBytes + 64)
                return small.served(contentType: ArtifactKind.zip.contentType, cachePolicy: .immutable)
            }
            return ServedArtifact(body: .file(stored.file, size: stored.metadata.size), contentType: ArtifactKind.zip.contentType, etag: stored.metadata.etag,
                                  lastModified: stored.metadata.storedAt, cachePolicy: .immutable,
                                  cacheStatus: .hit, origin: stored.metadata.origin)
        }
        if let running = downloads.get(key) {
            countCache("zip", hit: false)
            return Self.streaming(running)
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
        let download = try await downloads.start(key, storage: storage) { [self] download, staging throws(ProxyError) in
            try await fetchZip(module: module, version: version, into: staging, download: download, goMod: goMod.bytes)
        }
        return Self.streaming(download)
    }

    /// Runs a checksum check; a mismatch (403) is remembered for `key` for a while.
    func refusingForAWhile(_ key: StorageKey, _ check: () throws(ProxyError) -> Void) throws(ProxyError) {
        do {
            try check()
        } catch {
            if error.status == 403 { refusals.remember(key, error) }
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
            throw ProxyError.badGateway("upstream zip for \(module)@\(version) is too large (\(length) bytes; limit is \(ModuleZipRules.maxZipFile))")
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
                    throw ProxyError.badGateway("upstream zip for \(module)@\(version) exceeds \(ModuleZipRules.maxZipFile) bytes")
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
            if case .timedOut = failure { throw ProxyError.gatewayTimeout("upstream \(origin) timed out sending \(module)@\(version).zip") }
            throw ProxyError.badGateway("upstream \(origin) failed while sending \(module)@\(version).zip", detail: "\(error)")
        }
        if let expected = response.contentLength, expected != written {
            throw ProxyError.badGateway("upstream \(origin) sent \(written) of \(expected) bytes of \(module)@\(version).zip")
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
            throw ProxyError.badGateway("upstream \(origin) sent an invalid zip for \(module)@\(version): \(error)")
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
            throw ProxyError.badGateway("upstream zip for \(module)@\(version) does not match its .mod (go.mod differs)")
        }
        return ArtifactMetadata(size: written, hash: verified.hash, storedAt: Self.now(), origin: origin)
    }

    // MARK: - Upstream helpers

    /// Fetches a small artifact through the chain, collecting and validating it per
    /// upstream, so that a malformed answer falls through like a failure.
    func fetchSmall(_ request: ProxyRequest, endpoint: String, module: String, version: String?,
                    _ transform: @Sendable ([UInt8]) throws -> [UInt8]) async throws(ProxyError) -> ([UInt8], String) {
        do {
            return try await chain.first(request, endpoint: endpoint) { upstream, response in
                let bytes = try await response.body.collect(limit: Self.smallLimit)
                do {
                    return try transform(bytes)
                } catch let e as ProxyError {
                    throw UpstreamFailure.failed(message: "\(upstream.name): \(e.message)")
                }
            }
        } catch {
            throw Self.proxyError(error, module: module, version: version)
        }
    }

    static func proxyError(_ failure: UpstreamFailure, module: String, version: String?) -> ProxyError {
        let what = version.map { "\(module)@\($0)" } ?? module
        switch failure {
        case .notFound(let status, let message):
            return .notFound("\(what): not found upstream: \(message)", gone: status == 410)
        case .refused(let status, let message):
            return ProxyError(status: status == 403 ? 403 : 502, "\(what): upstream refused: \(message)")
        case .failed(let message):
            return .badGateway("\(what): \(message)")
        case .timedOut(let message):
            return .gatewayTimeout("\(what): \(message)")
        case .disabled:
            return .forbidden("\(what): fetching modules is disabled (upstream list ends in off)")
        }
    }

    static func notCached(_ module: String, _ version: String?) -> ProxyError {
        .notFound("\(version.map { "\(module)@\($0)" } ?? module): not cached, and Disable-Module-Fetch is set")
    }

    // MARK: - Storage helpers

    func readStored(_ key: StorageKey) async throws(ProxyError) -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
        do {
            return try await storage.readSmall(key, limit: Self.smallLimit)
        } catch {
            logger.error("storage read failed", metadata: ["key": "\(key)", "error": "\(error)"])
            throw ProxyError.internalError("storage read failed")
        }
    }

    func openStored(_ key: StorageKey) async throws(ProxyError) -> StoredArtifact? {
        do {
            return try await storage.open(key)
        } catch {
            logger.error("storage read failed", metadata: ["key": "\(key)", "error": "\(error)"])
            throw ProxyError.internalError("storage read failed")
        }
    }

    func writeStored(_ key: StorageKey, _ bytes: [UInt8], _ metadata: ArtifactMetadata) async throws(ProxyError) {
        do {
            try await storage.writeSmall(key, bytes: bytes, metadata: metadata)
        } catch {
            logger.error("storage write failed", metadata: ["key": "\(key)", "error": "\(error)"])
            throw ProxyError.internalError("storage write failed")
        }
    }

    func flight<V: Sendable>(_ flights: SingleFlight<StorageKey, V>, _ key: StorageKey,
                             _ work: @escaping @Sendable () async throws(ProxyError) -> V) async throws(ProxyError) -> V {
        do {
            return try await flights.run(key) { try await work() }.value
        } catch let e as ProxyError {
            throw e
        } catch {
            throw ProxyError.internalError("internal error", detail: "\(error)")
        }
    }

    func countCache(_ endpoint: String, hit: Bool) {
        CacheMetrics.count(endpoint, hit: hit)
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// A strong validator for content that has no go.sum hash.
    static func contentTag(_ bytes: [UInt8]) -> String {
        "sha256-" + Data(SHA256.hash(data: bytes)).base64EncodedString()
    }
}

/// An `.info`, `.mod`, `list`, `@latest` or small zip answer held in memory. The bytes
/// live in a ByteBuffer so that serving shares them instead of copying.
struct SmallArtifact: Sendable {
    var buffer: ByteBuffer
    var metadata: ArtifactMetadata
    var status: ServedArtifact.CacheStatus

    init(bytes: [UInt8], metadata: ArtifactMetadata, status: ServedArtifact.CacheStatus) {
        self.buffer = ByteBuffer(bytes: bytes)
        self.metadata = metadata
        self.status = status
    }

    init(buffer: ByteBuffer, metadata: ArtifactMetadata, status: ServedArtifact.CacheStatus) {
        self.buffer = buffer
        self.metadata = metadata
        self.status = status
    }

    var bytes: [UInt8] { Array(buffer.readableBytesView) }

    func served(contentType: String, cachePolicy: CachePolicy) -> ServedArtifact {
        ServedArtifact(body: .bytes(buffer), contentType: contentType, etag: metadata.etag,
                       lastModified: metadata.storedAt, cachePolicy: cachePolicy, cacheStatus: status, origin: metadata.origin)
    }
}

extension StorageKey {
    var moduleName: String {
        switch self {
        case .artifact(let m, _, _), .list(let m), .latest(let m), .query(let m, _): return m
        case .sumdbTile: return ""
        }
    }

    /// What to ask an upstream for this key's answer (nil for what no upstream serves).
    var upstreamRequest: ProxyRequest? {
        switch self {
        case .artifact(let m, let v, let kind): return .artifact(module: m, version: v, kind: kind)
        case .list(let m): return .list(module: m)
        case .latest(let m): return .latest(module: m)
        case .query(let m, let q): return .artifact(module: m, version: q, kind: .info)
        case .sumdbTile: return nil
        }
    }
}
