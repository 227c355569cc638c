/// Who a login provider (GitLab, GitHub Enterprise, any OpenID Connect provider) says the
/// person is: a user name for permission rules and tokens, and the groups it reports.
public struct LoginIdentity: Sendable, Equatable {
    public var name: String
    public var groups: [String]
    /// The provider's stable identifier for the person (`sub`), for the audit log.
    public var subject: String

    public init(name: String, groups: [String], subject: String) {
        self.name = name
        self.groups = groups
        self.subject = subject
    }
}

/// An authorization-code login (OAuth2 with PKCE): where to send the browser, and what
/// the code it comes back with proves.
public protocol LoginProvider: Sendable {
    /// For pages and logs: the provider's issuer or host, never a secret.
    var displayName: String { get }
    /// The provider's authorization URL for this attempt.
    func authorizationURL(state: String, nonce: String, codeChallenge: String, redirectURI: String) async throws -> String
    /// Redeems the code and checks everything the provider returned (for OpenID Connect:
    /// the ID token's signature, issuer, audience, expiry and nonce).
    func redeem(code: String, codeVerifier: String, redirectURI: String, nonce: String) async throws -> LoginIdentity
}

/// A login that did not go through; the message says why, without secrets.
public struct LoginFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
