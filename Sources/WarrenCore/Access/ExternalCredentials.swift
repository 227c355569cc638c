/// Credentials that are not Warren tokens but that a trusted service can vouch for: a
/// GitLab CI job token (`gitlab-ci-token` as the user name) or a GitLab personal access
/// token, so CI jobs and developers need no Warren token of their own.
public protocol ExternalCredentials: Sendable {
    /// Who the credentials belong to, or nil when the service does not know them.
    /// Throws when the service cannot be asked (it is down): the caller answers 503
    /// rather than 401.
    func identity(user: String, secret: String) async throws -> UserIdentity?
}
