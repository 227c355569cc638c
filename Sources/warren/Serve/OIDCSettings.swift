/// The `oidc-*` and `public-url` settings: sign-in at /login with an OpenID Connect
/// provider (GitLab self-managed or gitlab.com, or any other).
struct OIDCSettings: Equatable {
    var issuer: String?
    var clientID: String?
    var clientSecret: String?
    var publicURL: String?
    var usernameClaim = "preferred_username"
    var groupsClaim = "groups"
    var scopes = "openid profile email"
    /// How long tokens made at login last (default 90 days).
    var tokenLifetime: Double = 90 * 86400

    var isConfigured: Bool { issuer != nil || clientID != nil || clientSecret != nil }

    /// What is missing when some but not all of it is given.
    var problem: String? {
        guard isConfigured else { return nil }
        var missing: [String] = []
        if issuer == nil { missing.append("oidc-issuer") }
        if clientID == nil { missing.append("oidc-client-id") }
        if clientSecret == nil { missing.append("oidc-client-secret") }
        if publicURL == nil { missing.append("public-url") }
        return missing.isEmpty ? nil : "sign-in needs " + missing.joined(separator: ", ") + " as well"
    }
}
