import Crypto
import Testing
@testable import GoModule

/// Appending to a transparency log the way the checksum database stores it, checked
/// against RFC 6962's recursive definition of the tree hash; and tree heads signed with
/// a signer key that the verifier key (the go command's GOSUMDB value) accepts.
@Suite struct LogAppendTests {
    /// MTH(D[0:n]) straight from RFC 6962 §2.1.
    static func rfc6962(_ leaves: ArraySlice<TransparencyLog.Hash>) -> TransparencyLog.Hash {
        if leaves.isEmpty { return Array(SHA256.hash(data: [UInt8]())) }
        if leaves.count == 1 { return leaves[leaves.startIndex] }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let mid = leaves.startIndex + k
        return TransparencyLog.nodeHash(rfc6962(leaves[..<mid]), rfc6962(leaves[mid...]))
    }

    @Test func storedHashesGiveEveryPrefixTheRFC6962TreeHash() throws {
        var stored: [TransparencyLog.Hash] = []
        var leaves: [TransparencyLog.Hash] = []
        let read = { (indexes: [Int64]) in indexes.map { stored[Int($0)] } }
        for n in 0..<300 {
            let leaf = TransparencyLog.recordHash(Array("example.com/m\(n) v1.0.0 h1:x\n".utf8))
            leaves.append(leaf)
            #expect(Int64(stored.count) == TransparencyLog.storedHashCount(Int64(n)))
            stored += try TransparencyLog.storedHashes(forRecord: Int64(n), hash: leaf, read: read)
            let size = Int64(n + 1)
            #expect(try TransparencyLog.treeHash(size: size, read: read) == Self.rfc6962(leaves[...]), "size \(size)")
        }
        // And the proofs the client checks hold against those heads.
        let head = try TransparencyLog.treeHash(size: 300, read: read)
        let proof = try TransparencyLog.recordProof(index: 137, size: 300, read: read)
        try TransparencyLog.checkRecord(proof: proof, size: 300, treeHash: head, index: 137, recordHash: leaves[137])
        let old = try TransparencyLog.treeHash(size: 201, read: read)
        try TransparencyLog.checkTree(proof: try TransparencyLog.treeProof(oldSize: 201, size: 300, read: read), size: 300, treeHash: head,
                                oldSize: 201, oldHash: old)
    }

    @Test func signedHeadsVerifyWithTheVerifierKeyAndNothingElse() throws {
        let signer = try NoteSigner(generatingFor: "sum.corp.example.com")
        let again = try NoteSigner(signer.secretText)
        #expect(again.verifierKey == signer.verifierKey)
        let key = try VerifierKey(signer.verifierKey)
        let head = TreeHead(size: 3, hash: TransparencyLog.recordHash([1])).text
        let note = try again.sign(head)
        #expect(try SignedNote.open(note, keys: [key]).text == head)
        var forged = note
        forged[forged.count - 10] ^= 1
        #expect(throws: SignedNote.OpenError.self) { try SignedNote.open(forged, keys: [key]) }
        let stranger = try VerifierKey(try NoteSigner(generatingFor: "sum.corp.example.com").verifierKey)
        #expect(throws: SignedNote.OpenError.self) { try SignedNote.open(note, keys: [stranger]) }
        #expect(!"\(signer)".contains(signer.secretText) && !"\(signer)".contains("PRIVATE"))
        #expect(throws: NoteSigner.ParseError.self) { try NoteSigner(signer.secretText.replacingOccurrences(of: "+sum.", with: "+sun.")) }
    }
}
