import GoModule

/// Immutable small artifacts: `.info` of canonical versions and `.mod`, fetched once
/// (the `.mod` verified against the checksum database) and kept for ever.
extension ModuleProxy {
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
}
