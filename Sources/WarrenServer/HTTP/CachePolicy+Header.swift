import WarrenCore

extension CachePolicy {
    /// The `Cache-Control` value for this policy.
    var headerValue: String {
        switch self {
        case .immutable: return "public, max-age=31536000, immutable"
        case .fresh(let seconds): return "public, max-age=\(max(0, seconds))"
        }
    }
}
