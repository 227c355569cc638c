import Foundation
import JWTKit
import OpenIDConnect
import Testing
import WarrenCore

/// ID tokens as a provider would sign them (ES256, with jwt-kit), checked the way a
/// login checks them: good ones give the identity; forged, expired, misaddressed or
/// replayed ones are refused with the reason.
@Suite struct IDTokenVerifierTests {
    struct Payload: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nonce: String?
        var azp: String?
        var preferred_username: String?
        var groups: [String]?
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static let issuer = "https://gitlab.corp.example.com"
    let verifier = IDTokenVerifier(issuer: Self.issuer, clientID: "warren")

    static func payload(iss: String = issuer, aud: [String] = ["warren"], expiresIn: TimeInterval = 300, issuedAgo: TimeInterval = 0,
                        nonce: String? = "n-123", azp: String? = nil, username: String? = "alice") -> Payload {
        Payload(iss: .init(value: iss), sub: .init(value: "42"), aud: .init(value: aud), exp: .init(value: Date().addingTimeInterval(expiresIn)),
                iat: .init(value: Date().addingTimeInterval(-issuedAgo)), nonce: nonce, azp: azp, preferred_username: username,
                groups: ["corp", "corp/backend"])
    }

    /// The provider's signing key and the JWKS it publishes.
    static func provider() async throws -> (signer: JWTKeyCollection, published: JWTKeyCollection) {
        let key = ES256PrivateKey()
        let signer = await JWTKeyCollection().add(ecdsa: key, kid: "k1")
        let parameters = try #require(key.publicKey.parameters)
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        return (signer, try await JWTKeyCollection().add(jwksJSON: jwks))
    }

    func refusal(_ token: String, _ keys: JWTKeyCollection, nonce: String = "n-123") async -> String {
        do {
            _ = try await verifier.verify(token, keys: keys, nonce: nonce)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func aGoodTokenGivesTheIdentity() async throws {
        let (signer, published) = try await Self.provider()
        let token = try await signer.sign(Self.payload(), kid: "k1")
        let identity = try await verifier.verify(token, keys: published, nonce: "n-123")
        #expect(identity == LoginIdentity(name: "alice", groups: ["corp", "corp/backend"], subject: "42"))
        // Without the username claim, the subject names the user.
        let bare = try await signer.sign(Self.payload(username: nil), kid: "k1")
        #expect(try await verifier.verify(bare, keys: published, nonce: "n-123").name == "42")
    }

    @Test func forgedExpiredAndMisaddressedTokensAreRefused() async throws {
        let (signer, published) = try await Self.provider()
        let (otherSigner, _) = try await Self.provider()
        #expect(await refusal(try await otherSigner.sign(Self.payload(), kid: "k1"), published).contains("signature"))
        #expect(await refusal(try await signer.sign(Self.payload(expiresIn: -120), kid: "k1"), published).contains("expired"))
        #expect(await refusal(try await signer.sign(Self.payload(issuedAgo: -600), kid: "k1"), published).contains("future"))
        #expect(await refusal(try await signer.sign(Self.payload(aud: ["someone-else"]), kid: "k1"), published).contains("not for this client"))
        #expect(await refusal(try await signer.sign(Self.payload(aud: ["warren", "other"]), kid: "k1"), published).contains("another party"))
        #expect(await refusal(try await signer.sign(Self.payload(aud: ["warren", "other"], azp: "warren"), kid: "k1"), published) == "accepted")
        #expect(await refusal(try await signer.sign(Self.payload(iss: "https://evil.example"), kid: "k1"), published).contains("issued by"))
        #expect(await refusal(try await signer.sign(Self.payload(), kid: "k1"), published, nonce: "n-other").contains("nonce"))
        #expect(await refusal(try await signer.sign(Self.payload(nonce: nil), kid: "k1"), published).contains("nonce"))
        #expect(await refusal(try await signer.sign(Self.payload(username: "al ice"), kid: "k1"), published).contains("user name"))
        // alg none: no signature at all.
        let good = try await signer.sign(Self.payload(), kid: "k1").split(separator: ".")
        let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(await refusal(none + "." + good[1] + ".", published).contains("signature"))
        #expect(await refusal("not.a.jwt", published).contains("signature"))
    }
}
