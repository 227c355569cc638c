/// How long an answer stays right, as the engine knows it; the HTTP layer turns it into
/// `Cache-Control` (`CachePolicy.headerValue` in WarrenServer), other front ends into
/// whatever they speak.
public enum CachePolicy: Sendable, Equatable {
    /// Never changes (`.info` of a canonical version, `.mod`, `.zip`, full sumdb tiles):
    /// may be cached anywhere, for ever.
    case immutable
    /// Right for this many seconds (lists, `@latest`, queries, sumdb heads and lookups).
    case fresh(seconds: Int)
}
