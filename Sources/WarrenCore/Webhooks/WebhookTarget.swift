import GoModule

/// Where webhook events go: a URL, and the module patterns whose events it wants (module
/// events outside them are not sent; upstream events always are).
public struct WebhookTarget: Sendable, Equatable, CustomStringConvertible {
    public var url: String
    public var patterns: ModulePathPatterns?

    public init(url: String, patterns: ModulePathPatterns? = nil) {
        self.url = url
        self.patterns = patterns
    }

    /// `URL [PATTERNS]`, e.g. `https://hooks.corp.example.com/warren github.com/corp/*`.
    public init(parsing text: String) throws(ProxyError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first, first.hasPrefix("http://") || first.hasPrefix("https://"), fields.count <= 2 else {
            throw .badRequest("want URL [PATTERNS], with an http:// or https:// URL")
        }
        url = String(first)
        patterns = fields.count == 2 ? ModulePathPatterns(String(fields[1])) : nil
    }

    public func wants(_ event: ProxyEvent) -> Bool {
        guard let module = event.module, let patterns else { return true }
        return patterns.matches(module)
    }

    /// The URL without credentials or query (for logs and metrics).
    public var description: String { URLDisplayName.of(url) }
}
