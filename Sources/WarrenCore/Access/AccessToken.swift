import Crypto
import Foundation

/// A Warren token as the client holds it: `wrn_<id>_<secret>`. The ID (64 random bits,
/// hex) finds the record; the secret (256 random bits, base64url) proves possession and
/// is stored only as its SHA-256, compared in constant time.
public struct AccessToken: Sendable, Equatable {
    public let id: String
    public let secret: String

    static let prefix = "wrn_"

    /// A new random token.
    public static func generate() -> AccessToken {
        var generator = SystemRandomNumberGenerator()
        let idBytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secret = SecretText.base64url(Data(secretBytes))
        return AccessToken(id: hex(idBytes), secret: secret)
    }

    /// What the client sends.
    public var text: String { Self.prefix + id + "_" + secret }

    /// Splits what a client sent; nil for anything not shaped like a token.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let rest = text.dropFirst(Self.prefix.count)
        guard let underscore = rest.firstIndex(of: "_") else { return nil }
        let id = rest[..<underscore], secret = rest[rest.index(after: underscore)...]
        guard id.count == 16, id.allSatisfy(\.isHexDigit), (20...128).contains(secret.count) else { return nil }
        self.id = String(id)
        self.secret = String(secret)
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// The stored form of the secret: hex SHA-256.
    public var secretHash: String { Self.hash(secret) }

    static func hash(_ secret: String) -> String {
        hex(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Lower-case hex (see `HexBytes`).
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        HexBytes.encode(bytes)
    }

    /// Whether this token's secret is the one `storedHash` was made from, in time that
    /// does not depend on where the two differ.
    public func matches(storedHash: String) -> Bool {
        SecretText.constantTimeEqual(secretHash, storedHash)
    }
}

/// A token as stored: never its secret.
public struct TokenRecord: Sendable, Equatable {
    public var id: String
    public var user: String
    public var groups: [String]
    /// `RIGHT:PATTERNS` each; empty: the user's full rights.
    public var scopes: [String]
    public var secretHash: String
    public var createdAt: Double
    public var expiresAt: Double?
    public var lastUsed: Double?
    public var revokedAt: Double?

    public init(id: String, user: String, groups: [String], scopes: [String], secretHash: String, createdAt: Double,
                expiresAt: Double?, lastUsed: Double? = nil, revokedAt: Double? = nil) {
        self.id = id
        self.user = user
        self.groups = groups
        self.scopes = scopes
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsed = lastUsed
        self.revokedAt = revokedAt
    }

    /// Usable at `time`: not revoked, not expired.
    public func isActive(at time: Double) -> Bool {
        revokedAt == nil && (expiresAt.map { time < $0 } ?? true)
    }
}

/// Where tokens are kept: the metadata index's database (SQLite by default, PostgreSQL
/// shared by replicas).
public protocol TokenStore: Sendable {
    func insertToken(_ record: TokenRecord) async throws
    /// Every token, revoked and expired ones included, oldest first.
    func tokens() async throws -> [TokenRecord]
    /// Revokes a token; false if there is no such token (or it was revoked already).
    func revokeToken(id: String, at time: Double) async throws -> Bool
    /// A number that changes whenever a token is created or revoked, so replicas reload
    /// their copy of the tokens only then.
    func tokenGeneration() async throws -> Int64
    /// When tokens were last used (token ID → time), written in batches.
    func recordTokenUse(_ uses: [String: Double]) async throws
}
