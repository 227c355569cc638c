/// A signed note (the format of the checksum database's tree heads): text ending in a
/// newline, a blank line, then one line per signature, `— <name> <base64>`, where the
/// base64 holds the signer's four-byte key hash and an Ed25519 signature of the text.
public struct SignedNote: Sendable, Equatable {
    /// The signed text, with its final newline.
    public let text: String
    /// Keys among those given whose signatures verified.
    public let verifiedBy: [String]

    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case malformed
        /// A known key's signature does not verify: the note was tampered with.
        case invalidSignature(String)
        /// No signature from any known key.
        case unverified

        public var description: String {
            switch self {
            case .malformed: return "malformed note"
            case .invalidSignature(let key): return "invalid signature for key \(key)"
            case .unverified: return "note has no verifiable signatures"
            }
        }
    }

    static let signaturePrefix = Array("— ".utf8)
    static let maxSignatures = 100

    /// Parses `message` and checks its signatures against `keys`; succeeds only if at
    /// least one known key signed it and no known key's signature fails.
    public static func open(_ message: [UInt8], keys: [VerifierKey]) throws(OpenError) -> SignedNote {
        guard let decoded = String(validating: message, as: UTF8.self),
              !decoded.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" })
        else { throw .malformed }
        // The text ends at the last blank line; signatures follow it.
        guard let split = lastIndex(of: [0x0A, 0x0A], in: message) else { throw .malformed }
        let text = Array(message[...split])
        var sigs = message[(split + 2)...]
        guard sigs.last == 0x0A else { throw .malformed }

        var verified: [String] = []
        var seen = Set<String>()
        var count = 0
        while let newline = sigs.firstIndex(of: 0x0A) {
            let line = sigs[sigs.startIndex..<newline]
            sigs = sigs[(newline + 1)...]
            guard line.starts(with: signaturePrefix) else { throw .malformed }
            let body = String(decoding: line.dropFirst(signaturePrefix.count), as: UTF8.self)
            guard let space = body.firstIndex(of: " ") else { throw .malformed }
            let name = body[..<space], b64 = body[body.index(after: space)...]
            guard VerifierKey.isValidName(name), !b64.isEmpty, let raw = Base64.decode(b64), raw.count >= 5 else {
                throw .malformed
            }
            count += 1
            if count > maxSignatures { throw .malformed }
            let hash = UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3])
            guard let key = keys.first(where: { $0.name == name && $0.keyHash == hash }) else { continue }
            if !seen.insert(key.description).inserted { continue }
            guard key.verify(Array(raw[4...]), of: text) else { throw .invalidSignature(key.description) }
            verified.append(key.description)
        }
        guard !verified.isEmpty else { throw .unverified }
        return SignedNote(text: String(decoding: text, as: UTF8.self), verifiedBy: verified)
    }

    static func lastIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.count - needle.count
        while i >= 0 {
            if haystack[i] == needle[0] && haystack[i + 1] == needle[1] { return i }
            i -= 1
        }
        return nil
    }
}
