import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import Synchronization
import WarrenCore

/// Login with any OpenID Connect provider (GitLab self-managed or gitlab.com, Keycloak,
/// Dex, …): discovery from `ISSUER/.well-known/openid-configuration`, the authorization
/// code flow with PKCE, the code redeemed with the client secret, and the ID token
/// checked by `IDTokenVerifier` against the provider's JWKS (fetched again when a token
/// names a key not seen yet: providers rotate keys).
public final class OpenIDConnectProvider: LoginProvider {
    public let issuer: String
    let clientID: String
    let clientSecret: String
    let scopes: String
    let verifier: IDTokenVerifier
    let http: HTTPClient
    private let discovered = Mutex<(configuration: Configuration, keys: JWTKeyCollection, fetched: Date)?>(nil)

    public var displayName: String { issuer }

    /// What discovery gives.
    struct Configuration: Decodable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
    }

    public init(issuer: String, clientID: String, clientSecret: String, usernameClaim: String = "preferred_username",
                groupsClaim: String = "groups", scopes: String = "openid profile email", http: HTTPClient) {
        var trimmed = issuer
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.issuer = trimmed
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scopes = scopes
        self.verifier = IDTokenVerifier(issuer: trimmed, clientID: clientID, usernameClaim: usernameClaim, groupsClaim: groupsClaim)
        self.http = http
    }

    public func authorizationURL(state: String, nonce: String, codeChallenge: String, redirectURI: String) async throws -> String {
        let configuration = try await discover().configuration
        var components = URLComponents(string: configuration.authorization_endpoint)
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + [
            .init(name: "response_type", value: "code"), .init(name: "client_id", value: clientID),
            .init(name: "redirect_uri", value: redirectURI), .init(name: "scope", value: scopes),
            .init(name: "state", value: state), .init(name: "nonce", value: nonce),
            .init(name: "code_challenge", value: codeChallenge), .init(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = components?.url?.absoluteString else { throw LoginFailure("the provider's authorization endpoint is not a URL") }
        return url
    }

    public func redeem(code: String, codeVerifier: String, redirectURI: String, nonce: String) async throws -> LoginIdentity {
        let (configuration, keys, _) = try await discover()
        let idToken = try await exchange(code: code, codeVerifier: codeVerifier, redirectURI: redirectURI, at: configuration.token_endpoint)
        do {
            return try await verifier.verify(idToken, keys: keys, nonce: nonce)
        } catch let failure as LoginFailure where failure.description.contains("signature") {
            // Perhaps a key rotated in since the JWKS was fetched: fetch it once more.
            let fresh = try await discover(force: true).keys
            return try await verifier.verify(idToken, keys: fresh, nonce: nonce)
        }
    }

    /// POSTs the code to the token endpoint (client_secret_basic) and returns the ID token.
    func exchange(code: String, codeVerifier: String, redirectURI: String, at endpoint: String) async throws -> String {
        let credentials = Data((FormEncoding.encode(clientID) + ":" + FormEncoding.encode(clientSecret)).utf8).base64EncodedString()
        let (status, object) = try await OAuthTokenRequest.post(
            endpoint,
            form: [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                   ("code_verifier", codeVerifier), ("client_id", clientID)],
            headers: [("Authorization", "Basic " + credentials)], http: http, provider: "the provider")
        guard status == 200 else {
            throw LoginFailure("the provider refused the code: \(object?["error"] as? String ?? "HTTP \(status)")")
        }
        guard let idToken = object?["id_token"] as? String else {
            throw LoginFailure("the provider's answer holds no ID token")
        }
        return idToken
    }

    /// Discovery and the JWKS, fetched once an hour (or when forced).
    func discover(force: Bool = false) async throws -> (configuration: Configuration, keys: JWTKeyCollection, fetched: Date) {
        if !force, let known = discovered.withLock({ $0 }), Date().timeIntervalSince(known.fetched) < 3600 { return known }
        let configuration: Configuration = try await fetchJSON(issuer + "/.well-known/openid-configuration", what: "discovery document")
        var reported = configuration.issuer
        while reported.hasSuffix("/") { reported.removeLast() }
        guard reported == issuer else { throw LoginFailure("the discovery document names issuer \(configuration.issuer), not \(issuer)") }
        let jwks = try await fetchText(configuration.jwks_uri, what: "JWKS")
        let keys: JWTKeyCollection
        do {
            keys = try await JWTKeyCollection().add(jwksJSON: jwks)
        } catch {
            throw LoginFailure("the provider's JWKS has no usable key: \(error)")
        }
        let fresh = (configuration, keys, Date())
        discovered.withLock { $0 = fresh }
        return fresh
    }

    func fetchText(_ url: String, what: String) async throws -> String {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(15))
        } catch {
            throw LoginFailure("the provider's \(what) cannot be fetched from \(url): \(error)")
        }
        guard response.status == .ok else { throw LoginFailure("the provider's \(what) at \(url) answered HTTP \(response.status.code)") }
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    func fetchJSON<T: Decodable>(_ url: String, what: String) async throws -> T {
        let text = try await fetchText(url, what: what)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw LoginFailure("the provider's \(what) is not what OpenID Connect says: \(error)")
        }
    }
}
