import Crypto

/// A checksum database's public key, as GOSUMDB and `--sumdb` spell it:
/// `<name>+<hash>+<key>`, where the key is base64 of an algorithm byte (1: Ed25519) and
/// the public key, and the hash is the first four bytes of SHA-256(name, newline, key)
/// in hex, so that a mistyped key is caught before it is used.
public struct VerifierKey: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let keyHash: UInt32
    let publicKey: [UInt8]

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(ParseError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, Self.isValidName(parts[0]), parts[1].utf8.count == 8,
              let hash = UInt32(parts[1], radix: 16), let key = Base64.decode(parts[2]), !key.isEmpty
        else {
            throw ParseError(description: "malformed verifier key \(GoQuote.string(text))")
        }
        let name = String(parts[0])
        guard hash == Self.keyHash(name: name, key: key) else {
            throw ParseError(description: "verifier key \(GoQuote.string(text)) has the wrong hash (a typo in the key?)")
        }
        guard key[0] == Self.algorithmEd25519, key.count == 33 else {
            throw ParseError(description: "verifier key \(GoQuote.string(text)) uses an unknown algorithm")
        }
        self.name = name
        self.keyHash = hash
        self.publicKey = Array(key[1...])
    }

    static let algorithmEd25519: UInt8 = 1

    static func keyHash(name: String, key: [UInt8]) -> UInt32 {
        var h = SHA256()
        h.update(data: Array(name.utf8) + [0x0A] + key)
        let sum = Array(h.finalize())
        return UInt32(sum[0]) << 24 | UInt32(sum[1]) << 16 | UInt32(sum[2]) << 8 | UInt32(sum[3])
    }

    /// Non-empty, no white space, no `+`.
    static func isValidName(_ name: Substring) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
    }

    func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    public var description: String {
        name + "+" + String(keyHash, radix: 16).leftPadded(to: 8) + "+" + Base64.encode([Self.algorithmEd25519] + publicKey)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
