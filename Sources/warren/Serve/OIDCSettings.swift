/// The sign-in settings: `public-url`, and either `oidc-*` (GitLab self-managed or
/// gitlab.com, or any other OpenID Connect provider) or `github-*` (GitHub Enterprise
/// Server or github.com, through an OAuth app).
struct OIDCSettings: Equatable {
    var githubURL: String?
    var githubAPIURL: String?
    var githubClientID: String?
    var githubClientSecret: String?
    var issuer: String?
    var clientID: String?
    var clientSecret: String?
    var publicURL: String?
    var usernameClaim = "preferred_username"
    var groupsClaim = "groups"
    var scopes = "openid profile email"
    /// How long tokens made at login last (default 90 days).
    var tokenLifetime: Double = 90 * 86400

    var isOpenIDConnect: Bool { issuer != nil || clientID != nil || clientSecret != nil }
    var isGitHub: Bool { githubURL != nil || githubClientID != nil || githubClientSecret != nil }
    var isConfigured: Bool { isOpenIDConnect || isGitHub }

    /// What is missing when some but not all of it is given.
    var problem: String? {
        if isOpenIDConnect && isGitHub { return "sign-in takes one provider: oidc-* or github-*, not both" }
        if isGitHub {
            var missing: [String] = []
            if githubURL == nil { missing.append("github-url") }
            if githubClientID == nil { missing.append("github-client-id") }
            if githubClientSecret == nil { missing.append("github-client-secret") }
            if publicURL == nil { missing.append("public-url") }
            return missing.isEmpty ? nil : "sign-in with GitHub needs " + missing.joined(separator: ", ") + " as well"
        }
        guard isConfigured else { return nil }
        var missing: [String] = []
        if issuer == nil { missing.append("oidc-issuer") }
        if clientID == nil { missing.append("oidc-client-id") }
        if clientSecret == nil { missing.append("oidc-client-secret") }
        if publicURL == nil { missing.append("public-url") }
        return missing.isEmpty ? nil : "sign-in needs " + missing.joined(separator: ", ") + " as well"
    }
}
