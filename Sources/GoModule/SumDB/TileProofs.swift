/// Building proofs from the log's tiles, as a client of a checksum database must: it
/// fetches the tiles that hold the hashes it needs and folds them into the proof. The
/// proof is then checked against the signed tree head, so a server that sends wrong
/// tiles gets a proof that fails, never a wrong verdict.
extension TransparencyLog {
    /// The hashes in a tile, 32 bytes each.
    public typealias TileData = [UInt8]

    /// Reads stored hashes of a tree of `size` records out of tiles of `height`, fetched
    /// through `fetch` (asked for each tile once per call).
    public static func hashes(at indexes: [Int64], size: Int64, height: Int,
                              fetch: (LogTile) throws -> TileData) throws -> [Hash] {
        var tiles: [LogTile: TileData] = [:]
        return try indexes.map { index in
            let (level, n) = splitStoredHashIndex(index)
            let tileLevel = level / height, within = level % height
            // The hash covers 2^within hashes of the tile's band, starting at `start`.
            let start = n << within
            let tileIndex = start >> height
            let offset = Int(start - (tileIndex << height))
            let count = 1 << within
            // The band holds size >> (tileLevel·height) hashes; the tile as wide as it gets.
            let bandSize = size >> (tileLevel * height)
            let width = Int(min(Int64(1) << height, bandSize - (tileIndex << height)))
            guard offset + count <= width else { throw ProofError("hash \(index) is not in a tree of \(size) records") }
            let tile = LogTile(height: height, level: tileLevel, index: tileIndex, width: width)
            let data: TileData
            if let cached = tiles[tile] {
                data = cached
            } else {
                data = try fetch(tile)
                tiles[tile] = data
            }
            guard data.count == width * 32 else { throw ProofError("tile \(tile.path) has \(data.count) bytes, want \(width * 32)") }
            var row: [Hash] = (offset..<(offset + count)).map { Array(data[($0 * 32)..<($0 * 32 + 32)]) }
            while row.count > 1 {
                row = stride(from: 0, to: row.count, by: 2).map { nodeHash(row[$0], row[$0 + 1]) }
            }
            return row[0]
        }
    }

    /// The hash of records [lo, hi) from stored hashes.
    static func rangeHash(_ lo: Int64, _ hi: Int64, read: ([Int64]) throws -> [Hash]) throws -> Hash {
        let parts = subtrees(lo, hi)
        let hashes = try read(parts.map { storedHashIndex(level: $0.level, n: $0.n) })
        guard hashes.count == parts.count, let h = fold(hashes) else { throw ProofError("wrong number of hashes read") }
        return h
    }

    /// The inclusion proof of record `index` in the tree of `size` records (RFC 6962 PATH).
    public static func recordProof(index: Int64, size: Int64, read: ([Int64]) throws -> [Hash]) throws -> [Hash] {
        guard index >= 0, index < size else { throw ProofError("record \(index) is not in a tree of \(size) records") }
        func path(_ lo: Int64, _ hi: Int64) throws -> [Hash] {
            if hi - lo == 1 { return [] }
            let k = splitPoint(hi - lo)
            if index < lo + k { return try path(lo, lo + k) + [rangeHash(lo + k, hi, read: read)] }
            return try path(lo + k, hi) + [rangeHash(lo, lo + k, read: read)]
        }
        return try path(0, size)
    }

    /// The consistency proof from the tree of `oldSize` records to the tree of `size`
    /// records (RFC 6962 PROOF).
    public static func treeProof(oldSize: Int64, size: Int64, read: ([Int64]) throws -> [Hash]) throws -> [Hash] {
        guard oldSize >= 1, oldSize <= size else { throw ProofError("cannot prove tree \(oldSize) inside tree \(size)") }
        func subproof(_ lo: Int64, _ hi: Int64, _ complete: Bool) throws -> [Hash] {
            if oldSize == hi { return complete ? [] : [try rangeHash(lo, hi, read: read)] }
            let k = splitPoint(hi - lo)
            if oldSize <= lo + k { return try subproof(lo, lo + k, complete) + [rangeHash(lo + k, hi, read: read)] }
            return try subproof(lo + k, hi, false) + [rangeHash(lo, lo + k, read: read)]
        }
        return try subproof(0, size, true)
    }
}
