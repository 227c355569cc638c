/// Checking proofs from a transparency log: that a record is in a tree (inclusion), and
/// that a tree extends an older one (consistency). Proofs list subtree hashes from the
/// bottom of the tree up, as RFC 6962 §2.1 builds them.
extension TransparencyLog {
    /// Checks that `recordHash` is record `index` of the tree of `size` records whose
    /// hash is `treeHash`.
    public static func checkRecord(proof: [Hash], size: Int64, treeHash: Hash, index: Int64, recordHash: Hash) throws(ProofError) {
        guard index >= 0, index < size else { throw ProofError("record \(index) is not in a tree of \(size) records") }
        guard let root = nodeRoot(proof[...], lo: 0, hi: size, start: index, width: 1, leaf: recordHash), root == treeHash else {
            throw ProofError("inclusion proof for record \(index) in tree of size \(size) does not verify")
        }
    }

    /// Checks that `subtreeHash` is the complete subtree at `level` with index `n` of the
    /// tree of `size` records whose hash is `treeHash` (see `nodeProof`).
    public static func checkNode(proof: [Hash], size: Int64, treeHash: Hash, level: Int, n: Int64, subtreeHash: Hash) throws(ProofError) {
        guard n >= 0, level >= 0, level < 62, (n + 1) << level <= size else {
            throw ProofError("subtree \(n) at level \(level) is not in a tree of \(size) records")
        }
        guard let root = nodeRoot(proof[...], lo: 0, hi: size, start: n << level, width: Int64(1) << level, leaf: subtreeHash),
              root == treeHash
        else {
            throw ProofError("inclusion proof for subtree \(n) at level \(level) in tree of size \(size) does not verify")
        }
    }

    /// The root that `proof` and `leaf` (the hash of the aligned subtree of `width`
    /// records from `start`) give for the subtree of records [lo, hi).
    static func nodeRoot(_ proof: ArraySlice<Hash>, lo: Int64, hi: Int64, start: Int64, width: Int64, leaf: Hash) -> Hash? {
        if hi - lo == width { return proof.isEmpty && lo == start ? leaf : nil }
        guard hi - lo > width, let sibling = proof.last, sibling.count == 32 else { return nil }
        let k = splitPoint(hi - lo)
        if start < lo + k {
            guard let left = nodeRoot(proof.dropLast(), lo: lo, hi: lo + k, start: start, width: width, leaf: leaf) else { return nil }
            return nodeHash(left, sibling)
        }
        guard let right = nodeRoot(proof.dropLast(), lo: lo + k, hi: hi, start: start, width: width, leaf: leaf) else { return nil }
        return nodeHash(sibling, right)
    }

    /// Checks that the tree of `size` records with hash `treeHash` contains, as its
    /// prefix, the tree of `oldSize` records with hash `oldHash`.
    public static func checkTree(proof: [Hash], size: Int64, treeHash: Hash, oldSize: Int64, oldHash: Hash) throws(ProofError) {
        guard oldSize >= 1, oldSize <= size else { throw ProofError("cannot prove tree \(oldSize) inside tree \(size)") }
        if oldSize == size {
            guard proof.isEmpty, oldHash == treeHash else {
                throw ProofError("tree heads of size \(size) differ: the log has forked")
            }
            return
        }
        guard let (old, new) = treeRoots(proof[...], lo: 0, hi: size, oldSize: oldSize, oldHash: oldHash),
              old == oldHash, new == treeHash
        else {
            throw ProofError("tree of size \(size) does not extend tree of size \(oldSize): the log has forked")
        }
    }

    /// The (old, new) roots that `proof` gives for the subtree of records [lo, hi), where
    /// the old tree ends at `oldSize` (lo < oldSize ≤ hi).
    static func treeRoots(_ proof: ArraySlice<Hash>, lo: Int64, hi: Int64, oldSize: Int64, oldHash: Hash) -> (Hash, Hash)? {
        if oldSize == hi {
            // A subtree wholly inside the old tree: at the far left it is the old tree
            // itself (known); elsewhere the proof names it.
            if lo == 0 { return proof.isEmpty ? (oldHash, oldHash) : nil }
            guard proof.count == 1, let h = proof.first, h.count == 32 else { return nil }
            return (h, h)
        }
        guard let sibling = proof.last, sibling.count == 32 else { return nil }
        let k = splitPoint(hi - lo)
        if oldSize <= lo + k {
            guard let (old, new) = treeRoots(proof.dropLast(), lo: lo, hi: lo + k, oldSize: oldSize, oldHash: oldHash) else { return nil }
            return (old, nodeHash(new, sibling))
        }
        guard let (old, new) = treeRoots(proof.dropLast(), lo: lo + k, hi: hi, oldSize: oldSize, oldHash: oldHash) else { return nil }
        return (nodeHash(sibling, old), nodeHash(sibling, new))
    }
}
