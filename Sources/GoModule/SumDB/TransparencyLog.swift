import Crypto

/// The checksum database's Merkle tree (RFC 6962 hashing, as in "Transparent Logs for
/// Skeptical Clients"): record hashes, subtree hashes, the storage order of every hash
/// the log keeps, and the tree hash of any prefix of the log.
public enum TransparencyLog {
    public typealias Hash = [UInt8]

    /// SHA-256 of 0x00 and the record.
    public static func recordHash(_ data: [UInt8]) -> Hash {
        var h = SHA256()
        h.update(data: [0x00])
        h.update(data: data)
        return Array(h.finalize())
    }

    /// SHA-256 of 0x01 and the two child hashes.
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var h = SHA256()
        h.update(data: [0x01])
        h.update(data: left)
        h.update(data: right)
        return Array(h.finalize())
    }

    /// The largest power of two strictly less than `n` (n ≥ 2): where RFC 6962 splits a tree.
    static func splitPoint(_ n: Int64) -> Int64 {
        var k: Int64 = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    /// How many hashes the log has stored once it holds `n` records: each record adds
    /// its own hash and one per subtree it completes.
    public static func storedHashCount(_ n: Int64) -> Int64 {
        2 * n - Int64(n.nonzeroBitCount)
    }

    /// Where the hash of the subtree at `level` with index `n` (records
    /// n·2^level up to (n+1)·2^level) sits in storage order: right after the record that
    /// completes it, and after that record's lower completed subtrees.
    public static func storedHashIndex(level: Int, n: Int64) -> Int64 {
        storedHashCount(((n + 1) << level) - 1) + Int64(level)
    }

    /// The inverse of `storedHashIndex`.
    public static func splitStoredHashIndex(_ index: Int64) -> (level: Int, n: Int64) {
        // The record that stored it is the last one whose count does not pass the index.
        var lo: Int64 = 0, hi = index
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if storedHashCount(mid) <= index { lo = mid } else { hi = mid - 1 }
        }
        let record = lo
        let level = Int(index - storedHashCount(record))
        return (level, ((record + 1) >> level) - 1)
    }

    /// The decomposition of records [lo, hi) into aligned complete subtrees, left to
    /// right, as (level, index) pairs: what a range's hash is made of.
    static func subtrees(_ lo: Int64, _ hi: Int64) -> [(level: Int, n: Int64)] {
        var result: [(Int, Int64)] = []
        var at = lo
        while at < hi {
            // The biggest aligned block starting at `at` that fits.
            var level = 0
            while level < 62 {
                let size = Int64(1) << (level + 1)
                if at % size != 0 || at + size > hi { break }
                level += 1
            }
            result.append((level, at >> level))
            at += Int64(1) << level
        }
        return result
    }

    /// Folds the hashes of consecutive complete subtrees (left to right) into the hash
    /// of their range, RFC 6962 style: right to left.
    static func fold(_ hashes: [Hash]) -> Hash? {
        guard var h = hashes.last else { return nil }
        for left in hashes.dropLast().reversed() { h = nodeHash(left, h) }
        return h
    }

    /// The storage indexes `treeHash(size:read:)` reads for a tree of `n` records, for
    /// callers that fetch them ahead (from a database) before hashing.
    public static func treeHashIndexes(size n: Int64) -> [Int64] {
        n == 0 ? [] : subtrees(0, n).map { storedHashIndex(level: $0.level, n: $0.n) }
    }

    /// The tree hash of the first `n` records, reading stored hashes through `read`
    /// (which gets storage indexes and returns their hashes in that order).
    public static func treeHash(size n: Int64, read: ([Int64]) throws -> [Hash]) throws -> Hash {
        if n == 0 { return Array(SHA256.hash(data: [UInt8]())) }
        let parts = subtrees(0, n)
        let hashes = try read(parts.map { storedHashIndex(level: $0.level, n: $0.n) })
        guard hashes.count == parts.count, let h = fold(hashes) else { throw ProofError("wrong number of hashes read") }
        return h
    }

    /// The hashes record `n` adds to storage (at `storedHashCount(n)` onwards): its own
    /// hash, then one for each subtree it completes, each made with the hash of the
    /// subtree to its left, read through `read`. What appending a record writes.
    public static func storedHashes(forRecord n: Int64, hash: Hash, read: ([Int64]) throws -> [Hash]) throws -> [Hash] {
        // Each trailing 1 bit of n completes a subtree with the one to its left.
        let completed = (n + 1).trailingZeroBitCount
        let lefts = (0..<completed).map { level in storedHashIndex(level: level, n: (n >> level) - 1) }
        let old = try read(lefts)
        guard old.count == lefts.count else { throw ProofError("wrong number of hashes read") }
        var hashes = [hash]
        var h = hash
        for left in old {
            h = nodeHash(left, h)
            hashes.append(h)
        }
        return hashes
    }

    public struct ProofError: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }
}
