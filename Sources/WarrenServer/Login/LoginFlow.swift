import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// `/login` and `/callback`: sign in with the company's provider and leave with a Warren
/// token and the exact lines to paste (`.netrc`, `go env -w GOPROXY=…`).
///
/// The attempt's secrets (state, nonce, PKCE verifier) travel in a cookie that Warren
/// signs with a key all replicas share (derived from the provider's client secret), so
/// the callback may reach any replica. The cookie is HttpOnly, SameSite=Lax, Secure on
/// an https URL, lives ten minutes and is cleared by the callback; the `state` in the
/// callback must be the cookie's, so a login cannot be planted in someone else's
/// browser, and a code is redeemed once (the provider refuses it the second time).
public struct LoginFlow: Sendable {
    public let provider: any LoginProvider
    /// Warren as users reach it (`https://goproxy.corp.example.com`): the redirect URI
    /// and the instructions on the token page.
    public let publicURL: String
    let cookieKey: SymmetricKey
    public let tokenLifetime: Double
    let tokens: TokenCache
    let audit: AuditLog?

    static let cookieName = "warren_login"
    static let attemptLifetime: Double = 600
    /// The browser's session: a Warren token of its own (not the one shown for
    /// `.netrc`), in an HttpOnly, SameSite=Strict cookie, good for twelve hours and for
    /// reading only (GET and HEAD), so no other site can act with it.
    static let sessionCookieName = "warren_session"
    static let sessionLifetime: Double = 12 * 3600

    public init(provider: any LoginProvider, publicURL: String, cookieSecret: String, tokenLifetime: Double, tokens: TokenCache,
                audit: AuditLog?) {
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.provider = provider
        self.publicURL = url
        self.cookieKey = SymmetricKey(data: SHA256.hash(data: Array(("warren-login-cookie:" + cookieSecret).utf8)))
        self.tokenLifetime = tokenLifetime
        self.tokens = tokens
        self.audit = audit
    }

    var redirectURI: String { publicURL + "/callback" }
    var secure: Bool { publicURL.hasPrefix("https://") }

    /// One login attempt, as the cookie carries it.
    struct Attempt: Codable, Equatable {
        var state: String
        var nonce: String
        var verifier: String
        var expires: Double
        /// Where to send the browser after the token page (a path on this server).
        var back: String?
        /// `warren login`: its loopback port, public key and state; the token goes there,
        /// sealed to the key, instead of onto a page.
        var cliPort: Int?
        var cliKey: String?
        var cliState: String?
    }

    // MARK: - /login

