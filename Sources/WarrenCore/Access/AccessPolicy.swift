import GoModule

/// Who may do what, from the settings: what callers without a token may do
/// (`--anonymous`), the `permissions` rules, and how refusals are answered.
///
/// Rules claim module paths: a module that some rule's patterns name is open only to
/// the principals those rules name (with the rights they give); a module no rule names
/// is open to every caller at the `--anonymous` level. So a rule for
/// `git.corp.example.com/*` is all it takes to close the company's modules to callers
/// without a token. The pattern `*` alone names no module in particular: a rule with it
/// closes nothing and grants its rights on the modules no other rule names
/// (`authenticated read,fetch *`: any token holder may fetch public modules, and still
/// not the company's); `admin` from such a rule (`user:root admin *`) holds everywhere. A token's scopes narrow what its user may do, never widen it, and
/// a token never gives less than no token.
public struct AccessPolicy: Sendable, Equatable {
    /// What every caller may do on modules no rule claims (nil: nothing, `--anonymous off`).
    public var anonymous: AccessRight?
    public var rules: [AccessRule]
    /// Answer 404 instead of 403 for a module the caller may not read, so its existence
    /// does not leak.
    public var hideForbidden: Bool
    /// Who may read `/metrics` (probes are never restricted).
    public var metrics: MetricsAccess

    public enum MetricsAccess: String, Sendable, CaseIterable {
        case anonymous, authenticated, admin

        /// Anyone may read metrics.
        public var isOpen: Bool { self == .anonymous }
    }

    /// Today's open door: everyone may read and fetch everything.
    public static let open = AccessPolicy(anonymous: .fetch, rules: [], hideForbidden: false, metrics: .anonymous)

    public init(anonymous: AccessRight?, rules: [AccessRule], hideForbidden: Bool, metrics: MetricsAccess) {
        self.anonymous = anonymous
        self.rules = rules
        self.hideForbidden = hideForbidden
        self.metrics = metrics
    }

    /// Whether any caller needs a token for anything (else requests skip authentication
    /// unless they carry credentials).
    public var isOpen: Bool { anonymous == .fetch && rules.isEmpty && metrics == .anonymous }

    /// What `principal` may do with `module`.
    public func rights(of principal: Principal, on module: String) -> Set<AccessRight> {
        let claimed = isClaimed(module)
        var rights: Set<AccessRight> = []
        for rule in rules where rule.who.includes(principal) && rule.modules.matches(module) {
            // A `*` rule reaches a named module only with admin.
            if !claimed || rule.claims(module) || rule.rights.contains(.admin) { rights.formUnion(rule.rights) }
        }
        let everyone: Set<AccessRight> = claimed ? [] : (anonymous?.granted ?? [])
        rights.formUnion(everyone)
        if case .user(let identity) = principal, !identity.scopes.isEmpty {
            var scoped: Set<AccessRight> = []
            for scope in identity.scopes where scope.modules.matches(module) { scoped.formUnion(scope.rights) }
            // Never more than the owner has, never less than no token at all.
            rights = rights.intersection(scoped).union(self.rights(of: .anonymous, on: module))
        }
        return rights
    }

    /// Whether some rule protects `module` (its answers are then not for shared caches,
    /// and downloads of it are audited).
    public func isClaimed(_ module: String) -> Bool {
        rules.contains { $0.claims(module) }
    }

    /// Whether `principal` administers Warren as a whole (tokens, audit): `admin` on `*`.
    public func isAdministrator(_ principal: Principal) -> Bool {
        guard case .user = principal else { return false }
        return rights(of: principal, on: "*").contains(.admin)
    }

    /// The answer to a request for `module` by `principal`.
    public func decide(_ principal: Principal, module: String) -> AccessDecision {
        let rights = rights(of: principal, on: module)
        if rights.contains(.read) { return .allowed(fetch: rights.contains(.fetch)) }
        switch principal {
        case .anonymous:
            return .unauthenticated("\(module) needs a Warren token: put one in .netrc (machine HOST login USER password TOKEN)")
        case .user(let identity):
            if hideForbidden { return .hidden }
            return .forbidden("\(identity.name) may not read \(module)")
        }
    }

    /// Who may read `/metrics`.
    public func mayReadMetrics(_ principal: Principal) -> Bool {
        switch metrics {
        case .anonymous: return true
        case .authenticated: if case .user = principal { return true } else { return false }
        case .admin: return isAdministrator(principal)
        }
    }

    /// Patterns of `private` (fetched with the company's credentials) that no rule
    /// claims: anyone who may reach Warren at the anonymous level can read those.
    public func unprotected(_ privatePatterns: ModulePathPatterns) -> [String] {
        guard anonymous != nil else { return [] }
        return privatePatterns.patterns.filter { pattern in
            !rules.contains { rule in rule.modules.patterns.contains(pattern) || rule.modules.matches(pattern) }
        }
    }
}

/// What a request for a module gets.
public enum AccessDecision: Sendable, Equatable {
    /// Served; `fetch`: what is not cached may be fetched.
    case allowed(fetch: Bool)
    /// 401: credentials are needed (missing, or not good).
    case unauthenticated(String)
    /// 403, with the reason the go command prints.
    case forbidden(String)
    /// 404, as if the module did not exist.
    case hidden
}
