import WarrenCore

extension CachePolicy {
    /// The `Cache-Control` value for this policy.
    var headerValue: String { headerValue(shared: true) }

    /// `shared` false: `private`, so no shared cache (a CDN, a company proxy) keeps an
    /// answer that only some callers may have.
    func headerValue(shared: Bool) -> String {
        let scope = shared ? "public" : "private"
        switch self {
        case .immutable: return "\(scope), max-age=31536000, immutable"
        case .fresh(let seconds): return "\(scope), max-age=\(max(0, seconds))"
        }
    }
}
