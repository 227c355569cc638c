import Crypto
import Foundation

/// How a token made at sign-in reaches `warren login` on the developer's machine without
/// ever being readable on the way: the command makes a key pair and sends its public key
/// with the login; Warren seals the token to that key (X25519, HKDF-SHA256, ChaCha20-
/// Poly1305) and the browser carries only the sealed box to the command's loopback
/// listener. A sealed box in a browser's history or a proxy log opens for no one else.
public enum TokenHandoff {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A new key pair for one login: the private key, and the public key to send.
    public static func keyPair() -> (privateKey: Curve25519.KeyAgreement.PrivateKey, publicKey: String) {
        let key = Curve25519.KeyAgreement.PrivateKey()
        return (key, SecretText.base64url(key.publicKey.rawRepresentation))
    }

    /// Whether `text` is a public key as `keyPair` gives it.
    public static func isPublicKey(_ text: String) -> Bool {
        guard let raw = SecretText.unbase64url(text), raw.count == 32 else { return false }
        return (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)) != nil
    }

    /// The sealed box: base64url(ephemeral public key ‖ nonce ‖ ciphertext ‖ tag).
    public static func seal(_ secret: String, to publicKey: String, context: String) throws -> String {
        guard let raw = SecretText.unbase64url(publicKey), let recipient = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw) else {
            throw Failure(description: "not a public key")
        }
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let key = try derive(ephemeral.sharedSecretFromKeyAgreement(with: recipient), ephemeral: ephemeral.publicKey.rawRepresentation,
                             recipient: raw, context: context)
        let box = try ChaChaPoly.seal(Array(secret.utf8), using: key)
        return SecretText.base64url(ephemeral.publicKey.rawRepresentation + box.combined)
    }

    public static func open(_ sealed: String, with privateKey: Curve25519.KeyAgreement.PrivateKey, context: String) throws -> String {
        guard let bytes = SecretText.unbase64url(sealed), bytes.count > 32 + 12 + 16,
              let ephemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes.prefix(32)) else {
            throw Failure(description: "not a sealed token")
        }
        let key = try derive(privateKey.sharedSecretFromKeyAgreement(with: ephemeral), ephemeral: Data(bytes.prefix(32)),
                             recipient: privateKey.publicKey.rawRepresentation, context: context)
        guard let box = try? ChaChaPoly.SealedBox(combined: bytes.dropFirst(32)), let plain = try? ChaChaPoly.open(box, using: key),
              let text = String(data: plain, encoding: .utf8) else {
            throw Failure(description: "the sealed token does not open with this login's key")
        }
        return text
    }

    static func derive(_ shared: SharedSecret, ephemeral: Data, recipient: Data, context: String) throws -> SymmetricKey {
        shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: ephemeral + recipient,
                                       sharedInfo: Array(("warren-login-handoff:" + context).utf8), outputByteCount: 32)
    }
}
