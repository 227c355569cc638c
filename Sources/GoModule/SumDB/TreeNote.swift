/// The text of a checksum database tree head: `go.sum database tree`, the number of
/// records, the tree hash in base64, each on its own line (signed as a `SignedNote`).
public struct TreeHead: Sendable, Equatable {
    public let size: Int64
    public let hash: TransparencyLog.Hash

    public init(size: Int64, hash: TransparencyLog.Hash) {
        self.size = size
        self.hash = hash
    }

    static let header = "go.sum database tree\n"

    /// Parses the signed text of a tree head; extra lines after the hash are allowed
    /// (the format reserves them), anything else is an error.
    public init(text: String) throws(TransparencyLog.ProofError) {
        guard text.hasPrefix(Self.header), text.hasSuffix("\n") else { throw .init("malformed tree note") }
        let lines = text.dropFirst(Self.header.count).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, let size = Int64(lines[0]), size >= 0, String(size) == lines[0],
              let hash = Base64.decode(lines[1]), hash.count == 32
        else { throw .init("malformed tree note") }
        self.size = size
        self.hash = hash
    }

    public var text: String { Self.header + "\(size)\n" + Base64.encode(hash) + "\n" }
}
