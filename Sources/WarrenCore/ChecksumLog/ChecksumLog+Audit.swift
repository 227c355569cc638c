import Foundation
import GoModule

/// `warren sumdb audit`: the whole tree recomputed from the records and checked against
/// what the database stores and what the signed head says.
extension ChecksumLog {
    public struct AuditReport: Sendable {
        public var size: Int64
        public var treeHash: String
    }

    /// Throws `Mismatch` naming the first thing that disagrees: the head's signature (by
    /// `trusted`, else the key the database names), a record that is not the go.sum
    /// lines of its own module version, a stored hash that is not what the records give,
    /// or a tree hash that is not the signed one.
    public func audit(trusting trusted: VerifierKey? = nil) async throws -> AuditReport {
        let state = try await state()
        let key = try trusted ?? VerifierKey(state.verifierKey)
        let note: SignedNote
        do {
            note = try SignedNote.open(state.signedHead, keys: [key])
        } catch {
            throw Mismatch(description: "the signed tree head does not verify with \(key): \(error)")
        }
        let head = try TreeHead(text: note.text)
        guard head.size == state.size else {
            throw Mismatch(description: "the signed head is for \(head.size) records, the log holds \(state.size)")
        }
        var computed: [TransparencyLog.Hash] = []
        computed.reserveCapacity(Int(TransparencyLog.storedHashCount(state.size)))
        var id: Int64 = 0
        while id < state.size {
            let batch = try await store.logRecords(from: id, count: Int(min(1024, state.size - id)))
            guard !batch.isEmpty else { throw Mismatch(description: "record \(id) is missing") }
            for record in batch {
                guard record.id == id else { throw Mismatch(description: "record \(id) is missing") }
                guard Self.isRecord(record.text, module: record.module, version: record.version) else {
                    throw Mismatch(description: "record \(id) is not the go.sum lines of \(record.module)@\(record.version)")
                }
                let start = computed.count
                computed += try TransparencyLog.storedHashes(forRecord: id, hash: TransparencyLog.recordHash(record.text)) { indexes in
                    indexes.map { computed[Int($0)] }
                }
                let indexes = (Int64(start)..<Int64(computed.count)).map { $0 }
                let stored = try await store.logHashes(indexes)
                for (index, hash) in zip(indexes, stored) where computed[Int(index)] != hash {
                    throw Mismatch(description: "stored hash \(index) (record \(id)) is not what the records give")
                }
                id += 1
            }
        }
        let root = try TransparencyLog.treeHash(size: state.size) { indexes in indexes.map { computed[Int($0)] } }
        guard root == head.hash else {
            throw Mismatch(description: "the records give tree hash \(Data(root).base64EncodedString()), the signed head says \(Data(head.hash).base64EncodedString())")
        }
        return AuditReport(size: state.size, treeHash: Data(root).base64EncodedString())
    }

    /// Exactly `M V h1:…` and `M V/go.mod h1:…`, each ending in a newline.
    static func isRecord(_ text: [UInt8], module: String, version: String) -> Bool {
        guard let string = String(validating: text, as: UTF8.self), string.hasSuffix("\n") else { return false }
        let lines = string.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 2 else { return false }
        let first = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        let second = lines[1].split(separator: " ", omittingEmptySubsequences: false)
        return first.count == 3 && first[0] == module && first[1] == version && first[2].hasPrefix("h1:")
            && second.count == 3 && second[0] == module && second[1] == version + "/go.mod" && second[2].hasPrefix("h1:")
    }
}
