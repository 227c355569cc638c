import GoModule
import Logging

/// Answers that change: `list`, `@latest` and version queries, fresh for the list TTL,
/// then served stale while a background refresh runs, and kept when every upstream fails.
extension ModuleProxy {
    func mutable(_ key: StorageKey, endpoint: String, allowFetch: Bool, contentType: String,
                 transform: @escaping @Sendable ([UInt8]) throws -> [UInt8]) async throws(ProxyError) -> ServedArtifact {
        let stored = try? await storage.readSmall(key, limit: Self.smallLimit)
        if let stored {
            let age = Self.now() - stored.metadata.storedAt
            let fresh = age >= 0 && age < setting(\.listTTL)
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
        let fetched: SmallArtifact
        do {
            fetched = try await flight(smallFlights, key) { [self] () throws(ProxyError) in
                try await refresh(key, endpoint: endpoint, transform: transform)
            }
        } catch {
            // Every upstream failed (or there is none: `--upstream off`) and no answer was
            // ever kept: the versions stored here are still a true (if partial) answer,
            // and keep builds of them working.
            if error.isServerSide || chain.fetchesNothing {
                switch key {
                case .list(let module):
                    if let cached = await storedVersionsList(module) {
                        if error.isServerSide {
                            logger.warning("upstreams failed; listing the versions stored here", metadata: ["module": "\(module)", "error": "\(error.message)"])
                        }
                        return cached.served(contentType: contentType, cachePolicy: .fresh(seconds: 0))
                    }
                case .latest(let module):
                    if let cached = await storedLatest(module) {
                        return cached.served(contentType: contentType, cachePolicy: .fresh(seconds: 0))
                    }
                default:
                    break
                }
            }
            throw error
        }
        return fetched.served(contentType: contentType, cachePolicy: mutablePolicy)
    }

    /// A `list` answer made of the versions the metadata index knows are stored (release
    /// and pre-release versions, as upstream lists give them), or nil when there are none.
    func storedVersionsList(_ module: String) async -> SmallArtifact? {
        guard let index, let versions = try? await index.versions(of: module) else { return nil }
        let bytes = Self.filterList(Array(versions.map(\.version).joined(separator: "\n").utf8))
        guard !bytes.isEmpty else { return nil }
        MetricHandles.counter("warren_lists_from_index_total", []).increment()
        let metadata = ArtifactMetadata(size: Int64(bytes.count), hash: Self.contentTag(bytes), storedAt: Self.now(), origin: "index")
        return SmallArtifact(bytes: bytes, metadata: metadata, status: .stale)
    }

    /// An `@latest` answer from the versions stored here (see `latestInfo`), or nil.
    func storedLatest(_ module: String) async -> SmallArtifact? {
        guard let index, let versions = try? await index.versions(of: module).map(\.version),
              let info = try? await latestInfo(module, among: versions) else { return nil }
        return SmallArtifact(bytes: info.bytes, metadata: info.metadata, status: .stale)
    }

    func refresh(_ key: StorageKey, endpoint: String, transform: @escaping @Sendable ([UInt8]) throws -> [UInt8]) async throws(ProxyError) -> SmallArtifact {
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
}
