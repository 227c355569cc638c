/// Everything a request's access check needs, in memory: the policy, the authenticator
/// (with its token cache and failure limiter), and where security events go.
public struct AccessControl: Sendable {
    /// The rules in force; every copy of this value shares them, so a reload
    /// (`replacePolicy`) reaches both request paths at once.
    public var policy: AccessPolicy { livePolicy.withLock { $0 } }
    private let livePolicy: SharedMutex<AccessPolicy>
    public let authenticator: Authenticator
    public let audit: AuditLog?

    public init(policy: AccessPolicy, authenticator: Authenticator, audit: AuditLog?) {
        self.livePolicy = SharedMutex(policy)
        self.authenticator = authenticator
        self.audit = audit
    }

    /// Puts reloaded rules (`--anonymous`, `permissions`, `--hide-forbidden`,
    /// `--metrics-access`) in force for every request from now on.
    public func replacePolicy(_ policy: AccessPolicy) {
        livePolicy.withLock { $0 = policy }
    }

    /// The outcome for a request: who asks, and whether they may have `module` (nil:
    /// not a module's request; only authentication is checked).
    public enum Verdict: Sendable, Equatable {
        case granted(Principal, fetch: Bool)
        case unauthenticated(String)
        case forbidden(String)
        case hidden
        case throttled(retryAfter: Int)
        case unavailable(String)
    }

    /// For the ordinary path: a token not known here yet is looked up first.
    public func check(authorization: String?, address: String?, module: String?) async -> Verdict {
        decide(await authenticator.authenticateLookingUp(authorization: authorization, address: address), module: module)
    }

    func decide(_ outcome: Authenticator.Outcome, module: String?) -> Verdict {
        switch outcome {
        case .throttled(let wait):
            return .throttled(retryAfter: wait)
        case .unavailable(let reason):
            return .unavailable(reason)
        case .rejected(let reason):
            return .unauthenticated(reason)
        case .principal(let principal):
            guard let module else { return .granted(principal, fetch: false) }
            switch policy.decide(principal, module: module) {
            case .allowed(let fetch): return .granted(principal, fetch: fetch)
            case .unauthenticated(let reason): return .unauthenticated(reason)
            case .forbidden(let reason): return .forbidden(reason)
            case .hidden: return .hidden
            }
        }
    }
}