    func start(_ request: Request) async -> Response {
        let back = request.uri.queryParameters["return"].map(String.init)
        if let back, !Self.isLocalPath(back) {
            return LoginPage.text(.badRequest, "return must be a path on this server")
        }
        var attempt = Attempt(state: Self.random(), nonce: Self.random(), verifier: Self.random(bytes: 32),
                              expires: Date().timeIntervalSince1970 + Self.attemptLifetime, back: back)
        let query = request.uri.queryParameters
        if let port = query["cli_port"].map(String.init) {
            guard let p = Int(port), (1024...65535).contains(p), let key = query["cli_key"].map(String.init), TokenHandoff.isPublicKey(key),
                  let state = query["cli_state"].map(String.init), (16...64).contains(state.count),
                  state.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                return LoginPage.text(.badRequest, "cli_port, cli_key and cli_state are for warren login, and these are not its")
            }
            (attempt.cliPort, attempt.cliKey, attempt.cliState) = (p, key, state)
        }
        let target: String
        do {
            target = try await provider.authorizationURL(state: attempt.state, nonce: attempt.nonce,
                                                         codeChallenge: Self.challenge(attempt.verifier), redirectURI: redirectURI)
        } catch {
            return LoginPage.text(.badGateway, "the login provider \(provider.displayName) cannot be used now: \(error)")
        }
        var headers = HTTPFields()
        headers[.location] = target
        headers[.cacheControl] = "no-store"
        headers[.setCookie] = cookie(seal(attempt), maxAge: Int(Self.attemptLifetime))
        return Response(status: .found, headers: headers)
    }

    /// A path here, never another site (`//evil.example`, `/\evil.example`, `https://…`).
    static func isLocalPath(_ s: String) -> Bool {
        s.hasPrefix("/") && !s.hasPrefix("//") && !s.hasPrefix("/\\") && !s.contains("\r") && !s.contains("\n")
            && URLComponents(string: s)?.host == nil
    }

    // MARK: - /callback

    func finish(_ request: Request, address: String?) async -> Response {
        let query = request.uri.queryParameters
        guard let attempt = unseal(Self.cookieValue(request)) else {
            return failure("this login was not started here, or took longer than ten minutes: start again at /login", address)
        }
        guard let state = query["state"].map(String.init), Self.constantTimeEqual(state, attempt.state) else {
            return failure("the state does not match this browser's login", address)
        }
        if let error = query["error"].map(String.init) {
            return failure("the provider refused: \(error.prefix(100))", address)
        }
        guard let code = query["code"].map(String.init), !code.isEmpty else { return failure("the provider sent no code", address) }
        let identity: LoginIdentity
        do {
            identity = try await provider.redeem(code: code, codeVerifier: attempt.verifier, redirectURI: redirectURI, nonce: attempt.nonce)
        } catch {
            return failure("\(error)", address)
        }
        let token = AccessToken.generate()
        let now = Date().timeIntervalSince1970
        let record = TokenRecord(id: token.id, user: identity.name, groups: identity.groups, scopes: [], secretHash: token.secretHash,
                                 createdAt: now, expiresAt: now + tokenLifetime)
        do {
            try await tokens.store.insertToken(record)
            _ = try? await tokens.refresh()
        } catch {
            return LoginPage.text(.serviceUnavailable, "signed in, but the token could not be stored: the database is unavailable")
        }
        let session = AccessToken.generate()
        do {
            try await tokens.store.insertToken(TokenRecord(id: session.id, user: identity.name, groups: identity.groups, scopes: [],
                                                           secretHash: session.secretHash, createdAt: now,
                                                           expiresAt: now + Self.sessionLifetime))
            _ = try? await tokens.refresh()
        } catch {
            return LoginPage.text(.serviceUnavailable, "signed in, but the session could not be stored: the database is unavailable")
        }
        let principal = Principal.user(UserIdentity(name: identity.name, groups: identity.groups, tokenID: token.id))
        audit?.record(.init(action: "login", principal: principal, address: address, target: provider.displayName, result: "allowed",
                            detail: "subject \(identity.subject); token \(token.id) created"))
        var response: Response
        if let port = attempt.cliPort, let key = attempt.cliKey, let cliState = attempt.cliState {
            // warren login: the token, sealed to its key, goes to its loopback listener.
            guard let sealed = try? TokenHandoff.seal(token.text, to: key, context: cliState) else {
                return failure("the key warren login sent cannot be used", address)
            }
            var components = URLComponents(string: "http://127.0.0.1:\(port)/callback")
            components?.queryItems = [.init(name: "state", value: cliState), .init(name: "user", value: identity.name),
                                      .init(name: "sealed", value: sealed)]
            var headers = HTTPFields()
            headers[.location] = components?.string ?? ""
            headers[.cacheControl] = "no-store"
            response = Response(status: .found, headers: headers)
        } else {
            response = LoginPage.token(user: identity.name, groups: identity.groups, token: token.text, publicURL: publicURL,
                                       expires: now + tokenLifetime, back: attempt.back)
        }
        response.headers[.setCookie] = cookie("", maxAge: 0)
        response.headers.append(HTTPField(name: .setCookie, value: sessionCookie(session.text, maxAge: Int(Self.sessionLifetime))))
        return response
    }

    // MARK: - /logout

    /// Ends the browser's session: its token is revoked (the `.netrc` token stays) and
    /// the cookie cleared.
    func logout(_ request: Request, address: String?) async -> Response {
        if let value = Self.cookie(Self.sessionCookieName, in: request), let token = AccessToken(value) {
            if (try? await tokens.store.revokeToken(id: token.id, at: Date().timeIntervalSince1970)) == true {
                tokens.forget(id: token.id)
                audit?.record(.init(action: "logout", principal: .anonymous, address: address, target: "session \(token.id)", result: "done"))
            }
        }
        var response = LoginPage.text(.ok, "signed out")
        response.headers[.setCookie] = sessionCookie("", maxAge: 0)
        return response
    }

    func sessionCookie(_ value: String, maxAge: Int) -> String {
        "\(Self.sessionCookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The session's credentials, for a request that carries no Authorization header:
    /// only for reading (GET, HEAD), so a cookie cannot be made to change anything.
    static func sessionAuthorization(_ request: Request) -> String? {
        guard request.method == .get || request.method == .head, let value = cookie(sessionCookieName, in: request),
              !value.isEmpty else { return nil }
        return "Bearer " + value
    }

    /// A refused callback: 400 with the reason, the attempt's cookie cleared, audited.
    func failure(_ reason: String, _ address: String?) -> Response {
        audit?.record(.init(action: "login", principal: .anonymous, address: address, target: provider.displayName, result: "denied",
                            detail: reason))
        var response = LoginPage.text(.badRequest, "login failed: " + reason)
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    // MARK: - The attempt cookie

    func cookie(_ value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    static func cookieValue(_ request: Request) -> String? { cookie(cookieName, in: request) }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

    /// `payload.mac`, both base64url: the attempt, and an HMAC-SHA256 over it.
    func seal(_ attempt: Attempt) -> String {
        let payload = Self.base64url(Data((try? JSONEncoder().encode(attempt)) ?? Data()))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: cookieKey)
        return payload + "." + Self.base64url(Data(mac))
    }

    func unseal(_ value: String?) -> Attempt? {
        guard let value, let dot = value.firstIndex(of: ".") else { return nil }
        let payload = String(value[..<dot]), mac = String(value[value.index(after: dot)...])
        guard let macBytes = Self.unbase64url(mac),
              HMAC<SHA256>.isValidAuthenticationCode(macBytes, authenticating: Array(payload.utf8), using: cookieKey),
              let json = Self.unbase64url(payload), let attempt = try? JSONDecoder().decode(Attempt.self, from: json),
              attempt.expires > Date().timeIntervalSince1970 else { return nil }
        return attempt
    }

    // MARK: - Small pieces

    static func random(bytes: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        return base64url(Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    /// PKCE S256: base64url(SHA-256(verifier)).
    static func challenge(_ verifier: String) -> String {
        base64url(Data(SHA256.hash(data: Array(verifier.utf8))))
    }

    static func base64url(_ data: Data) -> String { SecretText.base64url(data) }
    static func unbase64url(_ s: String) -> Data? { SecretText.unbase64url(s) }
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool { SecretText.constantTimeEqual(a, b) }
}
