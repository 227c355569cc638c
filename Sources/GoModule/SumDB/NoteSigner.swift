import Crypto

/// A checksum database's signing key, in the go command's format for signer keys:
/// `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ Ed25519 seed)>`. It signs tree heads as
/// notes that `SignedNote.open` (and the go command) verify with the matching
/// `VerifierKey`. The key text is a secret: `description` never shows it.
public struct NoteSigner: Sendable, CustomStringConvertible {
    public let name: String
    let keyHash: UInt32
    let key: Curve25519.Signing.PrivateKey

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// A new key for a database called `name`.
    public init(generatingFor name: String) throws(ParseError) {
        guard VerifierKey.isValidName(Substring(name)) else {
            throw ParseError(description: "invalid checksum database name \(GoQuote.string(name)) (no spaces, no +)")
        }
        self.name = name
        self.key = Curve25519.Signing.PrivateKey()
        self.keyHash = VerifierKey.keyHash(name: name, key: [VerifierKey.algorithmEd25519] + Array(key.publicKey.rawRepresentation))
    }

    /// Parses a signer key; the error never repeats the text.
    public init(_ text: String) throws(ParseError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", VerifierKey.isValidName(parts[2]),
              parts[3].utf8.count == 8, let hash = UInt32(parts[3], radix: 16), let raw = Base64.decode(parts[4]),
              raw.count == 33, raw[0] == VerifierKey.algorithmEd25519,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw[1...]) else {
            throw ParseError(description: "malformed signer key (want PRIVATE+KEY+NAME+HASH+KEY)")
        }
        let name = String(parts[2])
        guard hash == VerifierKey.keyHash(name: name, key: [VerifierKey.algorithmEd25519] + Array(key.publicKey.rawRepresentation)) else {
            throw ParseError(description: "signer key has the wrong hash")
        }
        self.name = name
        self.keyHash = hash
        self.key = key
    }

    /// The key's text, for the file it is kept in (a secret).
    public var secretText: String {
        "PRIVATE+KEY+" + name + "+" + String(keyHash, radix: 16).leftPadded(to: 8) + "+"
            + Base64.encode([VerifierKey.algorithmEd25519] + Array(key.rawRepresentation))
    }

    /// What clients put in GOSUMDB: `NAME+HASH+KEY`.
    public var verifierKey: String {
        name + "+" + String(keyHash, radix: 16).leftPadded(to: 8) + "+"
            + Base64.encode([VerifierKey.algorithmEd25519] + Array(key.publicKey.rawRepresentation))
    }

    public var description: String { "signer key for \(name) (secret hidden)" }

    /// `text` (ending in a newline) as a signed note: the text, a blank line, and the
    /// signature line `— NAME base64(key hash ‖ signature)`.
    public func sign(_ text: String) throws -> [UInt8] {
        let bytes = Array(text.utf8)
        let signature = Array(try key.signature(for: bytes))
        let hash = [UInt8(keyHash >> 24), UInt8(keyHash >> 16 & 0xFF), UInt8(keyHash >> 8 & 0xFF), UInt8(keyHash & 0xFF)]
        return bytes + Array("\n— \(name) \(Base64.encode(hash + signature))\n".utf8)
    }
}
