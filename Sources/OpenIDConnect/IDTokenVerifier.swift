import Foundation
import JWTKit
import WarrenCore

/// Checks an OpenID Connect ID token as the specification asks (OpenID Connect Core
/// 1.0, 3.1.3.7): the signature with a key of the provider's JWKS (never `none`, never a
/// key the token brings along), the issuer exactly, the client among the audiences (and
/// as `azp` when there are several), not expired, not issued in the future, and the
/// nonce of this login attempt. Then reads the user name and groups from the claims the
/// settings name.
public struct IDTokenVerifier: Sendable {
    public let issuer: String
    public let clientID: String
    public let usernameClaim: String
    public let groupsClaim: String
    /// Clock skew allowed between Warren and the provider.
    public var leeway: TimeInterval = 60

    public init(issuer: String, clientID: String, usernameClaim: String = "preferred_username", groupsClaim: String = "groups") {
        self.issuer = issuer
        self.clientID = clientID
        self.usernameClaim = usernameClaim
        self.groupsClaim = groupsClaim
    }

    /// The standard claims, checked by jwt-kit after the signature.
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nonce: String?
        var azp: String?

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    /// The identity the token proves, or why it proves nothing.
    public func verify(_ token: String, keys: JWTKeyCollection, nonce: String, now: Date = Date()) async throws -> LoginIdentity {
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch {
            throw LoginFailure("the ID token's signature does not verify with the provider's keys")
        }
        guard claims.iss.value == issuer else { throw LoginFailure("the ID token was issued by \(claims.iss.value), not \(issuer)") }
        guard claims.aud.value.contains(clientID) else { throw LoginFailure("the ID token is not for this client") }
        if claims.aud.value.count > 1, claims.azp != clientID { throw LoginFailure("the ID token was given to another party") }
        guard claims.exp.value.timeIntervalSince(now) > -leeway else { throw LoginFailure("the ID token has expired") }
        guard claims.iat.value.timeIntervalSince(now) < leeway else { throw LoginFailure("the ID token is issued in the future") }
        guard let tokenNonce = claims.nonce, SecretText.constantTimeEqual(tokenNonce, nonce) else {
            throw LoginFailure("the ID token's nonce is not this login's")
        }
        let all = try Self.payloadObject(token)
        let name = (all[usernameClaim] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? claims.sub.value
        guard !name.contains(where: { $0.isWhitespace || $0.isNewline || $0 == ":" }) else {
            throw LoginFailure("the provider's \(usernameClaim) is not usable as a user name")
        }
        let groups = (all[groupsClaim] as? [Any])?.compactMap { $0 as? String } ?? []
        return LoginIdentity(name: name, groups: groups, subject: claims.sub.value)
    }

    /// The payload as JSON (read only after the signature has been checked).
    static func payloadObject(_ token: String) throws -> [String: Any] {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { throw LoginFailure("the ID token is not a JWT") }
        guard let data = SecretText.unbase64url(parts[1]),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoginFailure("the ID token's claims are not JSON")
        }
        return object
    }
}
