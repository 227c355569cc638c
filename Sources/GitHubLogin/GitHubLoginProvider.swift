import AsyncHTTPClient
import Foundation
import NIOCore
import WarrenCore

/// Login with GitHub Enterprise Server or github.com through an OAuth app: the
/// authorization code flow with PKCE and `state`, the code redeemed for an access token,
/// and the person read from the API: the user name from `/user`, groups from the
/// organizations (`ORG`) and teams (`ORG/TEAM`) they belong to, so rules such as
/// `group:corp/backend` work as with GitLab. The access token is used for those calls
/// only and is never kept.
public final class GitHubLoginProvider: LoginProvider {
    /// The web address: `https://github.corp.example.com` (or `https://github.com`).
    public let base: String
    /// The API: `BASE/api/v3` on GitHub Enterprise Server, `https://api.github.com` for github.com.
    public let api: String
    let clientID: String
    let clientSecret: String
    let http: HTTPClient

    public var displayName: String { base }

    public init(base: String, api: String? = nil, clientID: String, clientSecret: String, http: HTTPClient) {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.base = trimmed
        self.api = api ?? (trimmed == "https://github.com" ? "https://api.github.com" : trimmed + "/api/v3")
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.http = http
    }

    public func authorizationURL(state: String, nonce: String, codeChallenge: String, redirectURI: String) async throws -> String {
        var components = URLComponents(string: base + "/login/oauth/authorize")
        components?.queryItems = [
            .init(name: "client_id", value: clientID), .init(name: "redirect_uri", value: redirectURI),
            .init(name: "scope", value: "read:user read:org"), .init(name: "state", value: state),
            .init(name: "code_challenge", value: codeChallenge), .init(name: "code_challenge_method", value: "S256"),
            .init(name: "allow_signup", value: "false"),
        ]
        guard let url = components?.url?.absoluteString else { throw LoginFailure("the GitHub address is not a URL") }
        return url
    }

    public func redeem(code: String, codeVerifier: String, redirectURI: String, nonce: String) async throws -> LoginIdentity {
        let accessToken = try await exchange(code: code, codeVerifier: codeVerifier, redirectURI: redirectURI)
        guard let user = try await apiGet("/user", token: accessToken) as? [String: Any], let login = user["login"] as? String,
              !login.isEmpty, !login.contains(where: { $0.isWhitespace || $0 == ":" }) else {
            throw LoginFailure("GitHub did not say who signed in")
        }
        var groups: [String] = []
        if let orgs = try await apiGet("/user/orgs?per_page=100", token: accessToken) as? [[String: Any]] {
            groups += orgs.compactMap { $0["login"] as? String }
        }
        if let teams = try await apiGet("/user/teams?per_page=100", token: accessToken) as? [[String: Any]] {
            groups += teams.compactMap { team in
                guard let slug = team["slug"] as? String, let org = (team["organization"] as? [String: Any])?["login"] as? String else { return nil }
                return org + "/" + slug
            }
        }
        let subject = (user["id"] as? Int).map(String.init) ?? login
        return LoginIdentity(name: login, groups: Array(Set(groups)).sorted(), subject: subject)
    }

    /// POST /login/oauth/access_token (JSON answer asked for).
    func exchange(code: String, codeVerifier: String, redirectURI: String) async throws -> String {
        let (status, object) = try await OAuthTokenRequest.post(
            base + "/login/oauth/access_token",
            form: [("client_id", clientID), ("client_secret", clientSecret), ("code", code), ("redirect_uri", redirectURI),
                   ("code_verifier", codeVerifier)],
            http: http, provider: "GitHub")
        // GitHub answers 200 with an error field for a bad code.
        if let error = object?["error"] as? String { throw LoginFailure("GitHub refused the code: \(error)") }
        guard status == 200, let token = object?["access_token"] as? String, !token.isEmpty else {
            throw LoginFailure("GitHub's answer holds no access token (HTTP \(status))")
        }
        return token
    }

    func apiGet(_ path: String, token: String) async throws -> Any {
        var request = HTTPClientRequest(url: api + path)
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "User-Agent", value: "Warren")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(15))
        } catch {
            throw LoginFailure("GitHub's API cannot be reached: \(error)")
        }
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status == .ok, let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) else {
            throw LoginFailure("GitHub's API answered HTTP \(response.status.code) for \(path.split(separator: "?").first ?? "")")
        }
        return object
    }
}
