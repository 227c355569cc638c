import GoModule

/// How direct mode reaches version control: which modules are private, which hosts may
/// be asked over plain HTTP, which version control systems may be used, and the
/// credentials for private hosts.
public struct DirectConfiguration: Sendable, Equatable {
    /// GOPRIVATE-style patterns: these modules always go direct (never to an upstream
    /// proxy) and are never looked up in a checksum database.
    public var privatePatterns: ModulePathPatterns
    /// GOINSECURE-style patterns: discovery may fall back to plain HTTP for these.
    public var insecurePatterns: ModulePathPatterns
    /// GOVCS-style rules; Warren speaks git only.
    public var vcsRules: VCSRules
    /// Per-host credentials, configured ones first, then `.netrc` entries.
    public var credentials: [HostCredential]

    public init(privatePatterns: ModulePathPatterns = ModulePathPatterns(""), insecurePatterns: ModulePathPatterns = ModulePathPatterns(""),
                vcsRules: VCSRules = .fallback, credentials: [HostCredential] = []) {
        self.privatePatterns = privatePatterns
        self.insecurePatterns = insecurePatterns
        self.vcsRules = vcsRules
        self.credentials = credentials
    }
}
