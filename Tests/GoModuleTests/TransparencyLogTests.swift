import Foundation
import Testing
@testable import GoModule

/// The transparency log against golang.org/x/mod/sumdb/tlog (Debian's, through goref):
/// the same tree hashes and storage order for a log of 300 records, every inclusion and
/// consistency proof it makes accepted, and every altered proof refused.
@Suite struct TransparencyLogTests {
    typealias Hash = TransparencyLog.Hash

    static func hash(_ s: Substring) -> Hash { Base64.decode(s) ?? [] }

    /// Swift's own log of `n` records "record i": its stored hashes, in storage order.
    static func build(_ n: Int64) -> [Hash] {
        var stored: [Hash] = []
        for i in 0..<n {
            stored.append(TransparencyLog.recordHash(Array("record \(i)".utf8)))
            var level = 0, k = i
            while k & 1 == 1 {
                let left = stored[Int(TransparencyLog.storedHashIndex(level: level, n: k - 1))]
                let right = stored[Int(TransparencyLog.storedHashIndex(level: level, n: k))]
                stored.append(TransparencyLog.nodeHash(left, right))
                level += 1
                k >>= 1
            }
        }
        return stored
    }

    @Test func agreesWithXMod() throws {
        let n: Int64 = 300
        let reference = try GoReference.run(["tlog", String(n)]).split(separator: "\n")
        let stored = Self.build(n)
        #expect(Int64(stored.count) == TransparencyLog.storedHashCount(n))
        let read: ([Int64]) throws -> [Hash] = { $0.map { stored[Int($0)] } }
        var treeHashes: [Int64: Hash] = [:]
        var counts = (tree: 0, index: 0, record: 0, treeproof: 0, tile: 0)
        for line in reference {
            let f = line.split(separator: " ")
            switch f[0] {
            case "tree":
                let size = Int64(f[1]) ?? 0
                treeHashes[size] = Self.hash(f[2])
                #expect(try TransparencyLog.treeHash(size: size, read: read) == Self.hash(f[2]), "tree \(size)")
                counts.tree += 1
            case "index":
                let level = Int(f[1]) ?? -1, k = Int64(f[2]) ?? -1, index = Int64(f[3]) ?? -1
                #expect(TransparencyLog.storedHashIndex(level: level, n: k) == index)
                #expect(TransparencyLog.splitStoredHashIndex(index) == (level, k))
                counts.index += 1
            case "record":
                let size = Int64(f[1]) ?? 0, i = Int64(f[2]) ?? 0
                let proof = f[3...].map(Self.hash)
                let th = try #require(treeHashes[size])
                let leaf = TransparencyLog.recordHash(Array("record \(i)".utf8))
                try TransparencyLog.checkRecord(proof: proof, size: size, treeHash: th, index: i, recordHash: leaf)
                // Any change is caught: another record, another position, an altered hash.
                #expect(throws: TransparencyLog.ProofError.self) {
                    try TransparencyLog.checkRecord(proof: proof, size: size, treeHash: th, index: i,
                                                    recordHash: TransparencyLog.recordHash(Array("record \(i) forged".utf8)))
                }
                if size > 1 {
                    #expect(throws: TransparencyLog.ProofError.self) {
                        try TransparencyLog.checkRecord(proof: proof, size: size, treeHash: th, index: (i + 1) % size, recordHash: leaf)
                    }
                }
                if !proof.isEmpty {
                    var bent = proof
                    bent[bent.count / 2][0] ^= 1
                    #expect(throws: TransparencyLog.ProofError.self) {
                        try TransparencyLog.checkRecord(proof: bent, size: size, treeHash: th, index: i, recordHash: leaf)
                    }
                    #expect(throws: TransparencyLog.ProofError.self) {
                        try TransparencyLog.checkRecord(proof: Array(proof.dropLast()), size: size, treeHash: th, index: i, recordHash: leaf)
                    }
                }
                counts.record += 1
            case "treeproof":
                let size = Int64(f[1]) ?? 0, old = Int64(f[2]) ?? 0
                let proof = f[3...].map(Self.hash)
                let th = try #require(treeHashes[size]), oh = try #require(treeHashes[old])
                try TransparencyLog.checkTree(proof: proof, size: size, treeHash: th, oldSize: old, oldHash: oh)
                if old < size {
                    // A forked log: the old head claims a different hash.
                    var forked = oh
                    forked[0] ^= 1
                    #expect(throws: TransparencyLog.ProofError.self) {
                        try TransparencyLog.checkTree(proof: proof, size: size, treeHash: th, oldSize: old, oldHash: forked)
                    }
                    var bent = proof
                    bent[0][31] ^= 0x80
                    #expect(throws: TransparencyLog.ProofError.self) {
                        try TransparencyLog.checkTree(proof: bent, size: size, treeHash: th, oldSize: old, oldHash: oh)
                    }
                }
                counts.treeproof += 1
            case "tiledata", "tileread":
                break  // for proofsFromTiles and tileReadsPlanWhatXModAsksFor
            case "tile":
                let tile = LogTile(height: Int(f[1]) ?? 0, level: Int(f[2]) ?? 0, index: Int64(f[3]) ?? 0, width: Int(f[4]) ?? 0)
                #expect(tile.path == String(f[5]))
                #expect(LogTile(path: String(f[5])) == tile)
                counts.tile += 1
            default:
                Issue.record("unknown reference line \(line)")
            }
        }
        #expect(counts.tree == 300 && counts.index == stored.count && counts.record > 100 && counts.treeproof > 100 && counts.tile == 5)
    }

    /// Proofs built from x/mod's tiles (height 2: several bands, partial tiles at the
    /// right edge) equal the proofs from Swift's own storage and verify against x/mod's
    /// tree hash; a tampered tile gives a proof that fails.
    @Test func proofsFromTiles() throws {
        let n: Int64 = 300
        let reference = try GoReference.run(["tlog", String(n)]).split(separator: "\n")
        var tiles: [String: [UInt8]] = [:]
        var treeHashes: [Int64: Hash] = [:]
        for line in reference {
            let f = line.split(separator: " ")
            if f[0] == "tiledata" { tiles[String(f[1])] = Base64.decode(f[2]) }
            if f[0] == "tree" { treeHashes[Int64(f[1]) ?? 0] = Self.hash(f[2]) }
        }
        #expect(tiles.count > 90)
        let stored = Self.build(n)
        let own: ([Int64]) throws -> [Hash] = { $0.map { stored[Int($0)] } }
        var fetched = Set<String>()
        func fromTiles(_ tamper: String?) -> ([Int64]) throws -> [Hash] {
            { indexes in
                try TransparencyLog.hashes(at: indexes, size: n, height: 2) { tile in
                    fetched.insert(tile.path)
                    guard var data = tiles[tile.path] else { throw TransparencyLog.ProofError("no tile \(tile.path)") }
                    if tile.path == tamper { data[32] ^= 1 }  // record 1, record 0's sibling
                    return data
                }
            }
        }
        let root = try #require(treeHashes[n])
        for i in stride(from: Int64(0), to: n, by: 7) {
            let proof = try TransparencyLog.recordProof(index: i, size: n, read: fromTiles(nil))
            #expect(proof == (try TransparencyLog.recordProof(index: i, size: n, read: own)))
            try TransparencyLog.checkRecord(proof: proof, size: n, treeHash: root, index: i,
                                            recordHash: TransparencyLog.recordHash(Array("record \(i)".utf8)))
        }
        for old in stride(from: Int64(1), through: n, by: 13) {
            let proof = try TransparencyLog.treeProof(oldSize: old, size: n, read: fromTiles(nil))
            try TransparencyLog.checkTree(proof: proof, size: n, treeHash: root, oldSize: old, oldHash: try #require(treeHashes[old]))
        }
        #expect(fetched.contains { $0.contains(".p/") }, "partial tiles at the right edge were used")
        // A wrong tile from the server: the proof does not verify.
        let proof = try TransparencyLog.recordProof(index: 0, size: n, read: fromTiles("tile/2/0/000"))
        #expect(throws: TransparencyLog.ProofError.self) {
            try TransparencyLog.checkRecord(proof: proof, size: n, treeHash: root, index: 0,
                                            recordHash: TransparencyLog.recordHash(Array("record 0".utf8)))
        }
    }

    /// The tiles the go command's client reads a record's hash from (x/mod's tile hash
    /// reader, through goref), in its order, for trees of many sizes: Warren plans the same
    /// list, reads the same hash from them, and a changed byte anywhere in any of them, or
    /// a missing tile, is refused naming a tile.
    @Test func tileReadsPlanWhatXModAsksFor() throws {
        let n: Int64 = 300
        let reference = try GoReference.run(["tlog", String(n)]).split(separator: "\n")
        let stored = Self.build(n)
        func data(_ t: LogTile) -> [UInt8] {
            (0..<Int64(t.width)).flatMap { j in stored[Int(TransparencyLog.storedHashIndex(level: t.level * t.height, n: (t.index << t.height) + j))] }
        }
        var treeHashes: [Int64: Hash] = [:]
        var checked = 0, tampered = 0
        for line in reference {
            let f = line.split(separator: " ")
            if f[0] == "tree" { treeHashes[Int64(f[1]) ?? 0] = Self.hash(f[2]) }
            guard f[0] == "tileread" else { continue }
            let size = Int64(f[1]) ?? 0, i = Int64(f[2]) ?? 0
            let index = TransparencyLog.storedHashIndex(level: 0, n: i)
            let plan = try TransparencyLog.tileReadPlan(indexes: [index], size: size, height: 2)
            #expect(plan.tiles.map(\.path) == f[3...].map(String.init), "tree \(size), record \(i)")
            let head = TreeHead(size: size, hash: try #require(treeHashes[size]))
            let read = try TransparencyLog.authenticatedHashes(indexes: [index], head: head, height: 2, tile: data)
            #expect(read == [stored[Int(index)]])
            checked += 1
            guard size > 40, i % 3 == 0 else { continue }
            for victim in plan.tiles {
                let byte = (Int(i) * 7) % (victim.width * 32)
                #expect(throws: TransparencyLog.ProofError.self, "tree \(size), \(victim.path) byte \(byte)") {
                    _ = try TransparencyLog.authenticatedHashes(indexes: [index], head: head, height: 2) { t in
                        var d = data(t)
                        if t == victim { d[byte] ^= 0x20 }
                        return d
                    }
                }
                tampered += 1
            }
            #expect(throws: TransparencyLog.ProofError.self) {
                _ = try TransparencyLog.authenticatedHashes(indexes: [index], head: head, height: 2) { t in
                    guard t != plan.tiles.last else { throw TransparencyLog.ProofError("no tile \(t.path)") }
                    return data(t)
                }
            }
        }
        #expect(checked > 60 && tampered > 50, "\(checked) reads, \(tampered) tamperings")
    }

    /// Every complete subtree of a 300-record log is proved to be in it (what a tile is
    /// checked with); the wrong hash, the wrong place, or a subtree past the end is not.
    @Test func subtreesAreProvedInTheTree() throws {
        let n: Int64 = 300
        let stored = Self.build(n)
        let read: ([Int64]) throws -> [Hash] = { $0.map { stored[Int($0)] } }
        let root = try TransparencyLog.treeHash(size: n, read: read)
        var checked = 0
        for level in 0...8 {
            var k: Int64 = 0
            while (k + 1) << level <= n {
                let node = stored[Int(TransparencyLog.storedHashIndex(level: level, n: k))]
                let proof = try TransparencyLog.nodeProof(level: level, n: k, size: n, read: read)
                try TransparencyLog.checkNode(proof: proof, size: n, treeHash: root, level: level, n: k, subtreeHash: node)
                if level == 0 {
                    #expect(proof == (try TransparencyLog.recordProof(index: k, size: n, read: read)))
                }
                #expect(throws: TransparencyLog.ProofError.self) {
                    try TransparencyLog.checkNode(proof: proof, size: n, treeHash: root, level: level, n: k,
                                                  subtreeHash: TransparencyLog.recordHash([1]))
                }
                if k > 0 {
                    #expect(throws: TransparencyLog.ProofError.self) {
                        try TransparencyLog.checkNode(proof: proof, size: n, treeHash: root, level: level, n: k - 1, subtreeHash: node)
                    }
                }
                checked += 1
                k += 1
            }
        }
        #expect(checked == 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1)
        #expect(throws: TransparencyLog.ProofError.self) { try TransparencyLog.nodeProof(level: 8, n: 1, size: n, read: read) }
        // A full tile's hashes fold into the subtree they cover.
        var tile: [UInt8] = []
        for i in 0..<Int64(4) { tile += stored[Int(TransparencyLog.storedHashIndex(level: 2, n: i))] }
        #expect(TransparencyLog.tileRoot(tile) == stored[Int(TransparencyLog.storedHashIndex(level: 4, n: 0))])
        #expect(TransparencyLog.tileRoot(Array(tile.prefix(96))) == nil)
    }

    @Test func tilePathsThatAreNotCanonicalAreRefused() {
        for bad in ["tile/8/0/1", "tile/8/0/0001", "tile/8/0/x001", "tile/8/0/001/002", "tile/8/0/x000/001", "tile/08/0/000",
                    "tile/8/0/000.p/256", "tile/8/0/000.p/0", "tile/8/0/000.p/", "tile/8/-1/000", "tile/8/0/../000", "tile/8/0/00a",
                    "tile/0/0/000", "tile/8/data/000.p/01", "tiles/8/0/000", "tile/8/0/x1000/000"] {
            #expect(LogTile(path: bad) == nil, "\(bad)")
        }
        #expect(LogTile(path: "tile/8/data/x001/234.p/7") == LogTile(height: 8, level: -1, index: 1234, width: 7))
    }
}
