/// Reading a log's stored hashes out of tiles the way the go command's checksum-database
/// client does (golang.org/x/mod/sumdb/tlog's tile hash reader), so that Warren knows
/// exactly which tiles such a client will ask for, and checks them exactly as it will:
///
/// - the tiles holding the subtrees that make up the tree hash come first; folded
///   together, those subtrees must give the signed tree hash;
/// - every other tile follows its parent (the tile one band up) and is full: the hash of
///   all its bytes must equal the hash its parent holds for it.
///
/// Every byte of every tile in the plan is therefore authenticated, not only the hashes a
/// proof happens to use: a single changed byte anywhere is caught, as the go command would
/// catch it. An air-gapped bundle carries exactly these tiles.
extension TransparencyLog {
    /// The tiles to fetch for reading `indexes` (stored-hash indexes) from the tree of
    /// `size` records, in authentication order; the first `treeTiles` of them hold the
    /// tree hash's subtrees.
    public struct TileReadPlan: Sendable, Equatable {
        public var tiles: [LogTile]
        public var treeTiles: Int
        /// The stored-hash indexes whose fold is the tree hash, and the tile each is in.
        var treeIndexes: [Int64]
        var treeIndexTile: [Int]
        /// The tile each requested index is read from.
        var indexTile: [Int]
    }

    public static func tileReadPlan(indexes: [Int64], size: Int64, height: Int) throws(ProofError) -> TileReadPlan {
        guard size > 0 else { throw ProofError("an empty tree has no tiles") }
        var order: [LogTile: Int] = [:]
        var tiles: [LogTile] = []
        let treeIndexes = treeHashIndexes(size: size)
        var treeIndexTile: [Int] = []
        for x in treeIndexes {
            guard let tile = tileParent(tileForIndex(height: height, x).tile, levels: 0, size: size) else {
                throw ProofError("hash \(x) is not in a tree of \(size) records")
            }
            if let j = order[tile] {
                treeIndexTile.append(j)
                continue
            }
            order[tile] = tiles.count
            treeIndexTile.append(tiles.count)
            tiles.append(tile)
        }
        let treeTiles = tiles.count
        var indexTile: [Int] = []
        let limit = storedHashIndex(level: 0, n: size)
        for x in indexes {
            guard x >= 0, x < limit else { throw ProofError("hash \(x) is not in a tree of \(size) records") }
            let base = tileForIndex(height: height, x).tile
            // Up the parents to one already planned (the top ones always are), then back
            // down, planning each tile after its parent.
            var k = 0
            while true {
                guard let p = tileParent(base, levels: k, size: size) else {
                    throw ProofError("hash \(x) has no tile in a tree of \(size) records")
                }
                if order[p] != nil { break }
                k += 1
            }
            for level in stride(from: k, through: 0, by: -1) {
                guard let p = tileParent(base, levels: level, size: size) else { continue }
                if order[p] == nil {
                    guard p.isFull else { throw ProofError("tile \(p.path) would need a parent but is not full") }
                    order[p] = tiles.count
                    tiles.append(p)
                }
            }
            guard let own = tileParent(base, levels: 0, size: size), let j = order[own] else {
                throw ProofError("hash \(x) has no tile in a tree of \(size) records")
            }
            indexTile.append(j)
        }
        return TileReadPlan(tiles: tiles, treeTiles: treeTiles, treeIndexes: treeIndexes, treeIndexTile: treeIndexTile, indexTile: indexTile)
    }

    /// The stored hashes at `indexes` of the signed tree `head`, read from the tiles
    /// `tile` gives and authenticated as the go command authenticates them. The error
    /// names the tile that failed (or, for the tree hash, the tiles that make it up: one
    /// of them is wrong, and nothing says which).
    public static func authenticatedHashes(indexes: [Int64], head: TreeHead, height: Int,
                                           tile: (LogTile) throws -> TileData) throws -> [Hash] {
        let plan = try tileReadPlan(indexes: indexes, size: head.size, height: height)
        var data: [TileData] = []
        for t in plan.tiles {
            let bytes = try tile(t)
            guard bytes.count == t.width * 32 else {
                throw ProofError("tile \(t.path) has \(bytes.count) bytes, want \(t.width * 32)")
            }
            data.append(bytes)
        }
        // The tree hash from the top tiles.
        var hashes: [Hash] = []
        for (i, x) in plan.treeIndexes.enumerated() {
            hashes.append(try hashFromTile(plan.tiles[plan.treeIndexTile[i]], data[plan.treeIndexTile[i]], index: x))
        }
        guard fold(hashes) == head.hash else {
            let names = plan.tiles[..<plan.treeTiles].map(\.path).joined(separator: ", ")
            throw ProofError("the tiles \(names) do not hash to the signed tree of \(head.size) records")
        }
        // Every other tile against the hash its parent holds for it.
        var position: [LogTile: Int] = [:]
        for (i, t) in plan.tiles.enumerated() { position[t] = i }
        for i in plan.treeTiles..<plan.tiles.count {
            let t = plan.tiles[i]
            guard let parent = tileParent(t, levels: 1, size: head.size), let j = position[parent] else {
                throw ProofError("tile \(t.path) has no parent in the plan")
            }
            let held = try hashFromTile(parent, data[j], index: storedHashIndex(level: parent.level * parent.height, n: t.index))
            guard let root = tileRoot(data[i]), root == held else {
                throw ProofError("tile \(t.path) does not match the hash \(parent.path) holds for it")
            }
        }
        return try zip(indexes, plan.indexTile).map { x, j in try hashFromTile(plan.tiles[j], data[j], index: x) }
    }

    /// The tile that holds stored hash `index`, as narrow as it can be, and the byte range
    /// of the hashes that fold into it.
    static func tileForIndex(height: Int, _ index: Int64) -> (tile: LogTile, start: Int, end: Int) {
        var (level, n) = splitStoredHashIndex(index)
        let tileLevel = level / height
        level -= tileLevel * height
        let tileIndex = (n << level) >> height
        n -= (tileIndex << height) >> level
        let width = Int((n + 1) << level)
        return (LogTile(height: height, level: tileLevel, index: tileIndex, width: width), Int(n << level) * 32, Int((n + 1) << level) * 32)
    }

    /// The tile `levels` bands above `tile` in the tree of `size` records, as wide as that
    /// tree makes it; nil when the tree does not reach it.
    static func tileParent(_ tile: LogTile, levels: Int, size: Int64) -> LogTile? {
        let level = tile.level + levels
        let index = tile.index >> (levels * tile.height)
        let band = size >> (level * tile.height)
        let start = index << tile.height
        guard start < band else { return nil }
        let width = Int(min(Int64(1) << tile.height, band - start))
        return LogTile(height: tile.height, level: level, index: index, width: width)
    }

    /// Stored hash `index` computed from the bytes of `tile` that cover it.
    static func hashFromTile(_ tile: LogTile, _ data: TileData, index: Int64) throws(ProofError) -> Hash {
        let (own, start, end) = tileForIndex(height: tile.height, index)
        guard own.level == tile.level, own.index == tile.index, own.width <= tile.width, end <= data.count else {
            throw ProofError("hash \(index) is not in tile \(tile.path)")
        }
        var row: [Hash] = stride(from: start, to: end, by: 32).map { Array(data[$0..<($0 + 32)]) }
        while row.count > 1 {
            row = stride(from: 0, to: row.count, by: 2).map { nodeHash(row[$0], row[$0 + 1]) }
        }
        return row[0]
    }
}
