import Foundation
import GoModule

/// Evidence an air-gapped bundle carries: the database's records for the modules in it,
/// the signed tree head they are proved against, and the tiles the go command reads the
/// proofs from. An exporting Warren gathers it (`evidence`); an importing one checks it
/// (BundleImport) and keeps it in storage, so that `/sumdb/<name>/` answers lookups, tiles
/// and `latest` without the database, and so that its own verification finds the records.
extension ChecksumDatabase {
    /// The carried head and its parsed tree, if a bundle brought one. Read from storage
    /// each time: an import beside a running server is in force at once.
    func carriedHead() async -> (note: [UInt8], head: TreeHead)? {
        guard let stored = try? await storage?.readSmall(.sumdbCarriedHead(database: name), limit: 8192),
              let opened = try? SignedNote.open(stored.bytes, keys: [key]),
              let head = try? TreeHead(text: opened.text) else { return nil }
        return (stored.bytes, head)
    }

    /// `/lookup/` answered from a carried record: its id and lines, then the carried head.
    func carriedLookup(module: String, version: String) async -> [UInt8]? {
        guard let storage,
              let record = try? await storage.readSmall(.sumdbRecord(database: name, module: module, version: version), limit: 1 << 16),
              let (note, _) = await carriedHead()
        else { return nil }
        return record.bytes + [0x0A] + note
    }

    /// Keeps what an import proved: tiles (full and partial), records, and the head, which
    /// becomes the carried head when it is larger than the one before; it is also shared
    /// as the largest verified head, so later online lookups are checked against it.
    public func keepCarried(note: [UInt8], head: TreeHead, tiles: [LogTile: [UInt8]],
                            records: [(module: String, version: String, id: Int64, text: [UInt8])]) async throws {
        guard let storage else { throw Failure(.unavailable, "\(name): no storage to keep carried evidence in") }
        let now = Date().timeIntervalSince1970
        for (tile, data) in tiles {
            try await storage.writeSmall(.sumdbTile(database: name, tile: tile), bytes: data,
                                         metadata: ArtifactMetadata(size: Int64(data.count), hash: ModuleProxy.contentTag(data), storedAt: now, origin: "bundle"))
        }
        for r in records {
            let bytes = Array("\(r.id)\n".utf8) + r.text
            try await storage.writeSmall(.sumdbRecord(database: name, module: r.module, version: r.version), bytes: bytes,
                                         metadata: ArtifactMetadata(size: Int64(bytes.count), hash: ModuleProxy.contentTag(bytes), storedAt: now, origin: "bundle"))
        }
        if (await carriedHead()?.head.size ?? -1) < head.size {
            try await storage.writeSmall(.sumdbCarriedHead(database: name), bytes: note,
                                         metadata: ArtifactMetadata(size: Int64(note.count), hash: "size-\(head.size)", storedAt: now, origin: "bundle"))
        }
        await remember(head, note: note)
    }

    /// The largest tree head this Warren has verified or been carried, for an import to
    /// prove its bundle consistent with.
    public func knownHead() async -> TreeHead? {
        var known = latest
        if let shared = await sharedHead(), shared.size > (known?.size ?? -1) { known = shared }
        if let carried = await carriedHead()?.head, carried.size > (known?.size ?? -1) { known = carried }
        return known
    }

    /// The tree head imported bundles carried (the largest), for the console.
    public func carriedTreeHead() async -> TreeHead? {
        await carriedHead()?.head
    }

    /// A tile this Warren already holds (verified or carried), for an import whose bundle
    /// left out tiles an earlier bundle carried.
    public func heldTile(_ tile: LogTile) async -> [UInt8]? {
        await storedTile(tile)
    }

    /// The key tree heads of this database are signed with.
    public nonisolated var verifierKey: VerifierKey { key }

    /// Evidence for an export: the database's current signed tree head and, fetched from
    /// it, every tile the go command would read to prove `records` (ids) in that tree and
    /// to prove each of `earlier` (heads a previous bundle carried) consistent with it. The
    /// tiles are authenticated here as the importer will authenticate them.
    public func evidence(records: [Int64], earlier: [TreeHead]) async throws(Failure) -> (note: [UInt8], head: TreeHead, tiles: [LogTile: [UInt8]]) {
        brief.remove("/latest")
        let note = try await latestAnswer()
        let head = try await verifiedHead(note)
        var indexes = records.map { TransparencyLog.storedHashIndex(level: 0, n: $0) }
        for old in earlier where old.size < head.size && old.size > 0 {
            indexes += Self.treeProofIndexes(oldSize: old.size, size: head.size)
        }
        let plan: TransparencyLog.TileReadPlan
        do {
            plan = try TransparencyLog.tileReadPlan(indexes: indexes, size: head.size, height: Self.tileHeight)
        } catch {
            throw Failure(.tampering, "\(name): \(error)")
        }
        // Fetched a few at a time: a bundle of many versions needs a tile or more each.
        // (The child tasks throw untyped errors: a typed-throws Result carried out of a
        // task group came back corrupted in release builds of this toolchain.)
        var tiles: [LogTile: [UInt8]] = [:]
        var pending = plan.tiles[...]
        do {
            while !pending.isEmpty {
                let batch = Array(pending.prefix(8))
                pending = pending.dropFirst(batch.count)
                try await withThrowingTaskGroup(of: (LogTile, [UInt8]).self) { group in
                    for tile in batch {
                        group.addTask { (tile, try await self.fetchTile(tile)) }
                    }
                    while let (tile, data) = try await group.next() { tiles[tile] = data }
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(.unavailable, "\(name): \(error)")
        }
        do {
            _ = try TransparencyLog.authenticatedHashes(indexes: indexes, head: head, height: Self.tileHeight) { tile in
                guard let data = tiles[tile] else { throw TransparencyLog.ProofError("tile \(tile.path) was not fetched (evidence)") }
                return data
            }
        } catch {
            throw Failure(.tampering, "\(name): \(error)")
        }
        return (note, head, tiles)
    }

    /// The stored-hash indexes a consistency proof from `oldSize` to `size` reads.
    public static func treeProofIndexes(oldSize: Int64, size: Int64) -> [Int64] {
        var read: [Int64] = []
        _ = try? TransparencyLog.treeProof(oldSize: oldSize, size: size) { indexes in
            read += indexes
            return indexes.map { _ in [UInt8](repeating: 0, count: 32) }
        }
        return read
    }
}
