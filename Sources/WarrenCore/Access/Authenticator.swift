import Foundation

/// Who a request's credentials say it is: `Authorization: Basic` (the go command sends
/// `.netrc` entries and GOPROXY userinfo this way; the token is the password, or the
/// user name when there is no password) or `Authorization: Bearer`.
///
/// Everything it needs is in memory (`TokenCache`), so the fast path can call it on the
/// event loop. Failures count against the client's address and the user name it gave
/// (`FailedAuthenticationLimiter`); past the limit, the answer is 429 before any token
/// is looked at.
public struct Authenticator: Sendable {
    public let tokens: TokenCache?
    public let limiter: FailedAuthenticationLimiter
    /// A service that vouches for credentials that are not Warren tokens (GitLab).
    public let external: (any ExternalCredentials)?

    public init(tokens: TokenCache?, limiter: FailedAuthenticationLimiter = FailedAuthenticationLimiter(),
                external: (any ExternalCredentials)? = nil) {
        self.tokens = tokens
        self.limiter = limiter
        self.external = external
    }

    public enum Outcome: Sendable, Equatable {
        case principal(Principal)
        /// 401, with the reason.
        case rejected(String)
        /// 429: too many failures; try again after this many seconds.
        case throttled(retryAfter: Int)
        /// 503: the service that would vouch for the credentials cannot be asked.
        case unavailable(String)
    }

    /// As `authenticate`, but a token this replica has not heard of yet (created a moment
    /// ago, perhaps on another replica) is looked up in the store first.
    public func authenticateLookingUp(authorization: String?, address: String?) async -> Outcome {
        if let external, let authorization, let presented = Self.presented(authorization), AccessToken(presented.secret) == nil {
            var keys = address.map { ["address:" + $0] } ?? []
            if let user = presented.user, !user.isEmpty { keys.append("user:" + user) }
            if let wait = limiter.retryAfter(keys) { return .throttled(retryAfter: wait) }
            do {
                if let identity = try await external.identity(user: presented.user ?? "", secret: presented.secret) {
                    return .principal(.user(identity))
                }
            } catch {
                return .unavailable("\(error)")
            }
            limiter.failed(keys)
            return .rejected("the credentials are neither a Warren token nor a token GitLab knows")
        }
        let outcome = authenticate(authorization: authorization, address: address, countFailure: false)
        guard case .rejected = outcome, let tokens, let token = presentedToken(authorization), !tokens.knows(id: token.id) else {
            return authenticate(authorization: authorization, address: address)
        }
        await tokens.refreshForUnknownToken()
        return authenticate(authorization: authorization, address: address)
    }

    /// What a Basic or Bearer header presents: the user name (Basic only) and the secret
    /// (the password, or the user name when there is none).
    static func presented(_ authorization: String) -> (user: String?, secret: String)? {
        let lower = authorization.lowercased()
        if lower.hasPrefix("bearer ") { return (nil, String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)) }
        guard lower.hasPrefix("basic "), let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let pair = String(data: decoded, encoding: .utf8) else { return nil }
        let parts = pair.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let user = String(parts.first ?? "")
        guard parts.count == 2, !parts[1].isEmpty else { return (nil, user) }
        return (user, String(parts[1]))
    }

    /// The token in the header, if it holds one.
    func presentedToken(_ authorization: String?) -> AccessToken? {
        guard let authorization, let presented = Self.presented(authorization) else { return nil }
        return AccessToken(presented.secret)
    }

    public func authenticate(authorization: String?, address: String?) -> Outcome {
        authenticate(authorization: authorization, address: address, countFailure: true)
    }

    func authenticate(authorization: String?, address: String?, countFailure: Bool) -> Outcome {
        guard let authorization, !authorization.isEmpty else { return .principal(.anonymous) }
        var keys = address.map { ["address:" + $0] } ?? []
        guard let presented = Self.presented(authorization) else {
            return fail(keys, "malformed credentials (use Basic or Bearer with a Warren token)", count: countFailure)
        }
        if let user = presented.user, !user.isEmpty { keys.append("user:" + user) }
        if let wait = limiter.retryAfter(keys) { return .throttled(retryAfter: wait) }
        guard let token = AccessToken(presented.secret) else { return fail(keys, "the credentials are not a Warren token", count: countFailure) }
        guard let identity = tokens?.identity(for: token) else {
            let stale = tokens?.isInactive(token) ?? false
            return fail(keys, stale ? "the token has expired or was revoked" : "the token is unknown, expired or revoked",
                        count: countFailure && !stale)
        }
        return .principal(.user(identity))
    }

    /// Who the credentials name, without counting anything (for the audit line of a
    /// request refused for another reason).
    public func peek(authorization: String?, recordUse: Bool = false) -> Outcome {
        guard let tokens, let token = presentedToken(authorization),
              let identity = tokens.identity(for: token, recordUse: recordUse) else {
            return .principal(.anonymous)
        }
        return .principal(.user(identity))
    }

    private func fail(_ keys: [String], _ reason: String, count: Bool = true) -> Outcome {
        if let wait = limiter.retryAfter(keys) { return .throttled(retryAfter: wait) }
        if count { limiter.failed(keys) }
        return .rejected(reason)
    }
}
