import GoModule

/// One supply-chain rule, as written in the `policy` setting:
///
///     deny  PATTERNS [CONSTRAINT] ["REASON"]    refuse matching versions, with the reason
///     allow PATTERNS [CONSTRAINT]               exempt them from the rules after it
///     allow-only PATTERNS                       refuse every module no allow-only names
///
/// PATTERNS are GOPRIVATE-style globs separated by commas (`github.com/evil/*`);
/// CONSTRAINT is a `VersionConstraint` (`< v0.17.0`). The first allow or deny rule that
/// matches decides; a module none matches must then be on an allow-only list, if any.
public struct PolicyRule: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case deny, allow, allowOnly = "allow-only" }

    public let kind: Kind
    public let modules: ModulePathPatterns
    public let versions: VersionConstraint
    public let reason: String?
    public let text: String

    public init(_ line: String) throws(PolicyRuleError) {
        var rest = Substring(line.trimmingCharacters(in: .whitespaces))
        var reason: String?
        if rest.hasSuffix("\""), let open = rest.dropLast().lastIndex(of: "\"") {
            reason = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            rest = rest[..<open]
        }
        let words = rest.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard words.count >= 2, let kind = Kind(rawValue: String(words[0])) else {
            throw PolicyRuleError(description: "want deny, allow or allow-only, then module patterns: \(GoQuote.string(line))")
        }
        let patterns = ModulePathPatterns(String(words[1]))
        for p in patterns.patterns where (try? GlobPattern.match(p, "")) == nil {
            throw PolicyRuleError(description: "malformed pattern \(GoQuote.string(p))")
        }
        let constraint = words.count > 2 ? try VersionConstraint(String(words[2])) : .any
        if kind == .allowOnly && (!constraint.isAny || reason != nil) {
            throw PolicyRuleError(description: "allow-only takes module patterns only: \(GoQuote.string(line))")
        }
        if kind == .allow && reason != nil {
            throw PolicyRuleError(description: "allow takes no reason: \(GoQuote.string(line))")
        }
        self.kind = kind
        self.modules = patterns
        self.versions = constraint
        self.reason = reason.map { ProxyError.oneLine($0) }
        self.text = line.trimmingCharacters(in: .whitespaces)
    }

    /// Whether it covers `module` at `version` (nil: the module as a whole, for `list`
    /// and `@latest`, which only rules without a version constraint refuse).
    public func matches(_ module: String, version: String?) -> Bool {
        guard modules.matches(module) else { return false }
        guard let version else { return versions.isAny }
        return versions.contains(version)
    }

    public var description: String { text }
}
