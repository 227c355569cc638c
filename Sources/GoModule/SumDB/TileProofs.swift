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
            let (tile, offset, count) = try tileSpan(of: index, size: size, height: height)
            let width = tile.width
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

    /// Where stored hash `index` of a tree of `size` records comes from: `count` hashes
    /// of `tile` from `offset`, folded pairwise (a hash at a level between two tile bands
    /// is not stored; it is computed from the band below).
    public static func tileSpan(of index: Int64, size: Int64, height: Int) throws -> (tile: LogTile, offset: Int, count: Int) {
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
        guard width > 0, offset + count <= width else { throw ProofError("hash \(index) is not in a tree of \(size) records") }
        return (LogTile(height: height, level: tileLevel, index: tileIndex, width: width), offset, count)
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
        try nodeProof(level: 0, n: index, size: size, read: read)
    }

    /// The inclusion proof of the complete subtree at `level` with index `n` (records
    /// n·2^level up to (n+1)·2^level) in the tree of `size` records: RFC 6962's PATH,
    /// stopping where the subtree begins. A full tile's hashes fold into such a subtree,
    /// which is how a tile is checked against a signed tree head.
    public static func nodeProof(level: Int, n: Int64, size: Int64, read: ([Int64]) throws -> [Hash]) throws -> [Hash] {
        let width = Int64(1) << level
        let lo0 = n << level
        guard n >= 0, level >= 0, level < 62, lo0 + width <= size else {
            throw ProofError("subtree \(n) at level \(level) is not in a tree of \(size) records")
        }
        func path(_ lo: Int64, _ hi: Int64) throws -> [Hash] {
            if hi - lo == width { return [] }
            let k = splitPoint(hi - lo)
            if lo0 < lo + k { return try path(lo, lo + k) + [rangeHash(lo + k, hi, read: read)] }
            return try path(lo + k, hi) + [rangeHash(lo, lo + k, read: read)]
        }
        return try path(0, size)
    }

    /// The hash of the subtree a full tile's hashes make up (the tile's 2^height hashes
    /// folded pairwise).
    public static func tileRoot(_ data: TileData) -> Hash? {
        guard data.count >= 32, data.count % 32 == 0, (data.count / 32).nonzeroBitCount == 1 else { return nil }
        var row: [Hash] = stride(from: 0, to: data.count, by: 32).map { Array(data[$0..<($0 + 32)]) }
        while row.count > 1 {
            row = stride(from: 0, to: row.count, by: 2).map { nodeHash(row[$0], row[$0 + 1]) }
        }
        return row[0]
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
